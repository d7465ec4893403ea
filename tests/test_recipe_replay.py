"""Every registered step, three ways: in this process, as the exported MNE-Python script,
and replayed from its recipe by ``python -m backend clean --recipe`` in a fresh process.

All three must give the same signals (the script and the CLI write FIF, stored as
32-bit floats, hence the tolerance), channels, bads and annotations. A fresh process
has no cache, so a step that read one (the stored ICA did) fails here.
"""

from __future__ import annotations

import os
import subprocess
import sys

import mne
import numpy as np
import pytest

from backend import recipe, steps
from backend.components.ica import from_stored, removal_params
from backend.config import SAMPLES
from backend.io import load_recording
from tests.conftest import ROOT

PHYSIONET = ("S001R04.edf",)
EEGLAB = ("eeglab_data.set", "eeglab_data.fdt")
EEGLAB_ICA = ("eeglab_data_epochs_ica.set", "eeglab_data_epochs_ica.fdt")  # in ../shared/data/eeglab_sample


def _stored_removal(rec):
    return removal_params(from_stored(rec.raw, rec.ica), [0, 2], rec.name)


# step -> (files, the steps up to and including it); a params callable receives the recording so far.
CASES = {
    "rename_channels": (PHYSIONET, [("rename_channels", {"mapping": {"FC5": "FC5x", "Cz": "vertex"}})]),
    "set_channel_types": (PHYSIONET, [("set_channel_types", {"mapping": {"Fp1": "eog", "Fp2": "eog"}})]),
    "set_bads": (PHYSIONET, [("set_bads", {"bads": ["FC5", "T9"]})]),
    "ica_remove": (EEGLAB, [("ica_remove", {"method": "fastica", "n_components": 10, "exclude": [0, 3]})]),
    "ica_remove:stored": (EEGLAB_ICA, [("ica_remove", _stored_removal)]),
    "ica_iclabel": (EEGLAB, [("ica_iclabel", {"method": "fastica", "n_components": 10, "threshold": 0.5})]),
    "add_annotation": (PHYSIONET, [("add_annotation", {"onset": 12.5, "duration": 1.25, "description": "blink"})]),
    "edit_annotation": (PHYSIONET, [("edit_annotation", {"index": 2, "onset": 9.0, "duration": 0.5,
                                                         "description": "moved"})]),
    "delete_annotation": (PHYSIONET, [("delete_annotation", {"index": 1})]),
    "import_annotations": (PHYSIONET, [("import_annotations", {"rows": [[1.0, 0.5, "a"], [30.25, 0.0, "b"]]})]),
    "bandpass": (PHYSIONET, [("bandpass", {"l_freq": 1.0, "h_freq": 30.0})]),
    "notch": (PHYSIONET, [("notch", {"freq": 30.0})]),
    "resample": (PHYSIONET, [("resample", {"sfreq": 100.0})]),
    "reref": (PHYSIONET, [("reref", {"ref": ["C3", "C4"]})]),
    "bad_channels": (PHYSIONET, [("bad_channels", {"methods": ["flat", "deviation", "correlation"]})]),
    "interpolate_bads": (PHYSIONET, [("set_bads", {"bads": ["C3", "Oz"]}), ("interpolate_bads", {})]),
    "asr": (PHYSIONET, [("asr", {"cutoff": 10.0, "calib_start_s": 0.0, "calib_stop_s": 60.0})]),
    "art": (PHYSIONET, [("art", {"overlap_s": 1.0})]),
}


def test_every_registered_step_has_a_case():
    assert {case.split(":")[0] for case in CASES} == {kind.name for kind in steps.available()}


def _files(names, request) -> list:
    if names == EEGLAB_ICA:
        return [request.getfixturevalue("shared_data") / "eeglab_sample" / n for n in names]
    return [SAMPLES / n for n in names]


def _assert_same(raw: mne.io.BaseRaw, expected: mne.io.BaseRaw, how: str, annotations: bool = True) -> None:
    assert raw.ch_names == expected.ch_names, how
    assert raw.get_channel_types() == expected.get_channel_types(), how
    assert raw.info["sfreq"] == expected.info["sfreq"], how
    assert sorted(raw.info["bads"]) == sorted(expected.info["bads"]), how
    got, want = raw.get_data(), expected.get_data()
    assert got.shape == want.shape, how
    scale = np.abs(want).max()
    assert np.allclose(got, want, rtol=1e-4, atol=1e-5 * scale), (
        f"{how}: largest difference {np.abs(got - want).max() / scale:.2e} of the largest value")
    if not annotations:
        return
    a, b = raw.annotations, expected.annotations
    assert list(a.description) == list(b.description), how
    assert np.allclose(a.onset - raw.first_time, b.onset - expected.first_time, atol=1e-3), how
    assert np.allclose(a.duration, b.duration, atol=1e-3), how


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_script_and_fresh_replay_give_the_steps_output(case, request, tmp_path):
    names, pipeline = CASES[case]
    for source in _files(names, request):
        (tmp_path / source.name).symlink_to(source)
    files = [str(tmp_path / n) for n in names]
    rec = load_recording(files)
    for name, params in pipeline:
        rec = rec.apply(name, **(params(rec) if callable(params) else params))

    (tmp_path / "pipeline.py").write_text(recipe.to_script(rec), encoding="utf-8")
    (tmp_path / "recipe.json").write_text(recipe.recipe_json(rec), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT))  # the `art` script imports the backend
    commands = {
        "exported script": [sys.executable, "pipeline.py"],
        "replayed recipe": [sys.executable, "-m", "backend", "clean", *files, "--recipe", "recipe.json",
                            "--out", "replayed_raw.fif"],
    }
    running = {how: subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True) for how, cmd in commands.items()}
    for how, proc in running.items():
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"{how} failed:\n{err[-2000:]}"
    script_out = tmp_path / f"{names[0].rsplit('.', 1)[0]}_explorer_raw.fif"  # as to_script names it
    # The loading lines of an epoched EEGLAB file join the epochs but do not rebuild their marks
    # (a gap of the loader's script, not of the step): its signals are compared, not its annotations.
    _assert_same(mne.io.read_raw_fif(script_out, verbose="error"), rec.raw, "exported script",
                 annotations=names != EEGLAB_ICA)
    _assert_same(mne.io.read_raw_fif(tmp_path / "replayed_raw.fif", verbose="error"), rec.raw, "replayed recipe")
