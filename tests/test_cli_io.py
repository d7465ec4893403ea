"""``python -m backend info`` and ``export``: right figures, and bad input refused with status 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from backend.cli import main
from tests.test_io import SHARED_RECORDINGS, _bad_cases, _files


def _run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("primary", sorted(SHARED_RECORDINGS))
def test_info_json_for_every_shared_recording(shared_data, capsys, primary):
    _, n_channels, sfreq, duration = SHARED_RECORDINGS[primary]
    code, out, _ = _run(["info", *map(str, _files(shared_data, primary)), "--json"], capsys)
    assert code == 0
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["n_channels"] == n_channels == len(summary["channels"])
    assert summary["sfreq"] == sfreq
    assert summary["duration_s"] == pytest.approx(duration, abs=0.05)
    assert {"format", "annotations", "montage"} <= set(summary)
    assert set(summary["montage"]) == {"matched", "unmatched"}


def test_info_text_names_events_and_montage(physionet_file, capsys):
    code, out, _ = _run(["info", str(physionet_file)], capsys)
    assert code == 0
    assert "T1 ×8" in out and "T2 ×7" in out
    assert "64 matched" in out


def test_every_bad_input_exits_2_with_one_line(tmp_path, eeglab_files, physionet_file, capsys):
    for description, files, fragment in _bad_cases(tmp_path, eeglab_files, physionet_file):
        code, out, err = _run(["info", *map(str, files)], capsys)
        assert code == 2, description
        assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err, (description, err)


def test_bad_input_from_a_real_process_has_no_traceback(tmp_path):
    bad = tmp_path / "notes.edf"
    bad.write_text("not an EDF file at all\n" * 30)
    proc = subprocess.run([sys.executable, "-m", "backend", "info", str(bad)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: ") and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_unknown_command_and_missing_argument_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["no-such-command"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["export", "x.edf"])  # --to is required
    assert info.value.code == 2


def test_export_writes_a_loadable_file(tmp_path, eeglab_files, capsys):
    out = tmp_path / "tutorial.vhdr"
    code, printed, _ = _run(["export", *map(str, eeglab_files), "--to", str(out)], capsys)
    assert code == 0 and str(out) in printed
    code, printed, _ = _run(["info", str(out), str(out.with_suffix(".vmrk")), str(out.with_suffix(".eeg")), "--json"], capsys)
    summary = json.loads(printed.strip().splitlines()[-1])
    assert summary["n_channels"] == 32 and summary["format"] == "BrainVision"


def test_export_to_unknown_format_exits_2(tmp_path, physionet_file, capsys):
    code, _, err = _run(["export", str(physionet_file), "--to", str(tmp_path / "x.mat")], capsys)
    assert code == 2 and "cannot export" in err
