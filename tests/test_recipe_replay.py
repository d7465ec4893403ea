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

from backend import recipe
from tests.conftest import ROOT
from tests.step_examples import CASES, EEGLAB_ICA, build


def _assert_same(raw: mne.io.BaseRaw, expected: mne.io.BaseRaw, how: str, annotations: bool = True) -> None:
    assert raw.ch_names == expected.ch_names, how
    assert raw.get_channel_types() == expected.get_channel_types(), how
    assert raw.info["sfreq"] == expected.info["sfreq"], how
    assert sorted(raw.info["bads"]) == sorted(expected.info["bads"]), how
    got, want = raw.get_data(), expected.get_data()
    assert got.shape == want.shape, how
    scale = np.abs(want).max()
    assert np.allclose(got, want, rtol=1e-4, atol=1e-5 * scale), (
        f"{how}: largest difference {np.abs(got - want).max() / scale:.2e} of the largest value"
    )
    if not annotations:
        return
    a, b = raw.annotations, expected.annotations
    assert list(a.description) == list(b.description), how
    assert np.allclose(a.onset - raw.first_time, b.onset - expected.first_time, atol=1e-3), how
    assert np.allclose(a.duration, b.duration, atol=1e-3), how


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_script_and_fresh_replay_give_the_steps_output(case, request, tmp_path):
    names = CASES[case][0]
    files, rec = build(case, request, tmp_path)
    files = [str(f) for f in files]

    (tmp_path / "pipeline.py").write_text(recipe.to_script(rec), encoding="utf-8")
    (tmp_path / "recipe.json").write_text(recipe.recipe_json(rec), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT))  # the `art` script imports the backend
    commands = {
        "exported script": [sys.executable, "pipeline.py"],
        "replayed recipe": [
            sys.executable,
            "-m",
            "backend",
            "clean",
            *files,
            "--recipe",
            "recipe.json",
            "--out",
            "replayed_raw.fif",
        ],
    }
    running = {
        how: subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for how, cmd in commands.items()
    }
    for how, proc in running.items():
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"{how} failed:\n{err[-2000:]}"
    script_out = tmp_path / f"{names[0].rsplit('.', 1)[0]}_explorer_raw.fif"  # as to_script names it
    # The loading lines of an epoched EEGLAB file join the epochs but do not rebuild their marks
    # (a gap of the loader's script, not of the step): its signals are compared, not its annotations.
    _assert_same(
        mne.io.read_raw_fif(script_out, verbose="error"), rec.raw, "exported script", annotations=names != EEGLAB_ICA
    )
    _assert_same(mne.io.read_raw_fif(tmp_path / "replayed_raw.fif", verbose="error"), rec.raw, "replayed recipe")
