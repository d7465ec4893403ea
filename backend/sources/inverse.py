"""Distributed inverse solutions (MNE, dSPM, sLORETA, eLORETA) on the template cortex.

What is localised is an :class:`mne.Evoked` on the template electrodes: either a
window of the recording (each sample as it is) or the average of epochs around
an event type. The noise covariance comes from the pre-event baseline, from a
chosen stretch of the recording, or is MNE's ad hoc diagonal one. The inverse
itself is MNE-Python's (:mod:`mne.minimum_norm`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mne
import numpy as np

from backend.errors import EEGError
from backend.sources import forward as fwd_mod

METHODS = ("MNE", "dSPM", "sLORETA", "eLORETA")
COVARIANCES = ("baseline", "stretch", "ad hoc")
MAX_WINDOW_S = 20.0  # a 5124-source estimate of 20 s at 250 Hz is ~200 MB
EPOCH = (-0.2, 0.5)  # default epoch around an event (s)
MAX_EPOCH_S = 5.0
DEFAULT_BAND = (1.0, 40.0)


def check_method(method: str) -> str:
    """Accept a method name in any case; return MNE's spelling."""
    for m in METHODS:
        if str(method).lower() == m.lower():
            return m
    raise EEGError(f"method must be one of {', '.join(METHODS)}, got {method!r}")


def _band(raw: mne.io.BaseRaw, band) -> tuple[float | None, float | None]:
    if band is None:
        return None, None
    low, high = band
    nyquist = raw.info["sfreq"] / 2
    if high is not None and high >= nyquist:
        high = None
    if low is not None and high is not None and low >= high:
        raise EEGError(f"band-pass low edge {low} Hz must be below the high edge {high} Hz")
    return low, high


def _eeg_segment(raw, electrodes, tmin, tmax, band) -> mne.io.BaseRaw:
    """The electrodes' signals between tmin and tmax (s), band-passed with padding."""
    if not (0 <= tmin < tmax <= raw.times[-1] + 1 / raw.info["sfreq"]):
        raise EEGError(f"window {tmin:g}-{tmax:g} s is outside the recording (0-{raw.times[-1]:.1f} s)")
    low, high = _band(raw, band)
    pad = 2.0 if (low or high) else 0.0  # filter edges fall in the padding
    start, stop = max(0.0, tmin - pad), min(raw.times[-1], tmax + pad)
    seg = raw.copy().pick(electrodes.used).crop(start, stop).load_data(verbose="error")
    if low or high:
        seg.filter(low, high, verbose="error")
    return seg.crop(tmin - start, min(tmax - start, seg.times[-1]))


def _with_template_info(data: np.ndarray, electrodes, tmin: float, sfreq: float, nave=1, comment="") -> mne.Evoked:
    info = electrodes.info.copy()
    with info._unlock():
        info["sfreq"] = float(sfreq)
    evoked = mne.EvokedArray(data, info, tmin=tmin, nave=nave, comment=comment, verbose="error")
    return evoked.apply_proj(verbose="error")


def window_evoked(raw, electrodes, tmin: float, tmax: float, band=DEFAULT_BAND) -> mne.Evoked:
    """A window of the recording (s) on the template electrodes, as an Evoked (volts)."""
    if tmax - tmin > MAX_WINDOW_S:
        raise EEGError(f"window is {tmax - tmin:g} s long; localise at most {MAX_WINDOW_S:g} s at a time")
    seg = _eeg_segment(raw, electrodes, tmin, tmax, band)
    return _with_template_info(seg.get_data(), electrodes, tmin, raw.info["sfreq"], comment="window")


def event_types(raw: mne.io.BaseRaw) -> dict[str, int]:
    """Annotation labels and how many times each occurs."""
    counts: dict[str, int] = {}
    for d in raw.annotations.description:
        counts[str(d)] = counts.get(str(d), 0) + 1
    return counts


def check_epoch(tmin: float, tmax: float) -> tuple[float, float]:
    """An epoch around an event (s): it starts before the event, ends after it, lasts at most
    :data:`MAX_EPOCH_S`; an :class:`EEGError` in one line otherwise."""
    tmin, tmax = float(tmin), float(tmax)
    if not tmin < 0 < tmax:
        raise EEGError(f"epoch must start before the event and end after it, got {tmin:g} to {tmax:g} s")
    if tmax - tmin > MAX_EPOCH_S:
        raise EEGError(f"epoch is {tmax - tmin:g} s long; use at most {MAX_EPOCH_S:g} s")
    return tmin, tmax


