"""The artifact injector: reproducible, at the SNR asked for, with the right topographies."""

import numpy as np
import pytest

from backend.clean.inject import (
    ARTIFACT_KINDS,
    clean_stretch,
    expand_kinds,
    inject,
    inject_raw,
    make_artifact,
    rms,
    snr_db,
)
from backend.errors import EEGError


def _channel_rms(injection):
    return dict(zip(injection.ch_names, np.sqrt(np.mean(injection.artifact**2, axis=1))))


@pytest.mark.parametrize("snr", [-7.0, -3.5, 0.0, 2.0])
@pytest.mark.parametrize("kinds", ["eye", "muscle", "mixed", "ecg", "line", "pop"])
def test_snr_as_requested(physionet_recording, kinds, snr):
    injection, _ = inject_raw(physionet_recording, kinds, snr_db=snr, seed=3, duration_s=10)
    assert abs(injection.measured_snr_db() - snr) < 0.1
    assert np.allclose(injection.noisy, injection.clean + injection.artifact)
    assert rms(injection.artifact) > 0


def test_reproducible_with_seed(eeglab_recording):
    a, _ = inject_raw(eeglab_recording, "mixed", snr_db=-2, seed=11, start_s=10, duration_s=8)
    b, _ = inject_raw(eeglab_recording, "mixed", snr_db=-2, seed=11, start_s=10, duration_s=8)
    c, _ = inject_raw(eeglab_recording, "mixed", snr_db=-2, seed=12, start_s=10, duration_s=8)
    assert np.array_equal(a.noisy, b.noisy) and a.events == b.events
    assert not np.allclose(a.artifact, c.artifact)
    # The clean part is the recording itself, untouched.
    sf = eeglab_recording.raw.info["sfreq"]
    expected = eeglab_recording.raw.get_data(picks="eeg", start=int(10 * sf), stop=int(18 * sf))
    assert np.array_equal(a.clean, expected)


def test_adding_a_kind_keeps_the_others(eeglab_recording):
    raw = eeglab_recording.raw
    names, sf, n = raw.ch_names, raw.info["sfreq"], int(5 * raw.info["sfreq"])
    blink_alone, _ = make_artifact("blink", names, sf, n, seed=4, info=raw.info)
    blink_again, _ = make_artifact("blink", names, sf, n, seed=4, info=raw.info)
    assert np.array_equal(blink_alone, blink_again)
    assert abs(rms(blink_alone) - 1.0) < 1e-9


def test_topographies(physionet_recording):
    by_kind = {}
    for kind in ("blink", "saccade", "muscle"):
        injection, _ = inject_raw(physionet_recording, kind, snr_db=0, seed=1, duration_s=20)
        by_kind[kind] = _channel_rms(injection)
    blink = by_kind["blink"]
    assert min(blink["Fp1"], blink["Fp2"]) > 5 * max(blink["Oz"], blink["Pz"])
    saccade = by_kind["saccade"]
    assert min(saccade["F7"], saccade["F8"]) > 5 * saccade["Cz"]
    muscle = by_kind["muscle"]
    assert min(muscle["T7"], muscle["T8"]) > 5 * max(muscle["Cz"], muscle["Fz"])


def test_saccade_is_antisymmetric(physionet_recording):
    injection, _ = inject_raw(physionet_recording, "saccade", snr_db=0, seed=2, duration_s=20)
    f7 = injection.artifact[injection.ch_names.index("F7")]
    f8 = injection.artifact[injection.ch_names.index("F8")]
    assert np.corrcoef(f7, f8)[0, 1] < -0.9


def test_muscle_is_broadband_high_frequency_below_nyquist(eeglab_recording):
    injection, _ = inject_raw(eeglab_recording, "muscle", snr_db=0, seed=5, duration_s=30)
    freqs, psd = __import__("scipy.signal", fromlist=["welch"]).welch(
        injection.artifact, fs=injection.sfreq, nperseg=256
    )
    total = psd.sum(axis=1).sum()
    in_band = psd[:, (freqs >= 18) & (freqs <= 64)].sum()
    assert in_band / total > 0.9


def test_line_noise_peak(physionet_recording):
    injection, _ = inject_raw(physionet_recording, "line", snr_db=0, seed=0, duration_s=10, line_freq=60.0)
    spectrum = np.abs(np.fft.rfft(injection.artifact[0]))
    freqs = np.fft.rfftfreq(injection.artifact.shape[1], 1 / injection.sfreq)
    assert abs(freqs[spectrum.argmax()] - 60.0) < 0.2


def test_numpy_api_with_names_only(eeglab_recording):
    raw = eeglab_recording.raw
    data = raw.get_data(start=0, stop=int(6 * raw.info["sfreq"]))
    injection = inject(data, raw.ch_names, raw.info["sfreq"], ["blink", "ecg", "pop"], snr_db=1.0, seed=9)
    assert injection.kinds == ("blink", "ecg", "pop")
    assert abs(injection.measured_snr_db() - 1.0) < 0.1
    back = injection.to_raw(raw.info, "noisy")
    assert np.allclose(back.get_data(), injection.noisy)


def test_clean_stretch_avoids_blinks(eeglab_recording):
    raw = eeglab_recording.raw
    start = clean_stretch(raw, 10.0)
    sf = raw.info["sfreq"]
    fp = raw.get_data(picks=["Fpz"])[0]
    quiet = np.ptp(fp[int(start * sf) : int((start + 10) * sf)])
    typical = np.median([np.ptp(fp[i : i + int(10 * sf)]) for i in range(0, raw.n_times - int(10 * sf), int(10 * sf))])
    assert quiet < typical


@pytest.mark.parametrize(
    "call",
    [
        lambda raw: inject_raw(raw, "sneeze"),
        lambda raw: inject_raw(raw, "eye", snr_db=40),
        lambda raw: inject_raw(raw, "eye", duration_s=10_000),
        lambda raw: inject(np.zeros((2, 500)), ["Fp1", "Fp2"], 128.0, "eye"),
        lambda raw: inject(np.ones((3, 500)), ["Fp1", "Fp2"], 128.0, "eye"),
        lambda raw: inject(np.random.default_rng(0).standard_normal((2, 500)), ["A", "B"], 128.0, "blink"),
        lambda raw: inject(np.random.default_rng(0).standard_normal((2, 500)), ["Fp1", "Fp2"], 100.0, "line"),
    ],
)
def test_bad_input_is_refused(eeglab_recording, call):
    with pytest.raises(EEGError):
        call(eeglab_recording)


def test_expand_kinds():
    assert expand_kinds("eye") == ("blink", "saccade")
    assert expand_kinds("mixed+ecg") == ("blink", "saccade", "muscle", "ecg")
    assert set(expand_kinds(ARTIFACT_KINDS)) == set(ARTIFACT_KINDS)


def test_snr_definition():
    x = np.ones((2, 10))
    assert snr_db(x, 0.1 * x) == pytest.approx(10.0)
