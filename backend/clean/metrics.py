"""Scores of a cleaning method against a known clean signal (EEGdenoiseNet metrics).

All inputs are arrays ``(n_channels, n_times)`` (or ``(n_times,)``) in volts, the
clean truth ``x``, the noisy input ``y`` and a method's output ``f(y)``:

- ``rrmse_t``: relative RMS error in time, ``RMS(f(y) - x) / RMS(x)``;
- ``rrmse_s``: relative RMS error of the spectrum, ``RMS(PSD(f(y)) - PSD(x)) / RMS(PSD(x))``
  with Welch PSDs per channel;
- ``cc``: Pearson correlation of ``f(y)`` with ``x``, per channel, averaged;
- ``removed_pct``: how much of the injected artifact is gone,
  ``100 · (1 - RMS(f(y) - x) / RMS(y - x))`` (100 is perfect, 0 no better than
  doing nothing, negative means the method added error).

Lower RRMSE and higher CC are better (Zhang et al. 2021, EEGdenoiseNet).

Without a known truth, :func:`variance_removed` says how much of each channel a
cleaning took away (the Clean and Components pages show it under that name).
"""

from __future__ import annotations

import mne
import numpy as np
from scipy import signal

from backend.errors import EEGError

METRICS = ("rrmse_t", "rrmse_s", "cc", "removed_pct")
VARIANCE_HIGHPASS_HZ = 1.0  # variance removed is measured above this frequency


def _check(clean: np.ndarray, other: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    clean, other = np.atleast_2d(np.asarray(clean, float)), np.atleast_2d(np.asarray(other, float))
    if clean.shape != other.shape:
        raise EEGError(f"the {what} has shape {other.shape}, the clean signal {clean.shape}: they must match")
    return clean, other


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x))))


def rrmse_t(clean: np.ndarray, denoised: np.ndarray) -> float:
    """Relative RMS error in time: ``RMS(denoised - clean) / RMS(clean)``."""
    clean, denoised = _check(clean, denoised, "cleaned signal")
    return _rms(denoised - clean) / _rms(clean)


def psd(x: np.ndarray, sfreq: float) -> tuple[np.ndarray, np.ndarray]:
    """Welch PSD per channel (2-s Hann windows, half overlap): ``(freqs, psd)``, V²/Hz."""
    x = np.atleast_2d(np.asarray(x, float))
    nperseg = int(min(x.shape[-1], 2 * sfreq))
    return signal.welch(x, fs=sfreq, nperseg=nperseg, axis=-1)


def rrmse_s(clean: np.ndarray, denoised: np.ndarray, sfreq: float) -> float:
    """Relative RMS error of the Welch spectrum: ``RMS(PSD(denoised) - PSD(clean)) / RMS(PSD(clean))``."""
    clean, denoised = _check(clean, denoised, "cleaned signal")
    _, p_clean = psd(clean, sfreq)
    _, p_out = psd(denoised, sfreq)
    return _rms(p_out - p_clean) / _rms(p_clean)


def cc(clean: np.ndarray, denoised: np.ndarray) -> float:
    """Pearson correlation with the clean signal, computed per channel and averaged."""
    clean, denoised = _check(clean, denoised, "cleaned signal")
    a = clean - clean.mean(axis=-1, keepdims=True)
    b = denoised - denoised.mean(axis=-1, keepdims=True)
    denominator = np.sqrt((a**2).sum(axis=-1) * (b**2).sum(axis=-1))
    valid = denominator > 0
    if not valid.any():
        return 0.0
    return float(np.mean((a * b).sum(axis=-1)[valid] / denominator[valid]))


def removed_pct(clean: np.ndarray, noisy: np.ndarray, denoised: np.ndarray) -> float:
    """Percent of the injected artifact's RMS that is gone from the output."""
    clean, noisy = _check(clean, noisy, "noisy signal")
    _, denoised = _check(clean, denoised, "cleaned signal")
    before = _rms(noisy - clean)
    if before == 0:
        raise EEGError("the noisy signal equals the clean one: no artifact to remove")
    return 100.0 * (1.0 - _rms(denoised - clean) / before)


def score(clean: np.ndarray, noisy: np.ndarray, denoised: np.ndarray, sfreq: float) -> dict[str, float]:
    """All metrics of one method's output, as a dict keyed by ``METRICS``."""
    return {
        "rrmse_t": rrmse_t(clean, denoised),
        "rrmse_s": rrmse_s(clean, denoised, sfreq),
        "cc": cc(clean, denoised),
        "removed_pct": removed_pct(clean, noisy, denoised),
    }


def common_eeg(before: mne.io.BaseRaw, after: mne.io.BaseRaw) -> list[str]:
    """EEG channels present in both, in the order of ``after``."""
    names = [after.ch_names[p] for p in mne.pick_types(after.info, eeg=True, exclude=[])]
    shared = [n for n in names if n in before.ch_names]
    if not shared:
        raise EEGError("before and after share no EEG channel")
    return shared


def variance_removed(before: mne.io.BaseRaw, after: mne.io.BaseRaw, names=None) -> dict[str, float]:
    """Percent of each channel's variance above 1 Hz that a cleaning removed.

    ``100 · (1 - var(after) / var(before))``, both signals high-passed at
    ``VARIANCE_HIGHPASS_HZ`` first (each at its own rate, so a resampled output
    compares like with like). Below 1 Hz the variance is mostly drift and offset,
    which any band-pass removes and which would otherwise swamp what the cleaning
    did to the EEG; ICA is fitted above 1 Hz for the same reason.

    Parameters
    ----------
    before, after : mne.io.Raw
        The signals before and after cleaning, in volts.
    names : list of str | None
        Channels to measure (default: the EEG channels both have, see :func:`common_eeg`).

    Returns
    -------
    removed : dict of str to float
        Channel name to percent removed: 100 when nothing is left, 0 when nothing
        changed, negative when cleaning added variance (a repaired dead channel);
        NaN ("n/a") when the channel was flat above 1 Hz before, so that no share of
        its variance can be removed.
    """
    names = common_eeg(before, after) if names is None else list(names)
    variances = []
    for raw in (before, after):
        with mne.utils.use_log_level("error"):
            data = mne.filter.filter_data(raw.get_data(picks=names), raw.info["sfreq"], VARIANCE_HIGHPASS_HZ, None)
        variances.append(np.var(data, axis=1))
    var_before, var_after = variances
    with np.errstate(divide="ignore", invalid="ignore"):
        removed = np.where(var_before > 0, 100.0 * (1.0 - var_after / var_before), np.nan)
    return dict(zip(names, removed.tolist()))
