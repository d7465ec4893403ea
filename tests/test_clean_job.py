"""``backend.clean.job``: which pipelines are heavy, and the stage's stored result rebuilding the same recording."""

from __future__ import annotations

import numpy as np
import pytest

from backend.clean.job import cleaned, needs_job, result_name, run
from backend.clean.pipeline import parse_pipeline, run_pipeline
from backend.errors import EEGError


@pytest.fixture(scope="module")
def short(eeglab_recording):
    """The first 30 s of the EEGLAB tutorial: short enough for light work in the server."""
    from dataclasses import replace

    return replace(eeglab_recording, raw=eeglab_recording.raw.copy().crop(0, 30))


def test_the_rule_more_than_a_minute_or_a_heavy_step(eeglab_recording, short):
    light = parse_pipeline("bandpass:1,40;notch:50;reref:average")
    assert eeglab_recording.duration_s > 60 and needs_job(eeglab_recording, light)
    assert not needs_job(short, light)
    for heavy in ("asr", "ica_iclabel", "art"):
        assert needs_job(short, parse_pipeline(f"bandpass:1,40;{heavy}"))


def test_the_stored_result_rebuilds_what_the_server_would_have_computed(short):
    pipeline = parse_pipeline("bandpass:1,30;reref:average")
    seen = []
    output = run(short, {"pipeline": pipeline, "steps_key": short.steps_key}, lambda f, t="": seen.append(t))
    assert output.name == result_name(short.steps_key, pipeline)
    assert [h["name"] for h in output.payload["history"]] == ["bandpass", "reref"]
    assert output.payload["history"][0]["report"]  # each step's report travels with it
    assert seen[0] == "step 1 of 2: Band-pass filter" and seen[-1] == "writing the cleaned recording"

    here = run_pipeline(short, pipeline)
    rebuilt = cleaned(short, output.payload, output.blob)
    assert rebuilt.key == here.key  # same history: the page's caches and the Library's state agree
    assert [s.report for s in rebuilt.history] == [s.report for s in here.history]
    np.testing.assert_allclose(rebuilt.raw.get_data(), here.raw.get_data(), rtol=0, atol=1e-12)


def test_a_result_of_another_state_is_refused_in_one_line(short):
    pipeline = parse_pipeline("notch:50")
    output = run(short, {"pipeline": pipeline}, lambda *a: None)
    changed = short.apply("reref", ref="average")
    with pytest.raises(EEGError, match=r"^this cleaning result belongs to another state of the recording; run"):
        cleaned(changed, output.payload, output.blob)
    with pytest.raises(EEGError, match=r"^the recording was changed since the pipeline was started; run it again$"):
        run(changed, {"pipeline": pipeline, "steps_key": short.steps_key}, lambda *a: None)
