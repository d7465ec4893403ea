"""The quality table of a study: one row of figures per recording, and the cohort's outliers.

Figures of one recording (:func:`measure`), all in SI units:

- ``duration_s``, ``n_channels`` (EEG channels), ``bad_channels`` (names marked bad
  after cleaning: read from the file, the BIDS sidecar or found by a step), ``n_bad``;
- ``asr_s``: seconds reconstructed by ASR (None when the recipe has no ASR);
- ``iclabel``: components per ICLabel class, ``ica_removed`` and ``variance_removed``
  (fraction of the average-referenced EEG variance the ICA step took out);
- ``line_noise_ratio``: power within ±1 Hz of 50 or 60 Hz (the larger) over the power
  2–5 Hz either side, in the input (1 means no line noise);
- ``high_amplitude_fraction``: fraction of samples where a good EEG channel of the
  cleaned signal is more than 100 µV from its median.

An outlier is a recording more than 3.5 robust z-scores (median and MAD of the cohort)
from the median of a metric, in the direction that means worse data.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import mne
import numpy as np
from scipy import signal

from backend.errors import EEGError
from backend.recording import Recording

HIGH_AMPLITUDE_V = 100e-6
LINE_FREQUENCIES_HZ = (50.0, 60.0)
OUTLIER_Z = 3.5
MIN_COHORT = 4
# Metric -> direction that is worse (+1: high, -1: low, 0: either), and its unit for messages.
OUTLIER_METRICS = {
    "duration_s": (0, "s"),
    "n_bad": (1, ""),
    "asr_s": (1, "s"),
    "variance_removed": (1, ""),
    "line_noise_ratio": (1, ""),
    "high_amplitude_fraction": (1, ""),
}
COLUMNS = (
    "subject",
    "session",
    "task",
    "run",
    "file",
    "status",
    "error",
    "duration_s",
    "n_channels",
    "n_bad",
    "bad_channels",
    "asr_s",
    "ica_removed",
    "variance_removed",
    "iclabel",
    "line_noise_ratio",
    "high_amplitude_fraction",
    "outlier",
    "outlier_reason",
)


def _eeg(raw: mne.io.BaseRaw) -> np.ndarray:
    return mne.pick_types(raw.info, eeg=True, exclude="bads")


def line_noise_ratio(raw: mne.io.BaseRaw) -> float | None:
    """Power at the mains frequency over its neighbourhood, the larger of 50 and 60 Hz (None if above Nyquist)."""
    sfreq = raw.info["sfreq"]
    picks = _eeg(raw)
    usable = [f for f in LINE_FREQUENCIES_HZ if f + 6 < sfreq / 2]
    if not usable or len(picks) == 0:
        return None
    data = raw.get_data(picks=picks)
    freqs, psd = signal.welch(data, fs=sfreq, nperseg=int(min(data.shape[-1], 4 * sfreq)), axis=-1)
    psd = psd.mean(axis=0)
    ratios = []
    for f0 in usable:
        peak = psd[np.abs(freqs - f0) <= 1.0]
        side = psd[(np.abs(freqs - f0) >= 2.0) & (np.abs(freqs - f0) <= 5.0)]
        if len(peak) and len(side) and side.mean() > 0:
            ratios.append(float(peak.mean() / side.mean()))
    return round(max(ratios), 4) if ratios else None


def high_amplitude_fraction(raw: mne.io.BaseRaw, threshold: float = HIGH_AMPLITUDE_V) -> float | None:
    """Fraction of samples where any good EEG channel is more than ``threshold`` volts from its median."""
    picks = _eeg(raw)
    if len(picks) == 0:
        return None
    data = raw.get_data(picks=picks)
    data = data - np.median(data, axis=1, keepdims=True)
    return round(float(np.mean(np.any(np.abs(data) > threshold, axis=0))), 5)


def _average_referenced_variance(raw: mne.io.BaseRaw) -> float:
    data = raw.get_data(picks=_eeg(raw))
    return float(np.var(data - data.mean(axis=0, keepdims=True)))


def measure(before: Recording, after: Recording, step_inputs: Sequence[Recording] = ()) -> dict:
    """The quality figures of one recording, from its input, its cleaned version and each step's input.

    ``step_inputs[i]`` is the recording step ``i`` of the recipe was applied to (so that the
    ICA step's variance removed and ICLabel classes can be measured); may be empty.
    """
    new_steps = after.history[len(before.history) :]
    out: dict = {
        "duration_s": round(float(after.duration_s), 3),
        "n_channels": int(len(mne.pick_types(before.raw.info, eeg=True, exclude=[]))),
        "bad_channels": list(after.raw.info["bads"]),
        "n_bad": len(after.raw.info["bads"]),
        "asr_s": None,
        "ica_removed": None,
        "variance_removed": None,
        "iclabel": None,
        "line_noise_ratio": line_noise_ratio(before.raw),
        "high_amplitude_fraction": high_amplitude_fraction(after.raw),
    }
    for i, step in enumerate(new_steps):
        if step.name == "asr":
            out["asr_s"] = round((out["asr_s"] or 0.0) + float(step.report.get("seconds_reconstructed", 0.0)), 2)
        if step.name in ("ica_iclabel", "ica_remove") and i < len(step_inputs):
            source = step_inputs[i]
            result = after if i == len(new_steps) - 1 else step_inputs[i + 1]
            removed = step.report.get("components_removed", [])
            out["ica_removed"] = len(removed)
            var_before = _average_referenced_variance(source.raw)
            if var_before > 0:
                out["variance_removed"] = round(1.0 - _average_referenced_variance(result.raw) / var_before, 4)
            if step.name == "ica_iclabel":
                out["iclabel"] = _iclabel_counts(source, step.params)
    return out


def _iclabel_counts(source: Recording, params: dict) -> dict[str, int] | None:
    """Components per ICLabel class of the decomposition the ICA step used (the same fit, from its cache)."""
    from backend.components.ica import ICLABEL_CLASSES, decompose

    keys = ("method", "n_components", "seed")
    found = decompose(source.raw.copy(), **{k: params[k] for k in keys if k in params})
    if getattr(found, "probabilities", None) is None:
        return None
    labels = np.asarray(ICLABEL_CLASSES)[np.argmax(found.probabilities, axis=1)]
    return {c: int(np.sum(labels == c)) for c in ICLABEL_CLASSES if np.sum(labels == c)}


def flag_outliers(rows: list[dict], z: float = OUTLIER_Z) -> list[dict]:
    """Rows with ``outlier`` (bool) and ``outlier_reason`` (one line, or None) set against the cohort.

    Only recordings whose status is ``done`` or ``skipped`` count; fewer than
    :data:`MIN_COHORT` of them flag nothing.
    """
    rows = [dict(r) for r in rows]
    good = [r for r in rows if r.get("status") in ("done", "skipped")]
    reasons: dict[int, list[str]] = {id(r): [] for r in rows}
    if len(good) >= MIN_COHORT:
        for metric, (direction, unit) in OUTLIER_METRICS.items():
            values = [(r, r.get(metric)) for r in good if isinstance(r.get(metric), (int, float))]
            if len(values) < MIN_COHORT:
                continue
            x = np.asarray([v for _, v in values], dtype=float)
            median = float(np.median(x))
            mad = float(np.median(np.abs(x - median))) * 1.4826
            if mad <= 0:
                continue
            for r, v in values:
                assert v is not None  # kept above: numbers only
                score = (v - median) / mad
                if (direction >= 0 and score > z) or (direction <= 0 and score < -z):
                    word = "high" if score > 0 else "low"
                    reasons[id(r)].append(f"{metric} {v:g}{unit} is {word} for the cohort (median {median:g}{unit})")
    for r in rows:
        found = reasons[id(r)]
        r["outlier"] = bool(found)
        r["outlier_reason"] = "; ".join(found) if found else None
    return rows


def to_delimited(rows: Sequence[dict], sep: str = ",") -> str:
    """The quality table as CSV (``sep=","``) or TSV (``sep="\\t"``): lists joined with ``+``, dicts as ``k=v``."""
    if sep not in (",", "\t"):
        raise EEGError("the quality table is written as CSV or TSV")
    out = io.StringIO()
    columns = list(COLUMNS) + sorted({k for r in rows for k in r} - set(COLUMNS) - {"steps", "key", "path"})
    writer = csv.DictWriter(out, fieldnames=columns, delimiter=sep, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: _cell(r.get(k)) for k in columns})
    return out.getvalue()


def display_rows(rows: Sequence[dict]) -> list[dict]:
    """The quality table's columns for a table view: numbers and None kept, lists joined with ``, ``,
    dicts as ``k=v``."""
    return [{k: _flat(r.get(k), ", ") for k in COLUMNS} for r in rows]


def _flat(value, join: str):
    """A list as its items joined with ``join``, a dict as ``k=v`` pairs; anything else as it is."""
    if isinstance(value, (list, tuple)):
        return join.join(map(str, value))
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items())
    return value


def _cell(value) -> str:
    return "n/a" if value is None else str(_flat(value, "+"))
