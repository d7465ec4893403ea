"""What the analysis pages save to the Library as their results are produced, and the one-line summaries they show.

The payloads are plain JSON (:meth:`backend.library.api.Library.save_result`); each page
calls :func:`ui.library.save_result` with them on every run, which writes only when a
payload changed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backend.library.api import Result
from ui import library


def _numbers(items) -> str:
    return ", ".join(map(str, items)) if items else "none"


def state(rec) -> str:
    """The recording's processing steps after loading, as a key: the same for the Library's copy of a file."""
    return rec.steps_key


# --- Components --------------------------------------------------------------------------------


def ica_payload(rec, dec, settings: tuple, chosen) -> dict[str, Any]:
    """A fitted (or stored) ICA with its ICLabel labels and the components chosen for removal."""
    probs = np.asarray(dec.probabilities)
    labels = dec.labels
    return {
        "method": dec.method,
        "n_components": int(dec.n_components),
        "requested": settings[1],
        "seed": dec.params.get("seed"),
        "settings": list(settings),
        "state": state(rec),
        "steps": len(rec.history),
        "labels": labels,
        "top_probability": [round(float(p), 3) for p in probs.max(axis=1)],
        "counts": {c: labels.count(c) for c in sorted(set(labels))},
        "chosen": sorted(int(i) for i in chosen),
    }


def saved_chosen(rec, dec, settings: tuple) -> list[int] | None:
    """The components saved as chosen for a decomposition with these settings of this state, or None."""
    saved = library.latest_result("ica")
    p = saved.payload if saved is not None else {}
    if p.get("state") != state(rec) or p.get("settings") != list(settings) or p.get("n_components") != dec.n_components:
        return None
    return [int(i) for i in saved.payload.get("chosen", []) if 0 <= int(i) < dec.n_components]


def ica_summary(saved: Result, rec) -> str:
    p = saved.payload
    where = "" if p.get("state") == state(rec) else f", on the recording after {p.get('steps', 1) - 1} processing steps"
    return (
        f"Saved in your library: {p['method']} ICA, {p['n_components']} components{where}; components "
        f"{_numbers(p.get('chosen'))} chosen for removal (on {library.saved_when(saved)})."
    )


# --- Classify ----------------------------------------------------------------------------------


def task_payload(task, scheme: str, folds: int, runs) -> dict[str, Any]:
    return {
        "events": list(task.events),
        "window_band_mode": task.mode,
        "window_s": None if task.window_auto else list(task.window),  # automatic: per fold, in each result
        "band_hz": None if task.band_auto else list(task.pass_band),
        "scheme": scheme,
        "folds": int(folds),
        "runs": [r.name for r in runs],
    }


def classification_payload(task, scheme: str, folds: int, runs, results) -> dict[str, Any]:
    """The cross-validation table: per pipeline its means and fold scores."""
    return task_payload(task, scheme, folds, runs) | {"results": [r.to_dict() for r in results]}


def classification_summary(saved: Result, labels: dict[str, str]) -> str:
    p = saved.payload
    rows = "; ".join(
        f"{labels.get(r['pipeline'], r['pipeline'])} ROC-AUC {_score(r.get('roc_auc_mean'))}{_interval(r)}, "
        f"accuracy {_score(r.get('accuracy_mean'))}"
        for r in p.get("results", [])
    )
    return f"Last saved cross-validation ({' vs '.join(p.get('events', []))}, {library.saved_when(saved)}): {rows}."


def _interval(row: dict) -> str:
    """`` (95 % interval low–high)`` of a stored row, or nothing (none stored, or none with one fold)."""
    from backend.classify.validate import interval_text

    text = interval_text(row.get("roc_auc_ci95"))
    return f" (95 % interval {text})" if text else ""


def _score(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


# --- Sources -----------------------------------------------------------------------------------


def sources_payload(params: tuple, peak: dict) -> dict[str, Any]:
    """The localisation's settings and its peak."""
    return {
        "settings": dict(params),
        "peak": {
            "time_s": float(peak["time"]),
            "pos_mm": [round(float(v), 1) for v in peak["pos_mm"]],
            "region": peak["region"],
            "value": float(peak["value"]),
            "unit": peak["unit"],
        },
    }


def sources_summary(saved: Result) -> str:
    s, peak = saved.payload["settings"], saved.payload["peak"]
    what = f"event '{s['event']}'" if s.get("event") else f"{s.get('tmin', 0):g}–{s.get('tmax', 0):g} s"
    return (
        f"Last saved localisation ({library.saved_when(saved)}): {s['method']} on {what}, {s['model']} head model, "
        f"SNR {s['snr']:g}; peak {peak['region']} at {peak['time_s']:.3f} s, "
        f"{', '.join(f'{v:.0f}' for v in peak['pos_mm'])} mm, {peak['value']:.2g} {peak['unit']}."
    )
