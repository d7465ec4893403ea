"""The ICA fit and ICLabel as a job on a Dask worker (:mod:`backend.jobs`).

The worker fits the decomposition the Components page would have fitted (same settings,
same seed, so the ``ica_remove`` step replays it exactly), labels it with ICLabel, and
stores the ICA as FIF with its probabilities as an ``ica_fit`` result of the recording.
The page rebuilds the components from that result (:func:`decomposition`) without refitting.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from backend.errors import EEGError
from backend.jobs import Output


def result_name(steps_key: str, method: str, n_components, seed: int) -> str:
    """The ``ica_fit`` result's name for a recording state and settings (one stored fit each)."""
    return f"{steps_key}:{method}:{n_components!r}:{int(seed)}"


def fit(recording, params: dict[str, Any], progress) -> Output:
    """Fit ICA with ``params`` (method, n_components, seed, steps_key) and label it with ICLabel."""
    from backend.components.ica import DEFAULT_SEED, decompose

    method, n_components = params.get("method", "picard"), params.get("n_components")
    seed = int(params.get("seed", DEFAULT_SEED))
    if params.get("steps_key") not in (None, recording.steps_key):
        raise EEGError("the recording was changed since the fit was asked for; fit again")
    progress(0.05, f"fitting ICA ({method})")
    dec = decompose(recording.raw, method, n_components, seed)
    progress(0.7, "labelling components with ICLabel")
    probabilities = dec.probabilities
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fitted-ica.fif"
        dec.ica.save(path, overwrite=True, verbose="error")
        blob = path.read_bytes()
    payload = {
        "method": method,
        "requested": n_components,
        "seed": seed,
        "n_components": dec.n_components,
        "steps_key": recording.steps_key,
        "probabilities": np.round(np.asarray(probabilities, float), 6).tolist(),
        "fit_s": round(dec.fit_s, 3),
        "label_s": round(dec.label_s, 3),
    }
    return Output(result_name(recording.steps_key, method, n_components, seed), payload, blob)


def decomposition(recording, payload: dict[str, Any], blob: bytes):
    """The :class:`~backend.components.ica.Decomposition` of a stored ``ica_fit`` result (no refit)."""
    import mne

    from backend.components.ica import from_fitted

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fitted-ica.fif"
        path.write_bytes(blob)
        ica = mne.preprocessing.read_ica(path, verbose="error")
    return from_fitted(
        recording.raw,
        ica,
        {"method": payload["method"], "n_components": payload["requested"], "seed": int(payload["seed"])},
        np.asarray(payload["probabilities"], float),
        fit_s=float(payload.get("fit_s", 0.0)),
        label_s=float(payload.get("label_s", 0.0)),
    )
