"""Each cleaning step on real recordings: what it changes, what it keeps, how it refuses."""

from pathlib import Path

import mne
import numpy as np
import pytest

from backend import steps
from backend.clean.inject import inject_raw
from backend.clean.metrics import removed_pct
from backend.errors import EEGError
from backend.io import load_recording


def _power(raw, fmin, fmax, picks="eeg"):
    spectrum = raw.compute_psd(fmin=fmin, fmax=fmax, picks=picks, verbose="error")
    return float(spectrum.get_data().mean())


def _apply(raw, name, **params):
    result = steps.get(name).apply(raw.copy(), **params)
    return result if isinstance(result, tuple) else (result, {})


@pytest.fixture(scope="module")
def eeglab_minute(eeglab_recording):
    """One minute of the EEGLAB tutorial recording, in memory."""
    return eeglab_recording.raw.copy().crop(0, 60).load_data()


def test_bandpass_removes_out_of_band(physionet_recording):
    raw = physionet_recording.raw.copy().load_data()
    out, report = _apply(raw, "bandpass", l_freq=1.0, h_freq=30.0)
    assert report == {"band_hz": [1.0, 30.0]}
    assert out.ch_names == raw.ch_names and out.n_times == raw.n_times and out.info["sfreq"] == raw.info["sfreq"]
    assert _power(out, 45, 75) < 0.01 * _power(raw, 45, 75)
    assert abs(_power(out, 8, 12) / _power(raw, 8, 12) - 1) < 0.1


@pytest.mark.parametrize(
    "params",
    [
        {"l_freq": 40.0, "h_freq": 10.0},
        {"l_freq": 1.0, "h_freq": 90.0},
        {"l_freq": None, "h_freq": None},
        {"l_freq": "one"},
    ],
)
def test_bandpass_refuses_bad_bands(physionet_recording, params):
    with pytest.raises(EEGError):
        _apply(physionet_recording.raw, "bandpass", **params)


def test_notch_removes_line_noise_only(eeglab_minute):
    injection, info = inject_raw(eeglab_minute, "line", snr_db=0.0, seed=1, start_s=0, duration_s=60)
    noisy = injection.to_raw(info)
    out, report = _apply(noisy, "notch", freq=50.0)
    assert report["notch_hz"] == [50.0]
    assert _power(out, 49, 51) < 0.01 * _power(noisy, 49, 51)
    assert abs(_power(out, 8, 12) / _power(noisy, 8, 12) - 1) < 0.05


def test_resample_changes_rate_keeps_duration(eeglab_minute):
    out, report = _apply(eeglab_minute, "resample", sfreq=64.0)
    assert out.info["sfreq"] == 64.0 and report["sfreq_hz"] == [128.0, 64.0]
    assert abs(out.n_times / 64.0 - eeglab_minute.n_times / 128.0) < 1 / 64
    assert len(out.annotations) == len(eeglab_minute.annotations)


def test_reref_average_and_channel(physionet_recording):
    raw = physionet_recording.raw.copy().crop(0, 20).load_data()
    out, report = _apply(raw, "reref", ref="average")
    assert report["reference"] == "average"
    assert np.abs(out.get_data(picks="eeg").mean(axis=0)).max() < 1e-12
    out, report = _apply(raw, "reref", ref="cz")  # names match case-insensitively
    assert report["reference"] == ["Cz"] and np.abs(out.get_data(picks=["Cz"])).max() == 0


def test_reref_linked_mastoids(physionet_recording):
    raw = physionet_recording.raw.copy().crop(0, 20).load_data()
    raw.rename_channels({"T9": "M1", "T10": "M2"})
    out, report = _apply(raw, "reref", ref="mastoids")
    assert report["reference"] == ["M1", "M2"]
    assert np.abs(out.get_data(picks=["M1", "M2"]).mean(axis=0)).max() < 1e-12
    with pytest.raises(EEGError, match="A1/A2"):
        _apply(physionet_recording.raw, "reref", ref="ears")
    with pytest.raises(EEGError):
        _apply(physionet_recording.raw, "reref", ref="Q99")


