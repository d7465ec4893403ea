"""Source localisation as a job on a Dask worker (:mod:`backend.jobs`).

The worker localises what the Sources page asked for (:func:`backend.sources.inverse.localise`)
and stores the source estimate as an ``.npz`` (estimate, vertices, source positions and the
localised Evoked as FIF bytes) with its peak and peak table as a ``source_estimate`` result.
The page rebuilds the :class:`~backend.sources.inverse.SourceResult` from it (:func:`source_result`)
and draws its figures in the server, without localising again.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from backend.errors import EEGError
from backend.jobs import Output

_TUPLES = ("epoch", "stretch")  # parameters localise takes as pairs (JSON has lists)


def result_name(steps_key: str, params) -> str:
    """The ``source_estimate`` result's name for a recording state and the page's parameters."""
    text = json.dumps(sorted(dict(params).items()), default=str)
    return f"{steps_key}:{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def run(recording, params: dict[str, Any], progress) -> Output:
    """Localise with ``params["params"]`` (the page's ``[name, value]`` pairs) on the recording."""
    from backend.sources.export import peak_table
    from backend.sources.inverse import localise

    if params.get("steps_key") not in (None, recording.steps_key):
        raise EEGError("the recording was changed since the localisation was asked for; localise again")
    settings: dict[str, Any] = {k: tuple(v) if k in _TUPLES and v is not None else v for k, v in params["params"]}
    result = localise(recording.raw, progress=lambda f, t: progress(0.02 + 0.9 * f, t), **settings)
    progress(0.93, "storing the source estimate")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "localised-ave.fif"
        result.evoked.save(path, overwrite=True, verbose="error")
        evoked = np.frombuffer(path.read_bytes(), np.uint8)
    buffer = io.BytesIO()
    stc = result.stc
    np.savez_compressed(
        buffer,
        data=stc.data,
        lh=stc.vertices[0],
        rh=stc.vertices[1],
        tmin=stc.tmin,
        tstep=stc.tstep,
        positions=result.positions,
        evoked=evoked,
    )
    payload = {
        "steps_key": recording.steps_key,
        "subject": stc.subject,
        "method": result.method,
        "lambda2": result.lambda2,
        "covariance": result.covariance,
        "model": result.model,
        "peak": result.peak,
        "peaks": json.loads(json.dumps(peak_table(result), default=float)),
    }
    return Output(result_name(recording.steps_key, params["params"]), payload, buffer.getvalue())


def source_result(recording, payload: dict[str, Any], blob: bytes):
    """The :class:`~backend.sources.inverse.SourceResult` of a stored ``source_estimate`` result."""
    import mne

    from backend.sources import forward
    from backend.sources.inverse import SourceResult

    if payload.get("steps_key") != recording.steps_key:
        raise EEGError("this source estimate belongs to another state of the recording; localise again")
    with np.load(io.BytesIO(blob)) as npz:
        arrays = {k: npz[k] for k in npz.files}
    stc = mne.SourceEstimate(
        arrays["data"],
        [arrays["lh"], arrays["rh"]],
        float(arrays["tmin"]),
        float(arrays["tstep"]),
        subject=payload.get("subject"),
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "localised-ave.fif"
        path.write_bytes(arrays["evoked"].tobytes())
        evoked = mne.read_evokeds(path, verbose="error")[0]
    return SourceResult(
        stc,
        evoked,
        arrays["positions"],
        payload["method"],
        float(payload["lambda2"]),
        payload["covariance"],
        payload["model"],
        forward.electrodes(recording.raw.info),
        dict(payload["peak"]),
    )