def event_epochs(raw, electrodes, event: str, tmin=EPOCH[0], tmax=EPOCH[1], band=DEFAULT_BAND) -> mne.Epochs:
    """Epochs of the electrodes around every ``event`` annotation, baseline-corrected."""
    counts = event_types(raw)
    if event not in counts:
        known = ", ".join(sorted(counts)) or "none"
        raise EEGError(f"no event {event!r} in this recording (events: {known})")
    check_epoch(tmin, tmax)
    low, high = _band(raw, band)
    data = raw.copy().pick(electrodes.used).load_data(verbose="error")
    if low or high:
        data.filter(low, high, verbose="error")
    events, ids = mne.events_from_annotations(data, event_id={event: 1}, verbose="error")
    info = electrodes.info.copy()
    with info._unlock():
        info["sfreq"] = raw.info["sfreq"]
    data = mne.io.RawArray(data.get_data(), info, first_samp=data.first_samp, verbose="error")
    epochs = mne.Epochs(
        data,
        events,
        ids,
        tmin=tmin,
        tmax=tmax,
        baseline=(None, 0),
        proj=True,
        preload=True,
        reject_by_annotation=True,
        verbose="error",
    )
    if len(epochs) == 0:
        raise EEGError(f"no complete epoch around {event!r} fits in the recording")
    return epochs


def noise_covariance(kind: str, electrodes, *, raw=None, epochs=None, stretch=None, band=DEFAULT_BAND):
    """Noise covariance of the electrodes.

    Parameters
    ----------
    kind : str
        ``'baseline'`` (pre-event part of ``epochs``), ``'stretch'`` (the
        recording between ``stretch = (t0, t1)`` s) or ``'ad hoc'`` (MNE's
        diagonal 0.2 µV² covariance: no data needed).
    """
    if kind == "ad hoc":
        return mne.make_ad_hoc_cov(electrodes.info, verbose="error")
    if kind == "baseline":
        if epochs is None:
            raise EEGError("a baseline covariance needs an event to average around; choose a stretch or ad hoc")
        if epochs.times[0] >= 0:
            raise EEGError("the epochs have no pre-event baseline")
        return mne.compute_covariance(epochs, tmax=0.0, method="shrunk", rank=None, verbose="error")
    if kind == "stretch":
        if raw is None or stretch is None:
            raise EEGError("a stretch covariance needs a start and end time")
        t0, t1 = stretch
        if t1 - t0 < 2.0:
            raise EEGError("the noise stretch must last at least 2 s")
        seg = _eeg_segment(raw, electrodes, t0, t1, band)
        seg = mne.io.RawArray(seg.get_data(), _with_sfreq(electrodes.info, raw.info["sfreq"]), verbose="error")
        return mne.compute_raw_covariance(seg, method="shrunk", rank=None, verbose="error")
    raise EEGError(f"noise covariance must be one of {', '.join(COVARIANCES)}, got {kind!r}")


def _with_sfreq(info, sfreq):
    info = info.copy()
    with info._unlock():
        info["sfreq"] = float(sfreq)
    return info


def make_inverse(fwd: mne.Forward, cov: mne.Covariance, info: mne.Info, loose=0.2, depth=0.8):
    """MNE's inverse operator (loose cortical orientation, depth weighting)."""
    return mne.minimum_norm.make_inverse_operator(info, fwd, cov, loose=loose, depth=depth, verbose="error")


def lambda2_from_snr(snr: float) -> float:
    """Regularisation λ² = 1 / SNR² (MNE's convention; SNR 3 is usual for evoked data)."""
    if not snr > 0:
        raise EEGError(f"SNR must be positive, got {snr!r}")
    return 1.0 / float(snr) ** 2


