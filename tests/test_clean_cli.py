"""``python -m backend clean``: writes the cleaned file, re-applies recipes, refuses bad pipelines."""

import json
import subprocess
import sys

import mne
import pytest

from backend.cli import main
from tests.conftest import ROOT


def test_clean_writes_fif_with_same_shape(physionet_file, tmp_path, capsys):
    out = tmp_path / "clean.fif"
    script = tmp_path / "clean.py"
    rc = main(
        [
            "clean",
            str(physionet_file),
            "--steps",
            "bandpass:1,40;reref:average;notch:60;bad_channels:methods=flat",
            "--out",
            str(out),
            "--script",
            str(script),
            "--json",
        ]
    )
    assert rc == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [s["name"] for s in result["steps"]] == ["bandpass", "reref", "notch", "bad_channels"]
    assert result["steps"][3]["report"]["by_method"] == {"flat": []}
    raw = mne.io.read_raw_fif(out, verbose="error")
    original = mne.io.read_raw_edf(physionet_file, verbose="error")
    assert len(raw.ch_names) == len(original.ch_names) and raw.n_times == original.n_times
    assert raw.info["sfreq"] == original.info["sfreq"]
    assert "NoisyChannels(" in script.read_text()


def test_clean_reapplies_a_saved_recipe(eeglab_files, physionet_file, tmp_path, capsys):
    recipe_file = tmp_path / "pipeline.json"
    recipe_file.write_text(
        json.dumps(
            {
                "eeg_explorer_recipe": 1,
                "steps": [
                    {"name": "bandpass", "params": {"l_freq": 1.0, "h_freq": 30.0}},
                    {"name": "resample", "params": {"sfreq": 100.0}},
                ],
            }
        )
    )
    out = tmp_path / "other.fif"
    assert main(["clean", *map(str, eeglab_files), "--recipe", str(recipe_file), "--out", str(out)]) == 0
    raw = mne.io.read_raw_fif(out, verbose="error")
    assert raw.info["sfreq"] == 100.0 and len(raw.ch_names) == 32
    assert "[2/2] resample" in capsys.readouterr().out


def test_malformed_pipeline_exits_2_with_one_line(physionet_file, tmp_path):
    """The real process: status 2, one line on stderr, nothing written."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "backend",
            "clean",
            str(physionet_file),
            "--steps",
            "bandpass:1,40;nonsense",
            "--out",
            str(tmp_path / "x.fif"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: unknown step 'nonsense'") and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.fif").exists()


@pytest.mark.parametrize("steps", ["asr:cutoff=high", "bandpass:1,2,3", ""])
def test_malformed_pipelines_refused_before_reading(physionet_file, tmp_path, capsys, steps):
    assert main(["clean", str(physionet_file), "--steps", steps, "--out", str(tmp_path / "x.fif")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.fif").exists()


def test_step_failing_on_the_data_exits_2(physionet_file, tmp_path, capsys):
    rc = main(["clean", str(physionet_file), "--steps", "reref:mastoids", "--out", str(tmp_path / "x.fif")])
    assert rc == 2
    assert "mastoids" in capsys.readouterr().err


def test_clean_runs_the_denoiser_on_the_threads_asked_for(physionet_file, tmp_path, capsys, monkeypatch):
    """The command line, alone on the machine, gives the `art` step the threads it is told (all cores
    by default); the step's own default, one thread for jobs sharing the workers, comes back after."""
    import torch

    from backend.denoise import inference

    seen = []
    denoise_array = inference.denoise_array

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return denoise_array(*args, **kwargs)

    monkeypatch.setattr(inference, "denoise_array", spy)
    threads_before = torch.get_num_threads()
    for threads in ("1", "2"):
        out = tmp_path / f"art{threads}_raw.fif"
        assert main(["clean", str(physionet_file), "--steps", "art", "--threads", threads, "--out", str(out)]) == 0
        assert out.exists()
    assert seen == [1, 2]
    assert inference.step_threads == 1 and torch.get_num_threads() == threads_before
    assert main(["clean", str(physionet_file), "--steps", "art", "--threads", "0", "--out", str(out)]) == 2
    assert "--threads must be at least 1" in capsys.readouterr().err
