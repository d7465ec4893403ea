"""Every registered step's real report reads as one line on the Clean page (never a traceback)."""

from __future__ import annotations

import pytest

from backend import steps
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
    kind = steps.get(step.name)
    assert row["step"] == kind.title and row["changed"] == line
    # People's words: the settings never repeat the step's name, and no code (names, JSON, null) shows through.
    assert kind.title.lower() not in row["parameters"].lower() and step.name not in row["parameters"]
    words = step.label()  # the history's line
    assert "null" not in words and "=" not in words and "{" not in words, words
    assert "_" not in step.name or step.name not in words, words


def test_the_reports_line_names_each_step_in_words():
    from backend.clean.figures import changes_line
    from backend.recording import Step

    history = [Step("bandpass", {"l_freq": 1.0, "h_freq": None}, {"band_hz": [1.0, None]}), Step("art", {}, {})]
    assert changes_line(history) == "Low cut 1 Hz: high-pass at 1 Hz; Transformer denoiser: done"
