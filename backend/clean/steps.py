"""Cleaning steps that change the data: band-pass, notch, resampling and re-referencing.

Unlike Browse's display filters these are history steps: they become part of the
recipe and of the exported MNE-Python script. All of them are MNE-Python's own
(``Raw.filter``, ``Raw.notch_filter``, ``Raw.resample``, ``Raw.set_eeg_reference``).
"""

from __future__ import annotations

import mne
import numpy as np

from backend.errors import EEGError
from backend.steps import source_lines

# Names of the electrode pairs behind the linked references, in the order tried.
LINKED_REFERENCES = {
    "mastoids": (("M1", "M2"), ("TP9", "TP10"), ("A1", "A2")),
    "ears": (("A1", "A2"), ("M1", "M2")),
}


def number(name: str, value, low: float | None = None, high: float | None = None, allow_none: bool = False):
    """``value`` as a float, checked against ``low < value < high``; an EEGError naming ``name`` otherwise."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise EEGError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or (low is not None and value <= low) or (high is not None and value >= high):
        bounds = " and ".join(
            b for b in (f"above {low:g}" if low is not None else "", f"below {high:g}" if high is not None else "") if b
        )
        raise EEGError(f"{name} must be {bounds}, got {value:g}")
    return value


def _nyquist(raw) -> float:
    return raw.info["sfreq"] / 2.0


def _check_band(raw, l_freq, h_freq) -> tuple[float | None, float | None]:
    nyq = _nyquist(raw)
    l_freq = number("the low cut-off (Hz)", l_freq, 0, nyq, allow_none=True)
    h_freq = number("the high cut-off (Hz)", h_freq, 0, nyq, allow_none=True)
    if l_freq is None and h_freq is None:
        raise EEGError("give a low cut-off, a high cut-off or both")
    if l_freq is not None and h_freq is not None and l_freq >= h_freq:
        raise EEGError(f"the low cut-off ({l_freq:g} Hz) must be below the high cut-off ({h_freq:g} Hz)")
    return l_freq, h_freq


def _bandpass_script(l_freq=1.0, h_freq=40.0) -> list[str]:
    return ["raw.load_data()", f"raw.filter({l_freq!r}, {h_freq!r})"]


def bandpass(raw, l_freq: float | None = 1.0, h_freq: float | None = 40.0):
    l_freq, h_freq = _check_band(raw, l_freq, h_freq)
    raw.load_data()
    raw.filter(l_freq, h_freq, verbose="error")
    return raw, {"band_hz": [l_freq, h_freq]}


def notch_frequencies(sfreq: float, freq: float) -> np.ndarray:
    """The mains frequency ``freq`` (Hz) and its harmonics below Nyquist (used by the step and its script)."""
    return np.arange(freq, sfreq / 2, freq)


def _notch_script(freq=50.0) -> list[str]:
    return [
        *source_lines(notch_frequencies),
        "raw.load_data()",
        f"raw.notch_filter(notch_frequencies(raw.info['sfreq'], {freq!r}))",
    ]


def notch(raw, freq: float = 50.0):
    freq = number("the notch frequency (Hz)", freq, 0, _nyquist(raw))
    freqs = notch_frequencies(raw.info["sfreq"], freq)
    raw.load_data()
    raw.notch_filter(freqs, verbose="error")
    return raw, {"notch_hz": [float(f) for f in freqs]}


def _resample_script(sfreq=128.0) -> list[str]:
    return ["raw.load_data()", f"raw.resample({sfreq!r})"]


def resample(raw, sfreq: float = 128.0):
    sfreq = number("the new sampling rate (Hz)", sfreq, 1.0, 100_000.0)
    old = float(raw.info["sfreq"])
    raw.load_data()
    raw.resample(sfreq, verbose="error")
    return raw, {"sfreq_hz": [old, float(raw.info["sfreq"])], "n_samples": int(raw.n_times)}


def reference_channels(raw, ref) -> str | list[str]:
    """The channels behind ``ref``: ``'average'``, ``'mastoids'``, ``'ears'``, a name or a list of names."""
    if isinstance(ref, str) and ref.lower() == "average":
        return "average"
    lookup = {name.upper(): name for name in raw.ch_names}
    if isinstance(ref, str) and ref.lower() in LINKED_REFERENCES:
        for pair in LINKED_REFERENCES[ref.lower()]:
            if all(p.upper() in lookup for p in pair):
                return [lookup[p.upper()] for p in pair]
        wanted = " or ".join("/".join(p) for p in LINKED_REFERENCES[ref.lower()])
        raise EEGError(f"no linked {ref.lower()} reference in this recording: it needs channels {wanted}")
    names = [ref] if isinstance(ref, str) else ref
    if not isinstance(names, (list, tuple)) or not names or not all(isinstance(n, str) for n in names):
        raise EEGError(f"reference must be 'average', 'mastoids', 'ears' or channel names, got {ref!r}")
    missing = [n for n in names if n.upper() not in lookup]
    if missing:
        raise EEGError(f"no channel named {', '.join(missing)} to re-reference to")
    return [lookup[n.upper()] for n in names]


def _reref_script(ref="average") -> list[str]:
    if isinstance(ref, str) and ref.lower() == "average":
        return ["raw.load_data()", "raw.set_eeg_reference('average', projection=False)"]
    if isinstance(ref, str) and ref.lower() in LINKED_REFERENCES:
        candidates = [list(pair) for pair in LINKED_REFERENCES[ref.lower()]]
    else:
        candidates = [[ref] if isinstance(ref, str) else list(ref)]
    return [
        "raw.load_data()",
        "upper = {name.upper(): name for name in raw.ch_names}",
        f"ref_channels = next([upper[n.upper()] for n in pair] for pair in {candidates!r} if all(n.upper() in upper for n in pair))",
        "raw.set_eeg_reference(ref_channels, projection=False)",
    ]


def reref(raw, ref="average"):
    channels = reference_channels(raw, ref)
    if len(mne.pick_types(raw.info, eeg=True, exclude="bads")) < 2:
        raise EEGError("re-referencing needs at least 2 good EEG channels")
    raw.load_data()
    raw.set_eeg_reference(channels, projection=False, verbose="error")
    return raw, {"reference": channels}