@dataclass
class SourceResult:
    """A source estimate on the template cortex and what produced it.

    Attributes
    ----------
    stc : mne.SourceEstimate
        Source strength (orientation-pooled, so positive) per used vertex and time.
    evoked : mne.Evoked
        What was localised, on the template electrodes (volts).
    positions : ndarray, shape (n_sources, 3)
        Source positions in the template MRI frame (m).
    peak : dict
        ``time`` (s), ``index`` (row of ``stc.data``), ``hemi``, ``vertex``
        (fsaverage5 vertex number), ``pos_mm`` (template MRI = fsaverage
        surface RAS, about MNI305), ``value`` and ``unit``, ``region``.
    """

    stc: mne.SourceEstimate
    evoked: mne.Evoked
    positions: np.ndarray
    method: str
    lambda2: float
    covariance: str
    model: str
    electrodes: fwd_mod.Electrodes
    peak: dict = field(default_factory=dict)

    def unit(self) -> str:
        return "A·m" if self.method == "MNE" else ("z" if self.method == "dSPM" else "a.u.")


def apply(evoked, inverse_operator, method: str, lambda2: float) -> mne.SourceEstimate:
    """Apply the inverse to an Evoked; orientations are pooled (vector norm)."""
    return mne.minimum_norm.apply_inverse(
        evoked, inverse_operator, lambda2, method=check_method(method), verbose="error"
    )


def find_peak(stc: mne.SourceEstimate, positions: np.ndarray, tmin=None, tmax=None) -> dict:
    """Where and when the estimate is strongest (absolute value)."""
    data = np.abs(stc.data)
    times = stc.times
    sel = np.ones(len(times), bool)
    if tmin is not None:
        sel &= times >= tmin
    if tmax is not None:
        sel &= times <= tmax
    if not sel.any():
        sel[:] = True
    cols = np.flatnonzero(sel)
    row, col = np.unravel_index(np.argmax(data[:, cols]), (data.shape[0], len(cols)))
    n_lh = len(stc.vertices[0])
    hemi = "lh" if row < n_lh else "rh"
    vertex = int(stc.vertices[0][row] if row < n_lh else stc.vertices[1][row - n_lh])
    return {
        "time": float(times[cols[col]]),
        "index": int(row),
        "hemi": hemi,
        "vertex": vertex,
        "pos_mm": [round(float(v) * 1000, 1) for v in positions[row]],
        "value": float(stc.data[row, cols[col]]),
    }


def localise(
    raw: mne.io.BaseRaw,
    method: str = "eLORETA",
    *,
    tmin: float | None = None,
    tmax: float | None = None,
    event: str | None = None,
    epoch: tuple[float, float] = EPOCH,
    covariance: str | None = None,
    stretch=None,
    snr: float = 3.0,
    model: str = "bem",
    ico: int = 4,
    band=DEFAULT_BAND,
    progress=None,
) -> SourceResult:
    """Localise a window (``tmin``, ``tmax``) or an event average (``event``).

    ``covariance`` defaults to the baseline for events and ad hoc for windows.
    ``progress(fraction, text)`` is called between the slow parts.
    """
    from backend.sources.atlas import region_name

    method = check_method(method)
    say = progress or (lambda f, t: None)
    electrodes = fwd_mod.electrodes(raw.info)
    epochs = None
    if event is not None:
        epochs = event_epochs(raw, electrodes, event, *epoch, band=band)
        evoked = epochs.average()
        covariance = covariance or "baseline"
    else:
        tmin = 0.0 if tmin is None else float(tmin)
        tmax = min(raw.times[-1], tmin + 10.0) if tmax is None else float(tmax)
        evoked = window_evoked(raw, electrodes, tmin, tmax, band)
        covariance = covariance or "ad hoc"
    say(0.2, "noise covariance")
    cov = noise_covariance(covariance, electrodes, raw=raw, epochs=epochs, stretch=stretch, band=band)
    say(0.35, "forward model (cached per channel set; the very first use also builds the template BEM, 1-2 min)")
    fwd = fwd_mod.forward(electrodes.info, model, ico)
    say(0.6, "inverse operator")
    inv = make_inverse(fwd, cov, electrodes.info)
    lambda2 = lambda2_from_snr(snr)
    say(0.75, f"applying {method}")
    stc = apply(evoked, inv, method, lambda2)
    positions = fwd_mod.mri_positions(fwd)
    peak = find_peak(stc, positions, 0.0 if event is not None else None)
    peak["region"] = region_name(np.array(peak["pos_mm"]))
    result = SourceResult(stc, evoked, positions, method, lambda2, covariance, model, electrodes, peak)
    peak["unit"] = result.unit()
    say(1.0, "done")
    return result
