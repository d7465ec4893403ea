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
    for description, (files, fragment) in _bad_cases(tmp_path, eeglab_files, physionet_file).items():
        code, out, err = _run(["info", *map(str, files)], capsys)
        assert code == 2, description
        assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err, (description, err)


def test_bad_input_from_a_real_process_has_no_traceback(tmp_path):
    bad = tmp_path / "notes.edf"
    bad.write_text("not an EDF file at all\n" * 30)
    proc = subprocess.run(
        [sys.executable, "-m", "backend", "info", str(bad)], capture_output=True, text=True, timeout=120
    )
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
    code, printed, _ = _run(
        ["info", str(out), str(out.with_suffix(".vmrk")), str(out.with_suffix(".eeg")), "--json"], capsys
    )
    summary = json.loads(printed.strip().splitlines()[-1])
    assert summary["n_channels"] == 32 and summary["format"] == "BrainVision"


def test_export_to_unknown_format_exits_2(tmp_path, physionet_file, capsys):
    code, _, err = _run(["export", str(physionet_file), "--to", str(tmp_path / "x.mat")], capsys)
    assert code == 2 and "cannot export" in err


@pytest.mark.parametrize(
    "primary, n_channels",
    [
        ("eeglab_sample/eeglab_data.set", 32),
        ("brainvision/test_CA_208.vhdr", 88),
        ("clinical_nihonkohden/MB0400FU.EEG", 25),
    ],
)
def test_info_finds_companion_files_beside_the_named_one(shared_data, capsys, primary, n_channels):
    code, out, err = _run(["info", str(shared_data / primary), "--json"], capsys)
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["n_channels"] == n_channels
    assert len(summary["files"]) > 1  # the companions found are part of the recording (and of its hash)


def test_a_companion_missing_beside_the_header_is_named_as_such(shared_data, tmp_path, capsys):
    vhdr = tmp_path / "test_CA_208.vhdr"
    vhdr.write_bytes((shared_data / "brainvision/test_CA_208.vhdr").read_bytes())
    code, _, err = _run(["info", str(vhdr)], capsys)
    assert code == 2
    assert err == "error: test_CA_208.vhdr needs its data file (.eeg) test_CA_208.eeg, which was not found beside it\n"


def test_a_header_pointing_outside_its_folder_is_refused_on_the_command_line_too(shared_data, tmp_path, capsys):
    for ext in (".vmrk", ".eeg"):
        (tmp_path / f"test_CA_208{ext}").symlink_to(shared_data / f"brainvision/test_CA_208{ext}")
    text = (shared_data / "brainvision/test_CA_208.vhdr").read_text(encoding="latin-1")
    vhdr = tmp_path / "test_CA_208.vhdr"
    vhdr.write_text(
        text.replace("DataFile=test_CA_208.eeg", "DataFile=../brainvision/test_CA_208.eeg"), encoding="latin-1"
    )
    code, _, err = _run(["info", str(vhdr)], capsys)
    assert code == 2 and "a path outside the upload; refused" in err


def test_an_upload_never_borrows_files_from_beside_it(shared_data):
    """Uploads keep the strict rule: only the files uploaded together count."""
    from backend.errors import EEGError
    from backend.io import load_recording

    with pytest.raises(EEGError, match="test_CA_208.eeg, which was not uploaded with it"):
        load_recording([shared_data / "brainvision/test_CA_208.vhdr"])
    with pytest.raises(EEGError, match="eeglab_data.fdt, which was not uploaded with it"):
        load_recording([shared_data / "eeglab_sample/eeglab_data.set"])
