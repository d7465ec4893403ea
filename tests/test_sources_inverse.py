"""Forward and inverse solutions on the bundled recordings (sphere model, coarse source space)."""

import mne
import numpy as np
import pytest

import tests.sources_support as sup
from backend.errors import EEGError
from backend.sources import forward, inverse


def test_electrodes_use_standard_names_and_name_the_rest(eeglab_recording):
    raw = eeglab_recording.raw.copy()
    raw.rename_channels({"Cz": "Xyz"})
    raw.set_channel_types({"Xyz": "eeg"})
    elec = forward.electrodes(raw.info)
    assert elec.unmatched == ["Xyz"]
    eeg = mne.pick_types(raw.info, eeg=True)
    assert len(elec.used) == len(eeg) - 1
    assert "Xyz" in elec.note()


def test_too_few_standard_channels_is_a_user_error():
    info = mne.create_info([f"E{i}" for i in range(20)], 100.0, "eeg")
    with pytest.raises(EEGError, match="standard 10-05"):
        forward.electrodes(info)


def test_forward_is_cached_per_channel_set(physionet_recording):
    elec = forward.electrodes(physionet_recording.raw.info)
    first = forward.forward(elec.info, sup.MODEL, sup.ICO)
    key = forward.channel_key(elec.info)
    cached = list(sup.CACHE.glob(f"sources/fwd-{sup.MODEL}-ico{sup.ICO}-{key}-v{forward._FORWARD_VERSION}-fwd.fif"))
    assert len(cached) == 1
    again = forward.forward(elec.info, sup.MODEL, sup.ICO)
    np.testing.assert_allclose(again["sol"]["data"], first["sol"]["data"])
    assert first["sol"]["data"].shape[0] == 64
    # A different channel set gets its own forward.
    fewer = forward.electrodes(mne.pick_info(physionet_recording.raw.info, list(range(32))))
    assert forward.channel_key(fewer.info) != forward.channel_key(elec.info)


@pytest.mark.parametrize("method", inverse.METHODS)
def test_event_average_localises_on_eeglab(eeglab_recording, method):
    result = inverse.localise(eeglab_recording.raw, method, event="square", model=sup.MODEL, ico=sup.ICO)
    stc, peak = result.stc, result.peak
    assert stc.data.shape == (len(result.positions), len(result.evoked.times))
    assert result.covariance == "baseline"
    post = stc.times >= 0
    assert peak["value"] == pytest.approx(np.abs(stc.data[:, post]).max())
    assert np.linalg.norm(np.array(peak["pos_mm"]) / 1000 - result.positions[peak["index"]]) < 1e-3
    assert peak["region"].split()[0] in ("left", "right")


def test_window_on_physionet_with_stretch_covariance(physionet_recording):
    result = inverse.localise(
        physionet_recording.raw,
        "dSPM",
        tmin=20.0,
        tmax=25.0,
        covariance="stretch",
        stretch=(0.0, 10.0),
        model=sup.MODEL,
        ico=sup.ICO,
    )
    assert len(result.electrodes.used) == 64
    assert result.evoked.times[0] == pytest.approx(20.0)
    assert result.evoked.times[-1] == pytest.approx(25.0, abs=0.01)
    assert 20.0 <= result.peak["time"] <= 25.0


def test_localisation_recovers_a_dipole_planted_in_real_noise(physionet_recording):
    """A cortical source added to a real recording is found near where it was put."""
    raw = physionet_recording.raw
    elec = forward.electrodes(raw.info)
    fwd = mne.convert_forward_solution(
        forward.forward(elec.info, sup.MODEL, sup.ICO), surf_ori=True, force_fixed=True, verbose="error"
    )
    positions = forward.mri_positions(fwd)
    true = int(np.argmin(np.linalg.norm(positions - [0.04, -0.02, 0.05], axis=1)))  # right central
    window = inverse.window_evoked(raw, elec, 30.0, 31.0)
    field = fwd["sol"]["data"][:, true]
    # Five times the strongest background on the scalp: a clear, evoked-like source.
    bump = np.hanning(len(window.times)) * 5 * np.abs(window.data).max() / np.abs(field).max()
    window.data += np.outer(field, bump)
    window.apply_proj()
    cov = inverse.noise_covariance("stretch", elec, raw=raw, stretch=(0.0, 20.0))
    inv = inverse.make_inverse(forward.forward(elec.info, sup.MODEL, sup.ICO), cov, elec.info)
    stc = inverse.apply(window, inv, "eLORETA", inverse.lambda2_from_snr(3.0))
    peak = inverse.find_peak(stc, positions)
    assert np.linalg.norm(np.array(peak["pos_mm"]) / 1000 - positions[true]) < 0.02


def test_bad_requests_are_user_errors(physionet_recording, eeglab_recording):
    raw = physionet_recording.raw
    with pytest.raises(EEGError, match="method"):
        inverse.localise(raw, "LORETA-ish", tmin=0, tmax=1, model=sup.MODEL, ico=sup.ICO)
    with pytest.raises(EEGError, match="outside the recording"):
        inverse.localise(raw, "MNE", tmin=130, tmax=135, model=sup.MODEL, ico=sup.ICO)
    with pytest.raises(EEGError, match="at most"):
        inverse.localise(raw, "MNE", tmin=0, tmax=60, model=sup.MODEL, ico=sup.ICO)
    with pytest.raises(EEGError, match="no event"):
        inverse.localise(eeglab_recording.raw, "MNE", event="T9", model=sup.MODEL, ico=sup.ICO)
    with pytest.raises(EEGError, match="baseline"):
        inverse.localise(raw, "MNE", tmin=0, tmax=1, covariance="baseline", model=sup.MODEL, ico=sup.ICO)
