"""Pipeline strings, saved pipelines re-applied to another upload, and the step list the page offers."""

import numpy as np
import pytest

from backend import recipe, steps
from backend.clean.pipeline import (
    cleaning_steps,
    format_pipeline,
    load_pipeline,
    parse_pipeline,
    pipeline_json,
    pipeline_of,
    run_pipeline,
    step_parameters,
)
from backend.errors import EEGError


def test_parse_positional_and_keywords():
    pipeline = parse_pipeline(
        "bandpass:1,40; reref:average ;asr:cutoff=20,calib_start_s=0,calib_stop_s=30;"
        "bad_channels:methods=flat+deviation,interpolate=false;ica_iclabel:classes=eye,threshold=0.7"
    )
    assert pipeline == [
        {"name": "bandpass", "params": {"l_freq": 1, "h_freq": 40}},
        {"name": "reref", "params": {"ref": "average"}},
        {"name": "asr", "params": {"cutoff": 20, "calib_start_s": 0, "calib_stop_s": 30}},
        {"name": "bad_channels", "params": {"methods": ["flat", "deviation"], "interpolate": False}},
        {"name": "ica_iclabel", "params": {"classes": ["eye"], "threshold": 0.7}},
    ]
    assert parse_pipeline(format_pipeline(pipeline)) == pipeline
    assert parse_pipeline("bandpass:none,30") == [{"name": "bandpass", "params": {"l_freq": None, "h_freq": 30}}]
    assert parse_pipeline("reref:M1+M2")[0]["params"] == {"ref": ["M1", "M2"]}


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("bandpas:1,40", "unknown step 'bandpas'"),
        ("bandpass:1,40,3", "at most 2"),
        ("bandpass:low=1", "no parameter 'low'"),
        ("bandpass:one,40", "must be a number"),
        ("bandpass:h_freq=40,1", "positional"),
        ("bandpass:1,l_freq=2", "given twice"),
        ("bandpass:1,40;;asr", "empty step"),
        ("bad_channels:interpolate=1", "true or false"),
        ("bad_channels:methods=flat+guess", "guess"),
        ("set_bads:Fp1", "not a cleaning step"),
        ("bandpass:1,,40", "empty argument"),
        ("band pass:1", "malformed step"),
    ],
)
def test_malformed_pipelines_are_refused(text, message):
    with pytest.raises(EEGError, match=message):
        parse_pipeline(text)


def test_run_pipeline_keeps_shape_and_records_history(eeglab_recording):
    calls = []
    out = run_pipeline(
        eeglab_recording,
        parse_pipeline("bandpass:1,40;notch:50;reref:average"),
        progress=lambda i, n, name: calls.append((i, n, name)),
    )
    assert [s.name for s in out.history[1:]] == ["bandpass", "notch", "reref"]
    assert calls == [(0, 3, "bandpass"), (1, 3, "notch"), (2, 3, "reref"), (3, 3, "done")]
    assert out.raw.ch_names == eeglab_recording.raw.ch_names and out.raw.n_times == eeglab_recording.raw.n_times
    assert out.key != eeglab_recording.key
    script = recipe.to_script(out)
    assert "raw.filter(1, 40)" in script and "set_eeg_reference('average'" in script


def test_saved_pipeline_reapplied_to_another_upload(eeglab_recording, physionet_recording):
    first = run_pipeline(eeglab_recording, parse_pipeline("bandpass:1,30;reref:average"))
    saved = pipeline_json(pipeline_of(first))
    again = run_pipeline(physionet_recording, load_pipeline(saved))
    assert [s.to_dict() for s in again.history[1:]] == [s.to_dict() for s in first.history[1:]]
    direct = physionet_recording.raw.copy().load_data().filter(1, 30, verbose="error")
    direct.set_eeg_reference("average", verbose="error")
    assert np.allclose(again.raw.get_data(), direct.get_data(), atol=1e-12)
    # The Load page's recipe replay reads the same file.
    assert [s.name for s in recipe.replay(recipe.parse_recipe(saved), physionet_recording).history[1:]] == [
        "bandpass",
        "reref",
    ]


def test_saved_pipeline_refusals():
    with pytest.raises(EEGError):
        load_pipeline("{not json")
    with pytest.raises(EEGError, match="unknown step"):
        load_pipeline('{"eeg_explorer_recipe": 1, "steps": [{"name": "rm_rf", "params": {}}]}')


def test_cleaning_steps_come_from_the_registry(monkeypatch):
    names = [k.name for k in cleaning_steps()]
    assert names[:8] == [
        "bandpass",
        "notch",
        "resample",
        "reref",
        "bad_channels",
        "interpolate_bads",
        "asr",
        "ica_iclabel",
    ]
    assert "set_bads" not in names and "ica_remove" not in names
    # A step added to the registry's table later appears with no change here.
    monkeypatch.setattr(steps, "_REGISTRY", dict(steps._REGISTRY))
    steps._REGISTRY["art"] = steps.StepKind(
        "art", "backend.denoise.inference", "Transformer denoiser.", {"strength": 1.0}
    )
    assert "art" in [k.name for k in cleaning_steps()]
    assert step_parameters("art") == {"strength": 1.0}
    assert parse_pipeline("bandpass:1,40;art:0.5")[1] == {"name": "art", "params": {"strength": 0.5}}