def test_bad_channels_finds_and_repairs(eeglab_minute):
    raw = eeglab_minute.copy()
    rng = np.random.default_rng(0)
    raw._data[raw.ch_names.index("Pz")] = 0.0
    raw._data[raw.ch_names.index("C3")] += 300e-6 * rng.standard_normal(raw.n_times)
    out, report = _apply(raw, "bad_channels")
    assert {"Pz", "C3"} <= set(report["bad_channels"])
    assert "Pz" in report["by_method"]["flat"] and "C3" in report["by_method"]["deviation"]
    assert set(report["interpolated"]) == set(report["bad_channels"]) and out.info["bads"] == []
    # The repaired channel follows its neighbours again.
    pz, poz = out.get_data(picks=["Pz"])[0], eeglab_minute.get_data(picks=["Pz"])[0]
    assert np.std(pz) > 0 and np.corrcoef(pz, poz)[0, 1] > 0.5


def test_bad_channels_without_positions_says_why(eeglab_minute):
    data = eeglab_minute.get_data(picks="eeg")
    info = mne.create_info([f"X{i}" for i in range(len(data))], 128.0, "eeg")
    raw = mne.io.RawArray(data.copy(), info, verbose="error")
    raw._data[3] = 0.0
    out, report = _apply(raw, "bad_channels")
    assert report["skipped"]["ransac"] == "no electrode positions"
    assert "X3" in report["bad_channels"] and "X3" in out.info["bads"] and "not_interpolated" in report


def test_interpolate_bads_needs_bads(eeglab_minute):
    with pytest.raises(EEGError, match="no channel is marked bad"):
        _apply(eeglab_minute, "interpolate_bads")
    raw = eeglab_minute.copy()
    raw.info["bads"] = ["Cz"]
    out, report = _apply(raw, "interpolate_bads")
    assert report["interpolated"] == ["Cz"] and out.info["bads"] == []


def test_asr_removes_injected_blinks(eeglab_recording):
    injection, info = inject_raw(eeglab_recording, "eye", snr_db=-5.0, seed=2, duration_s=30)
    noisy = injection.to_raw(info)
    out, report = _apply(noisy, "asr", cutoff=5.0)
    assert report["seconds_reconstructed"] > 0
    assert removed_pct(injection.clean, injection.noisy, out.get_data()) > 20
    assert out.n_times == noisy.n_times and out.ch_names == noisy.ch_names


def test_asr_with_chosen_calibration(eeglab_minute):
    out, report = _apply(eeglab_minute, "asr", cutoff=20.0, calib_start_s=10.0, calib_stop_s=40.0)
    assert report["calibration_s"] == [10.0, 40.0]
    with pytest.raises(EEGError, match="at least 15 s"):
        _apply(eeglab_minute, "asr", calib_start_s=10.0, calib_stop_s=20.0)
    with pytest.raises(EEGError):
        _apply(eeglab_minute, "asr", cutoff=-1)


MULTICHANNEL = [
    "eeglab_sample/eeglab_data.set",
    "eegbci_physionet/S002/S002R04.edf",
    "bdf/multiple_annotation_chans.bdf",
    "bdf/test.bdf",
    "bdf/test_bdf_stim_channel.bdf",
    "brainvision/test_CA_208.vhdr",
    "brainvision/bv_dig_test.vhdr",
    "clinical_nihonkohden/MB0400FU.EDF",
    "edf_biosemi/test.edf",
    "fif_yasa/data_resting_EO_200Hz_raw.fif",
]
COMPANIONS = {".set": [".fdt"], ".vhdr": [".vmrk", ".eeg"]}


@pytest.mark.slow
@pytest.mark.parametrize("name", MULTICHANNEL)
def test_every_step_runs_or_says_why(shared_data, name):
    """Each step on each multichannel recording: it runs and keeps the shape, or refuses in one line."""
    primary = shared_data / name
    paths = [primary] + [primary.with_suffix(ext) for ext in COMPANIONS.get(primary.suffix, [])]
    rec = load_recording([p for p in paths if Path(p).exists()])
    raw = rec.raw.copy().crop(0, min(rec.duration_s, 30.0) - 1 / rec.raw.info["sfreq"]).load_data()
    nyq = raw.info["sfreq"] / 2
    for name_, params in [
        ("bandpass", {"l_freq": 1.0, "h_freq": min(40.0, nyq - 1)}),
        ("notch", {"freq": 50.0}),
        ("reref", {"ref": "average"}),
        ("bad_channels", {}),
        ("asr", {"cutoff": 20.0}),
    ]:
        try:
            out, _ = _apply(raw, name_, **params)
        except EEGError as err:
            assert str(err) and "\n" not in str(err)
            continue
        assert out.ch_names == raw.ch_names and out.n_times == raw.n_times
        assert np.isfinite(out.get_data()).all()
