"""Loading every real recording, exporting and re-loading, and refusing bad files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from backend.errors import EEGError
from backend.io import export_recording, load_recording
from tests.loader_worker import LoaderWorker

# file(s) relative to ../shared/data -> (channels, rate, duration in s) from its README
SHARED_RECORDINGS = {
    "eeglab_sample/eeglab_data.set": (["eeglab_sample/eeglab_data.fdt"], 32, 128.0, 238.3),
    "eegbci_physionet/S001/S001R04.edf": ([], 64, 160.0, 125.0),
    "eegbci_physionet/S002/S002R08.edf": ([], 64, 160.0, 123.0),
    "bdf/multiple_annotation_chans.bdf": ([], 19, 125.0, 247.0),
    "bdf/test.bdf": ([], 73, 2048.0, 1.0),
    "bdf/test_bdf_stim_channel.bdf": ([], 4, 500.0, 10.0),
    "brainvision/test_CA_208.vhdr": (["brainvision/test_CA_208.vmrk", "brainvision/test_CA_208.eeg"], 88, 1000.0, 4.03),
    "brainvision/bv_dig_test.vhdr": (["brainvision/bv_dig_test.vmrk", "brainvision/bv_dig_test.eeg"], 67, 5000.0, 1.0),
    "clinical_nihonkohden/MB0400FU.EDF": ([], 25, 200.0, 29.0),
    "clinical_nihonkohden/MB0400FU.EEG": (
        ["clinical_nihonkohden/MB0400FU.21E", "clinical_nihonkohden/MB0400FU.PNT", "clinical_nihonkohden/MB0400FU.LOG"],
        25,
        200.0,
        29.0,
    ),
    "edf_biosemi/test.edf": ([], 139, 512.0, 6.0),
    "fif_yasa/data_resting_EO_200Hz_raw.fif": ([], 2, 200.0, 360.0),
    "sleep/data_N2_spindles_15sec_200Hz.txt": ([], 1, 200.0, 15.0),
}


def _files(shared_data: Path, primary: str) -> list[Path]:
    return [shared_data / primary] + [shared_data / c for c in SHARED_RECORDINGS[primary][0]]


@pytest.mark.parametrize("primary", sorted(SHARED_RECORDINGS))
def test_every_shared_recording_loads_with_its_figures(shared_data, primary):
    _, n_channels, sfreq, duration = SHARED_RECORDINGS[primary]
    rec = load_recording(_files(shared_data, primary))
    assert len(rec.raw.ch_names) == n_channels
    assert rec.raw.info["sfreq"] == sfreq
    assert rec.duration_s == pytest.approx(duration, abs=0.05)
    summary = rec.summary()
    assert summary["n_channels"] == n_channels
    assert sum(summary["channel_types"].values()) == n_channels


def test_large_edf_is_read_lazily(physionet_file):
    rec = load_recording([physionet_file])
    assert not rec.raw.preload  # only pages are read, never the whole file as float64


def test_physionet_names_are_cleaned_to_10_05(physionet_recording):
    names = physionet_recording.raw.ch_names
    assert "FC5" in names and "Fp1" in names and "Cz" in names
    assert not any(n.endswith(".") for n in names)
    match = physionet_recording.summary()["montage"]
    assert len(match["matched"]) == 64 and match["unmatched"] == []


def test_clinical_names_and_types(shared_data):
    rec = load_recording([shared_data / "clinical_nihonkohden/MB0400FU.EDF"])
    assert "Fp2" in rec.raw.ch_names  # from 'EEG Fp2-Ref'
    unmatched = rec.summary()["montage"]["unmatched"]
    assert unmatched and all(n.startswith("POL") for n in unmatched)  # reported, never guessed


def test_eog_and_stim_inferred_from_names(shared_data, eeglab_recording):
    types = dict(zip(eeglab_recording.raw.ch_names, eeglab_recording.raw.get_channel_types()))
    assert types["EOG1"] == "eog" and types["EOG2"] == "eog"
    bdf = load_recording([shared_data / "bdf/test_bdf_stim_channel.bdf"])
    assert bdf.raw.get_channel_types()[-1] == "stim"


def test_numbered_cap_is_not_matched_to_10_20(shared_data):
    rec = load_recording([shared_data / "edf_biosemi/test.edf"])
    assert rec.summary()["montage"]["matched"] == []  # its 'F3' is a cap position, not 10-20 F3


def test_epoched_eeglab_carries_its_ica(shared_data):
    base = shared_data / "eeglab_sample"
    rec = load_recording([base / "eeglab_data_epochs_ica.set", base / "eeglab_data_epochs_ica.fdt"])
    assert rec.ica is not None and rec.ica.n_components_ == 32
    assert rec.duration_s == pytest.approx(80 * 3.0, abs=0.1)
    assert rec.summary()["annotations"]["boundary"] == 79


# --- export round trips ------------------------------------------------------------

# Largest difference allowed after a round trip, relative to the data's range: float
# formats keep float32 precision; EDF stores 16-bit integers over one physical range
# shared by all channels (MNE's export), so one step is range / 65535.
RESOLUTION = {"fif": 1e-6, "set": 1e-6, "vhdr": 1e-4, "edf": 1 / 65535}


@pytest.mark.parametrize("ext", sorted(RESOLUTION))
def test_export_round_trip_keeps_data(tmp_path, eeglab_recording, ext):
    written = export_recording(eeglab_recording, tmp_path / f"out.{ext}")
    back = load_recording(written)
    original = eeglab_recording.raw.get_data()
    assert back.raw.ch_names == eeglab_recording.raw.ch_names
    assert back.raw.info["sfreq"] == eeglab_recording.raw.info["sfreq"]
    data = back.raw.get_data()
    assert data.shape == original.shape
    span = original.max() - original.min()
    assert np.abs(data - original).max() <= RESOLUTION[ext] * span


def test_export_round_trip_keeps_annotations(tmp_path, physionet_recording):
    back = load_recording(export_recording(physionet_recording, tmp_path / "mi.edf"))
    assert back.summary()["annotations"] == physionet_recording.summary()["annotations"]


def test_export_refuses_unknown_extension(tmp_path, eeglab_recording):
    with pytest.raises(EEGError, match="cannot export"):
        export_recording(eeglab_recording, tmp_path / "out.mat")


# --- bad input, each made from a real file -----------------------------------------


def _copy(src: Path, dst_dir: Path, name: str | None = None) -> Path:
    dst = dst_dir / (name or src.name)
    shutil.copyfile(src, dst)
    return dst


def _bad_cases(tmp: Path, eeglab_files, physionet_file) -> dict[str, tuple[list[Path], str]]:
    """Each bad input of the issue: description -> (files, expected message fragment)."""
    edf = physionet_file.read_bytes()
    cases = {}

    (tmp / "unknown.xyz").write_bytes(bytes(range(256)) * 16)
    cases["unknown format"] = ([tmp / "unknown.xyz"], "unknown format")

    (tmp / "empty.edf").write_bytes(b"")
    cases["empty file"] = ([tmp / "empty.edf"], "is empty")

    (tmp / "notes.edf").write_text("These are my notes about the recording.\n" * 20)
    cases["text renamed .edf"] = ([tmp / "notes.edf"], "not an EDF file")

    (tmp / "truncated_header.edf").write_bytes(edf[:200])
    cases["truncated header"] = ([tmp / "truncated_header.edf"], "header is truncated")

    corrupted = bytearray(edf)
    corrupted[236:244] = b"abcdefgh"  # number of data records
    (tmp / "corrupted.edf").write_bytes(bytes(corrupted))
    cases["corrupted header"] = ([tmp / "corrupted.edf"], "corrupted")

    (tmp / "short.edf").write_bytes(edf[: len(edf) // 2])
    cases["data shorter than header"] = ([tmp / "short.edf"], "shorter than the header")

    header_only = edf[: 256 * 65]
    (tmp / "nosamples.edf").write_bytes(header_only)
    cases["zero samples"] = ([tmp / "nosamples.edf"], "zero samples")

    zero_ch = bytearray(edf[:256])
    zero_ch[252:256] = b"0   "
    zero_ch[184:192] = b"256     "
    (tmp / "nochannels.edf").write_bytes(bytes(zero_ch) + b"\0" * 1024)
    cases["zero channels"] = ([tmp / "nochannels.edf"], "zero channels")

    set_only = _copy(eeglab_files[0], tmp)
    cases[".set without .fdt"] = ([set_only], "eeglab_data.fdt")

    # Found by the fuzzer: one zero byte inserted into a MATLAB element tag of the .set makes scipy's
    # reader crash the process that parses it (segmentation fault) most of the time, and raise otherwise.
    crashing = tmp / "crashing"
    crashing.mkdir()
    original = eeglab_files[0].read_bytes()
    (crashing / "eeglab_data.set").write_bytes(original[:1056] + b"\0" + original[1056:])
    _copy(eeglab_files[1], crashing)
    cases["MATLAB structure that crashes scipy"] = (sorted(crashing.iterdir()), "is not a readable EEGLAB .set file")
    return cases


BAD_CASES = [
    "unknown format",
    "empty file",
    "text renamed .edf",
    "truncated header",
    "corrupted header",
    "data shorter than header",
    "zero samples",
    "zero channels",
    ".set without .fdt",
    "MATLAB structure that crashes scipy",
]


@pytest.fixture(scope="module")
def loader():
    """Bad files are loaded in a watched process: a parser that crashes fails one case, not the run."""
    worker = LoaderWorker()
    yield worker
    worker.close()


@pytest.mark.parametrize("case", BAD_CASES)
def test_each_bad_input_is_refused_with_one_line(tmp_path, eeglab_files, physionet_file, loader, case):
    cases = _bad_cases(tmp_path, eeglab_files, physionet_file)
    assert sorted(cases) == sorted(BAD_CASES)
    files, fragment = cases[case]
    result = loader.load(files)
    assert result["status"] == "EEGError", f"{case}: {result}"
    assert fragment in result["message"], f"{case}: {result['message']}"
    assert "\n" not in result["message"]


@pytest.mark.slow
def test_matlab_structure_that_crashes_scipy_never_kills_the_loading_process(tmp_path, eeglab_files, physionet_file):
    """The regression of the urgent issue, loaded ten times from this process: each a one-line refusal."""
    files, fragment = _bad_cases(tmp_path, eeglab_files, physionet_file)["MATLAB structure that crashes scipy"]
    for _ in range(10):
        with pytest.raises(EEGError, match=fragment):
            load_recording(files)
    assert load_recording(eeglab_files).raw.n_times == 30504  # and the next good file still loads


def _brainvision_copy(shared_data: Path, tmp: Path) -> Path:
    for ext in (".vhdr", ".vmrk", ".eeg"):
        _copy(shared_data / f"brainvision/test_CA_208{ext}", tmp)
    return tmp / "test_CA_208.vhdr"


@pytest.mark.parametrize("missing", [".eeg", ".vmrk"])
def test_brainvision_missing_companion_is_named(shared_data, tmp_path, missing):
    _brainvision_copy(shared_data, tmp_path)
    (tmp_path / f"test_CA_208{missing}").unlink()
    files = sorted(tmp_path.iterdir())
    with pytest.raises(EEGError, match=rf"test_CA_208\{missing}"):
        load_recording(files)


@pytest.mark.parametrize("target", ["../../etc/passwd", "/etc/passwd", "..\\..\\secret.eeg"])
def test_brainvision_header_pointing_outside_the_upload_is_refused(shared_data, tmp_path, target):
    vhdr = _brainvision_copy(shared_data, tmp_path)
    text = vhdr.read_text(encoding="latin-1")
    vhdr.write_text(text.replace("DataFile=test_CA_208.eeg", f"DataFile={target}"), encoding="latin-1")
    with pytest.raises(EEGError, match="outside the upload"):
        load_recording(sorted(tmp_path.iterdir()))


def test_upload_over_the_limit_is_refused(physionet_file):
    with pytest.raises(EEGError, match="over the limit"):
        load_recording([physionet_file], max_bytes=1_000_000)


def test_nan_samples_load_with_a_warning_saying_where(tmp_path, eeglab_recording):
    raw = eeglab_recording.raw.copy().load_data()
    raw._data[3, 1280:1300] = np.nan
    path = tmp_path / "with_nan_raw.fif"
    raw.save(path)
    rec = load_recording([path])
    warnings = rec.summary()["warnings"]
    assert any("NaN/Inf" in w and raw.ch_names[3] in w and "10.00 s" in w for w in warnings)


def test_hypnogram_without_signals_is_refused(shared_data):
    with pytest.raises(EEGError, match="zero channels"):
        load_recording([shared_data / "sleep/SC4001EC-Hypnogram.edf"])


def test_two_recordings_at_once_are_refused(eeglab_files, physionet_file):
    with pytest.raises(EEGError, match="more than one recording"):
        load_recording([*eeglab_files, physionet_file])


def test_format_is_detected_from_content_when_the_name_misleads(tmp_path, physionet_file, shared_data):
    renamed = _copy(physionet_file, tmp_path, "recording.dat")
    assert load_recording([renamed]).format == "EDF"
    bdf_as_edf = _copy(shared_data / "bdf/test_bdf_stim_channel.bdf", tmp_path, "actually_bdf.edf")
    assert load_recording([bdf_as_edf]).format == "BDF"
