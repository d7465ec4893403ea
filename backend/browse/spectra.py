"""Welch spectra and band powers of a page or of the whole recording.

The whole recording is read block by block and the Welch averages combined, so
an hour-long file never sits in memory at once.
"""

from __future__ import annotations

import mne
import numpy as np
from scipy import signal

from backend.browse.display import BANDS_HZ, page_bounds
from backend.errors import EEGError

_SEGMENT_S = 2.0  # 0.5 Hz resolution
_BLOCK_S = 120.0


def welch(
    raw: mne.io.BaseRaw,
    picks=None,
    start: float = 0.0,
    duration: float | None = None,
    fmax: float | None = None,
    progress=None,
):
    """Welch power spectral density of the picked channels over a time span.

    Parameters
    ----------
    raw : mne.io.BaseRaw
    picks : array of int, optional
        Channel indices; default the EEG channels not marked bad.
    start, duration : float
        Span in seconds; ``duration=None`` is the rest of the recording.
    fmax : float, optional
        Highest frequency kept (default the Nyquist frequency).
    progress : callable, optional
        Called with the fraction done after each block read.

    Returns
    -------
    freqs : ndarray, shape (n_freqs,)
        Hz.
    psd : ndarray, shape (n_channels, n_freqs)
        V²/Hz.
    names : list of str
    """
    sfreq = raw.info["sfreq"]
    picks = mne.pick_types(raw.info, eeg=True, exclude="bads") if picks is None else np.asarray(picks, int)
    if not len(picks):
        raise EEGError("no EEG channels (not marked bad) to compute a spectrum from")
    span = raw.n_times / sfreq - start if duration is None else duration
    first, last = page_bounds(raw, start, span)
    nper = min(int(_SEGMENT_S * sfreq), last - first)
    if nper < 8:
        raise EEGError("the span is too short for a spectrum (fewer than 8 samples)")
    block = max(nper, int(_BLOCK_S * sfreq) // nper * nper)
    total, weight = None, 0
    for b0 in range(first, last, block):
        b1 = min(last, b0 + block)
        if b1 - b0 < nper:
            break
        data = raw.get_data(picks=picks, start=b0, stop=b1)
        freqs, psd = signal.welch(data, fs=sfreq, nperseg=nper, axis=-1)
        n_seg = max(1, (b1 - b0 - nper // 2) // (nper // 2))
        total = psd * n_seg if total is None else total + psd * n_seg
        weight += n_seg
        if progress:
            progress((b1 - first) / (last - first))
    if total is None:
        raise EEGError(f"{span:g} s is too short for a spectrum (one {nper / sfreq:g}-s segment is needed)")
    psd = total / weight
    keep = freqs <= (fmax if fmax else sfreq / 2)
    return freqs[keep], psd[:, keep], [raw.ch_names[p] for p in picks]


def band_powers(freqs: np.ndarray, psd: np.ndarray, bands=None) -> dict[str, np.ndarray]:
    """Absolute power (V²) per channel in each band, integrating the PSD."""
    bands = BANDS_HZ if bands is None else bands
    df = freqs[1] - freqs[0] if len(freqs) > 1 else 1.0
    out = {}
    for name, (lo, hi) in bands.items():
        mask = (freqs >= lo) & (freqs < hi)
        if mask.any():
            out[name] = psd[:, mask].sum(axis=1) * df
    return out
