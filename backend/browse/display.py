"""One page of traces: slice, montage, display filters, min-max downsampling.

Only the page (plus filter padding) is read from the lazily read recording; the
filters act on that copy, never on the recording. Downsampling keeps each bin's
minimum and maximum (``tsdownsample``), so a one-sample spike survives at any
zoom.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import mne
import numpy as np
from scipy import signal
from threadpoolctl import ThreadpoolController
from tsdownsample import MinMaxDownsampler

from backend.browse.montages import Montage
from backend.errors import EEGError

TIMEBASES_S = (5, 10, 15, 20, 30, 60)
SENSITIVITIES_UV_MM = (2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100)
LOW_CUTS_HZ = (None, 0.1, 0.3, 0.5, 1.0, 1.6, 5.0)
HIGH_CUTS_HZ = (None, 15.0, 30.0, 35.0, 40.0, 70.0)
NOTCHES_HZ = (None, 50.0, 60.0)
BANDS_HZ = {"delta": (1.0, 4.0), "theta": (4.0, 8.0), "alpha": (8.0, 13.0), "beta": (13.0, 30.0), "gamma": (30.0, 45.0)}

FILTER_LIMIT = 0.45  # of the sampling rate: cut-offs at or above it are off

_FILTER_ORDER = 2  # applied forward and backward: 4th-order zero-phase response
_NOTCH_Q = 30.0
_MAX_PAD_S = 10.0
# A page's montage product is tiny (64 × 64 by 64 × 3000): BLAS threads only add
# hand-over costs, up to tens of ms on a busy machine, so it runs on one.
_BLAS = ThreadpoolController()


@dataclass(frozen=True)
class DisplayFilter:
    """Display-only filters, as on a clinical review station (Hz; None is off)."""

    low: float | None = None
    high: float | None = None
    notch: float | None = None

    def active(self, sfreq: float) -> DisplayFilter:
        """The settings that apply at ``sfreq`` (cut-offs at or above 0.45 × rate are off)."""
        limit = FILTER_LIMIT * sfreq
        return DisplayFilter(
            self.low if self.low and self.low < limit else None,
            self.high if self.high and self.high < limit else None,
            self.notch if self.notch and self.notch < limit else None,
        )

    def describe(self, sfreq: float) -> str:
        """One line such as ``LFF 0.5 Hz · HFF 70 Hz · notch 50 Hz (zero-phase)``."""
        act = self.active(sfreq)
        parts = [
            f"LFF {act.low:g} Hz" if act.low else "LFF off",
            f"HFF {act.high:g} Hz" if act.high else "HFF off",
            f"notch {act.notch:g} Hz" if act.notch else "notch off",
        ]
        skipped = [
            f"{v:g} Hz" for v, a in ((self.low, act.low), (self.high, act.high), (self.notch, act.notch)) if v and not a
        ]
        text = " · ".join(parts) + " (zero-phase, display only)"
        if skipped:
            text += f"; {', '.join(skipped)} off: above 0.45 × the {sfreq:g} Hz rate"
        return text

    def padding_s(self) -> float:
        """Data read on each side of the page so the filters settle before it starts."""
        if not (self.low or self.high or self.notch):
            return 0.0
        # About three time constants of the low-frequency filter; sosfiltfilt's own
        # odd-symmetric padding covers the recording's edges.
        return min(_MAX_PAD_S, max(1.0, 1.0 / self.low if self.low else 1.0))


def applicable(cuts, sfreq: float) -> tuple:
    """The cut-offs of ``cuts`` that apply at ``sfreq`` (below ``FILTER_LIMIT`` × the rate), "off" (None) first."""
    return tuple(c for c in cuts if c is None or c < FILTER_LIMIT * sfreq)


@lru_cache(maxsize=64)
def _sos(sfreq: float, low: float | None, high: float | None, notch: float | None) -> np.ndarray | None:
    """All display filters as one cascade of second-order sections (None when all are off)."""
    sections = []
    if low and high:
        sections.append(signal.butter(_FILTER_ORDER, [low, high], "bandpass", fs=sfreq, output="sos"))
    elif low:
        sections.append(signal.butter(_FILTER_ORDER, low, "highpass", fs=sfreq, output="sos"))
    elif high:
        sections.append(signal.butter(_FILTER_ORDER, high, "lowpass", fs=sfreq, output="sos"))
    if notch:
        b, a = signal.iirnotch(notch, _NOTCH_Q, fs=sfreq)
        sections.append(signal.tf2sos(b, a))
    return np.concatenate(sections) if sections else None


def apply_filter(data: np.ndarray, sfreq: float, filt: DisplayFilter) -> np.ndarray:
    """Zero-phase display filtering of ``data`` (n_rows, n_times); returns a new array."""
    act = filt.active(sfreq)
    sos = _sos(float(sfreq), act.low, act.high, act.notch)
    if sos is None:
        return np.array(data, float)
    padlen = min(data.shape[-1] - 1, 3 * (2 * len(sos) + 1))
    return signal.sosfiltfilt(sos, data, axis=-1, padlen=max(padlen, 0))


def minmax_downsample(rows: np.ndarray, n_points: int) -> tuple[np.ndarray, int]:
    """Each row's minimum and maximum per bin of ``w`` samples, in time order.

    Bins are a whole number of samples (``w = ceil(n_times / (n_points / 2))``), so
    all rows go through ``tsdownsample`` in one call on the rows laid end to end:
    no bin straddles two rows. The last bin is padded with the row's last value.

    Returns
    -------
    values : ndarray, shape (n_rows, 2 * n_bins), float32
        At most ``n_points`` a row (``rows`` itself when it is not longer).
    w : int
        Samples per bin (1 when nothing was downsampled).
    """
    n_rows, n = rows.shape
    if n <= n_points:
        return rows.astype(np.float32), 1
    w = int(np.ceil(n / max(1, n_points // 2)))
    n_bins = int(np.ceil(n / w))
    padded = np.empty((n_rows, n_bins * w), np.float32)
    padded[:, :n] = rows
    padded[:, n:] = padded[:, n - 1 : n]
    flat = padded.ravel()
    idx = MinMaxDownsampler().downsample(flat, n_out=2 * n_bins * n_rows)
    if len(idx) != 2 * n_bins * n_rows or not np.array_equal(idx[::2] // w, idx[1::2] // w):
        raise RuntimeError("min-max bins do not line up with the rows")  # a tsdownsample change; never seen
    return flat[idx].reshape(n_rows, 2 * n_bins), w


@dataclass
class Page:
    """One page of display rows, ready to draw.

    Attributes
    ----------
    start, duration : float
        Page start (seconds from the recording's first sample) and length (s).
    labels : list of str
        Row labels (montage order).
    bad_rows : list of bool
    values : ndarray, shape (n_rows, n_points), float32
        Filtered, downsampled values in volts.
    x0, dx : float
        Time of the first point and spacing between points (s). Min-max pairs sit
        at evenly spaced times inside their bin, half a bin apart at most from the
        sample's true time.
    sfreq : float
    filter_text : str
        The active display filters, in one line.
    """

    start: float
    duration: float
    labels: list
    bad_rows: list
    values: np.ndarray
    x0: float
    dx: float
    sfreq: float
    filter_text: str

    @property
    def times(self) -> np.ndarray:
        return self.x0 + self.dx * np.arange(self.values.shape[1])


def page_start(start: float, timebase: float, duration: float) -> float:
    """``start`` (s) kept where a page of ``timebase`` seconds fits in ``duration``: 0 to the last full page."""
    return min(max(0.0, float(start)), max(0.0, duration - timebase))


def page_bounds(raw: mne.io.BaseRaw, start: float, duration: float) -> tuple[int, int]:
    """First and one-past-last sample of the page, clamped to the recording."""
    if duration <= 0:
        raise EEGError("the page duration must be positive")
    sfreq = raw.info["sfreq"]
    n = int(round(duration * sfreq))
    first = int(round(max(0.0, start) * sfreq))
    first = max(0, min(first, raw.n_times - n))
    return first, min(raw.n_times, first + n)


def read_page(
    raw: mne.io.BaseRaw,
    montage: Montage,
    start: float,
    duration: float,
    filt: DisplayFilter = DisplayFilter(),
    n_points: int = 2000,
    rows=None,
) -> Page:
    """Slice, re-reference, filter and downsample one page.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        The recording (lazily read is fine: only the page and padding are read).
    montage : Montage
        From :func:`backend.browse.montages.build_montage` on ``raw.info``.
    start, duration : float
        Page start and length in seconds; clamped to the recording.
    filt : DisplayFilter
        Display filters (the recording is not changed).
    n_points : int
        Points per row after min-max downsampling (about two per horizontal pixel).
    rows : sequence of int, optional
        Montage rows to show (default all), in display order.

    Returns
    -------
    Page
    """
    sfreq = raw.info["sfreq"]
    first, last = page_bounds(raw, start, duration)
    pad = int(round(filt.padding_s() * sfreq))
    lo, hi = max(0, first - pad), min(raw.n_times, last + pad)
    weights = montage.weights if rows is None else montage.weights[list(rows)]
    used = np.flatnonzero(np.abs(weights).sum(axis=0))  # read only the channels the rows need
    if not len(used):
        rows_data = np.zeros((len(weights), hi - lo))
    else:
        data = raw.get_data(picks=montage.picks[used], start=lo, stop=hi)
        sub = weights[:, used]
        if sub.shape[0] == sub.shape[1] and np.array_equal(sub, np.eye(len(sub))):
            rows_data = data  # as recorded: nothing to combine
        else:
            with _BLAS.limit(limits=1, user_api="blas"):
                rows_data = sub @ data
    rows_data = apply_filter(rows_data, sfreq, filt)[:, first - lo : last - lo]
    n = rows_data.shape[1]
    values, w = minmax_downsample(rows_data, max(4, int(n_points)))
    # A bin's min and max are drawn a half bin apart at its quarter points.
    dx, x0 = (w / sfreq / 2, (first + w / 4) / sfreq) if w > 1 else (1 / sfreq, first / sfreq)
    labels = montage.labels if rows is None else [montage.labels[r] for r in rows]
    bad_rows = montage.bad_rows if rows is None else [montage.bad_rows[r] for r in rows]
    return Page(first / sfreq, n / sfreq, list(labels), list(bad_rows), values, x0, dx, sfreq, filt.describe(sfreq))


def autoscale(values: np.ndarray, row_mm: float) -> float:
    """A sensitivity (µV/mm) at which a typical row's 1–99 % range fills one row height."""
    if values.size == 0:
        return 10.0
    spread = np.percentile(values, 99, axis=1) - np.percentile(values, 1, axis=1)
    typical_uv = float(np.median(spread)) * 1e6
    needed = typical_uv / max(row_mm, 1e-3)
    for preset in SENSITIVITIES_UV_MM:
        if preset >= needed:
            return float(preset)
    magnitude = 10 ** np.floor(np.log10(needed))
    return float(np.ceil(needed / magnitude) * magnitude)


def overview(
    raw: mne.io.BaseRaw,
    kind: str = "amplitude",
    band: str = "alpha",
    n_windows: int = 600,
    block_s: float = 60.0,
    progress=None,
):
    """A whole-recording strip: one value per window, read block by block.

    Parameters
    ----------
    kind : {'amplitude', 'band'}
        ``'amplitude'``: median over EEG channels of each window's standard deviation (V).
        ``'band'``: mean over EEG channels of the window's power in ``band`` (V²/Hz).
    n_windows : int
        About how many windows span the recording (each at least one second).
    progress : callable, optional
        Called with the fraction done after each block.

    Returns
    -------
    times : ndarray, shape (n,)
        Window centres (s).
    values : ndarray, shape (n,)
    """
    if kind not in ("amplitude", "band"):
        raise EEGError(f"unknown overview {kind!r}; use 'amplitude' or 'band'")
    if kind == "band" and band not in BANDS_HZ:
        raise EEGError(f"unknown band {band!r}; use one of {', '.join(BANDS_HZ)}")
    sfreq = raw.info["sfreq"]
    picks = mne.pick_types(raw.info, eeg=True, exclude="bads")
    if not len(picks):
        picks = mne.pick_types(raw.info, eeg=True, eog=True, ecg=True, emg=True, misc=True, exclude=[])
    win = max(int(round(sfreq)), int(np.ceil(raw.n_times / n_windows)))
    n_win = raw.n_times // win
    if n_win == 0:
        win, n_win = raw.n_times, 1
    per_block = max(1, int(block_s * sfreq) // win)
    values = np.empty(n_win)
    if kind == "band":
        freqs = np.fft.rfftfreq(win, 1 / sfreq)
        lo, hi = BANDS_HZ[band]
        in_band = (freqs >= lo) & (freqs < hi)
        taper = np.hanning(win)
    for b0 in range(0, n_win, per_block):
        b1 = min(n_win, b0 + per_block)
        data = raw.get_data(picks=picks, start=b0 * win, stop=b1 * win)
        data = data.reshape(len(picks), b1 - b0, win)
        if kind == "amplitude":
            values[b0:b1] = np.median(data.std(axis=2), axis=0)
        else:
            spec = np.abs(np.fft.rfft((data - data.mean(axis=2, keepdims=True)) * taper, axis=2)) ** 2
            spec *= 2.0 / (sfreq * (taper**2).sum())
            values[b0:b1] = spec[..., in_band].mean(axis=(0, 2)) if in_band.any() else np.nan
        if progress:
            progress(b1 / n_win)
    times = (np.arange(n_win) + 0.5) * win / sfreq
    return times, values
