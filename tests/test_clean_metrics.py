"""EEGdenoiseNet metrics on real EEG with known corruptions."""

import mne
import numpy as np
import pytest

from backend.clean import metrics
from backend.clean.inject import inject_raw
from backend.errors import EEGError


@pytest.fixture(scope="module")
def case(eeglab_recording):
    injection, _ = inject_raw(eeglab_recording, "mixed", snr_db=-2.0, seed=7, start_s=30, duration_s=20)
    return injection


def test_perfect_and_useless_outputs(case):
    x, y, sf = case.clean, case.noisy, case.sfreq
    assert metrics.score(x, y, x, sf) == {
        "rrmse_t": 0.0,
        "rrmse_s": 0.0,
        "cc": pytest.approx(1.0),
        "removed_pct": 100.0,
    }
    nothing = metrics.score(x, y, y, sf)
    assert nothing["removed_pct"] == pytest.approx(0.0)
    # Doing nothing leaves exactly the injected error: RRMSE_t = RMS(λn)/RMS(x) = 10**(-SNR/10).
    assert nothing["rrmse_t"] == pytest.approx(10 ** (2.0 / 10))
    assert metrics.rrmse_t(x, np.zeros_like(x)) == pytest.approx(1.0)
    assert metrics.removed_pct(x, y, 2 * y - x) == pytest.approx(-100.0)


def test_halfway_output(case):
    x, y = case.clean, case.noisy
    half = x + 0.5 * (y - x)
    assert metrics.removed_pct(x, y, half) == pytest.approx(50.0)
    assert metrics.cc(x, half) > metrics.cc(x, y)
    assert metrics.rrmse_s(x, half, case.sfreq) < metrics.rrmse_s(x, y, case.sfreq)


def test_cc_ignores_scale_and_offset(case):
    x = case.clean
    assert metrics.cc(x, 3 * x + 1e-5) == pytest.approx(1.0)
    assert metrics.cc(x, -x) == pytest.approx(-1.0)


def test_shapes_must_match(case):
    with pytest.raises(EEGError, match="shape"):
        metrics.rrmse_t(case.clean, case.clean[:, :-1])
    with pytest.raises(EEGError, match="no artifact"):
        metrics.removed_pct(case.clean, case.clean, case.clean)


def _raw(data, sfreq=100.0):
    return mne.io.RawArray(data, mne.create_info(["Fz", "Cz", "Pz"][: len(data)], sfreq, "eeg"), verbose="error")


def test_variance_removed_is_measured_above_1_hz():
    t = np.arange(6000) / 100.0
    rng = np.random.default_rng(0)
    eeg = 10e-6 * np.sin(2 * np.pi * 10 * t) + 1e-6 * rng.standard_normal(t.size)
    drift = 200e-6 * np.sin(2 * np.pi * 0.05 * t)
    before = _raw(np.vstack([eeg + drift, eeg + drift, np.zeros_like(t)]))
    # channel 1 loses its drift only, channel 2 loses its 10 Hz rhythm; the flat channel gains noise
    after = _raw(np.vstack([eeg, eeg + drift - 10e-6 * np.sin(2 * np.pi * 10 * t), rng.standard_normal(t.size) * 1e-6]))
    removed = metrics.variance_removed(before, after)
    assert list(removed) == ["Fz", "Cz", "Pz"]
    assert abs(removed["Fz"]) < 1.0  # drift below 1 Hz does not count
    assert removed["Cz"] > 90.0
    assert np.isnan(removed["Pz"])  # flat before: no share of it can be removed ("n/a")
    # a resampled output is measured at its own rate, like for like
    resampled = after.copy().resample(50.0, verbose="error")
    again = metrics.variance_removed(before, resampled, ["Cz"])
    assert again["Cz"] == pytest.approx(removed["Cz"], abs=2.0)
