"""Every registered step's real report reads as one line on the Clean page (never a traceback)."""

from __future__ import annotations

import pytest

from backend.clean.figures import changes_table, describe_report
from tests.step_examples import CASES, build


@pytest.mark.parametrize("case", list(CASES))
def test_each_steps_report_is_described_in_words(case, request, tmp_path):
    _, rec = build(case, request, tmp_path)
    step = rec.history[-1]
    line = describe_report(step.name, step.report)
    assert line.strip() and "\n" not in line
    # A key describe_report does not know falls back to raw JSON: every report key must be put in words.
    assert "{" not in line and '":' not in line, f"{case}: report {step.report} shown as {line!r}"
    (row,) = changes_table([step])
    assert row["step"] == step.name and row["changed"] == line
