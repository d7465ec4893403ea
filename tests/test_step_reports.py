"""Every registered step's real report reads as one line on the Clean page (never a traceback)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from backend import steps
from backend.clean.figures import changes_table, describe_report
from tests.step_examples import PREREQUISITES, STEP_EXAMPLES


@pytest.fixture(scope="module")
def short_recording(eeglab_recording):
    """The first 40 s of the tutorial recording: enough for every step, quick for ICA and ASR."""
    return replace(eeglab_recording, raw=eeglab_recording.raw.copy().crop(0, 40).load_data())


def test_every_registered_step_has_an_example():
    assert sorted(STEP_EXAMPLES) == sorted(kind.name for kind in steps.available())


@pytest.mark.parametrize("name", sorted(STEP_EXAMPLES))
def test_each_steps_report_is_described_in_words(short_recording, name):
    recording = short_recording
    for before, params in PREREQUISITES.get(name, []):
        recording = recording.apply(before, **params)
    after = recording.apply(name, **STEP_EXAMPLES[name])
    step = after.history[-1]
    line = describe_report(step.name, step.report)
    assert line.strip() and "\n" not in line
    # A key describe_report does not know falls back to raw JSON: every report key must be put in words.
    assert "{" not in line and '":' not in line, f"{name}: report {step.report} shown as {line!r}"
    (row,) = changes_table([step])
    assert row["step"] == name and row["changed"] == line
