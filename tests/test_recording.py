"""Recording steps, history, recipe replay and the exported MNE-Python script."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from backend import recipe
from backend.errors import EEGError
from backend.io import load_recording


def test_a_step_never_mutates_the_callers_recording(eeglab_recording):
    before_names = list(eeglab_recording.raw.ch_names)
    renamed = eeglab_recording.apply("rename_channels", mapping={"Fz": "FZ_renamed"})
    marked = renamed.apply("set_bads", bads=["Cz"])
    assert eeglab_recording.raw.ch_names == before_names and eeglab_recording.raw.info["bads"] == []
    assert "FZ_renamed" in renamed.raw.ch_names and renamed.raw.info["bads"] == []
    assert marked.raw.info["bads"] == ["Cz"]
    assert [s.name for s in marked.history] == ["load", "rename_channels", "set_bads"]
    assert len({eeglab_recording.key, renamed.key, marked.key}) == 3


def test_channel_steps_refuse_bad_values(eeglab_recording):
    with pytest.raises(EEGError, match="no channel named"):
        eeglab_recording.apply("set_bads", bads=["NotAChannel"])
    with pytest.raises(EEGError, match="unique"):
        eeglab_recording.apply("rename_channels", mapping={"Fz": "Cz"})
    with pytest.raises(EEGError, match="unknown channel type"):
        eeglab_recording.apply("set_channel_types", mapping={"Fz": "brainwave"})
    with pytest.raises(EEGError, match="unknown step"):
        eeglab_recording.apply("no_such_step")


def test_recipe_replays_to_the_same_recording(eeglab_files, eeglab_recording):
    done = eeglab_recording.apply("set_channel_types", mapping={"Fz": "misc"}).apply("set_bads", bads=["Cz"])
    parsed = recipe.parse_recipe(recipe.recipe_json(done))
    again = recipe.replay(parsed, load_recording(eeglab_files))
    assert again.key == done.key
    assert again.raw.info["bads"] == ["Cz"] and again.raw.get_channel_types(picks=["Fz"]) == ["misc"]


def test_recipe_from_a_user_is_checked_before_anything_runs():
    with pytest.raises(EEGError, match="not valid JSON"):
        recipe.parse_recipe("{not json")
    with pytest.raises(EEGError, match="not an EEG Explorer recipe"):
        recipe.parse_recipe(json.dumps({"steps": []}))
    with pytest.raises(EEGError, match="unknown step"):
        recipe.parse_recipe(json.dumps({"eeg_explorer_recipe": 1, "steps": [{"name": "os.system", "params": {}}]}))


def test_exported_script_reproduces_the_recording(tmp_path, eeglab_files, eeglab_recording):
    done = eeglab_recording.apply("rename_channels", mapping={"Fz": "Fz_x"}).apply("set_bads", bads=["Cz"])
    for f in eeglab_files:
        (tmp_path / f.name).write_bytes(f.read_bytes())
    (tmp_path / "pipeline.py").write_text(recipe.to_script(done))
    proc = subprocess.run([sys.executable, "pipeline.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = load_recording([tmp_path / "eeglab_data_explorer_raw.fif"])
    assert out.raw.ch_names == done.raw.ch_names
    assert out.raw.info["bads"] == ["Cz"]
    np.testing.assert_allclose(out.raw.get_data(), done.raw.get_data(), atol=1e-9)
    ours = done.raw.get_montage().get_positions()["ch_pos"]["F3"]
    theirs = out.raw.get_montage().get_positions()["ch_pos"]["F3"]
    np.testing.assert_allclose(theirs, ours, atol=1e-6)
