"""Source localisation as a job on a Dask worker (:mod:`backend.jobs`).

The worker localises what the Sources page asked for (:func:`backend.sources.inverse.localise`)
and stores the source estimate as an ``.npz`` (estimate, vertices, source positions and the
localised Evoked as FIF bytes) with its peak and peak table as a ``source_estimate`` result.
The page rebuilds the :class:`~backend.sources.inverse.SourceResult` from it (:func:`source_result`)
and draws its figures in the server, without localising again.

A dipole fit is a job too (:func:`dipole`): to the scalp map at one time of a stored
localisation, or to a component of the ICA the Components page shows (its job's stored fit,
the file's ICA, or a fit on the worker). It stores the fitted dipole as a ``dipole`` result;
:func:`dipole_fit` rebuilds the :class:`~backend.sources.dipole.DipoleFit`.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from backend import jobs
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


# --- dipole fits ----------------------------------------------------------------------------------

DIPOLE_TARGETS = ("map", "component")
_DIPOLE_FIELDS = ("pos_mm", "ori", "gof", "amplitude", "time", "region")


def dipole_name(steps_key: str, request: dict[str, Any]) -> str:
    """The ``dipole`` result's name for a recording state and a fit's request (its label aside)."""
    settings = {k: v for k, v in request.items() if k not in ("label", "name", "steps_key")}
    return result_name(steps_key, settings.items())


def dipole(recording, params: dict[str, Any], progress) -> Output:
    """Fit one dipole as ``params`` asks.

    ``params["target"]`` is ``"map"`` (the scalp map at ``time`` s of the stored localisation of
    the Sources page's ``params`` pairs) or ``"component"`` (component ``component`` of the ICA
    of ``settings`` = [method, n_components, seed]); ``model`` is the head model, ``label`` says
    in words what was fitted.
    """
    from backend.sources import dipole as dipoles

    if params.get("steps_key") not in (None, recording.steps_key):
        raise EEGError("the recording was changed since the dipole fit was asked for; fit it again")
    target, model = params.get("target"), params.get("model", "sphere")
    if target == "map":
        progress(0.05, "reading the localisation")
        evoked, cov = _localised_map(recording, params["params"])
        progress(0.3, f"fitting a dipole ({model} head model)")
        fit = dipoles.fit_at(evoked, cov, float(params["time"]), model)
    elif target == "component":
        dec = _components(recording, params["settings"], progress)
        component = int(params["component"])
        if not 0 <= component < dec.n_components:
            raise EEGError(f"this ICA has components 0-{dec.n_components - 1}")
        progress(0.6, f"fitting a dipole to component {component} ({model} head model)")
        fit = dipoles.fit_component(dec.ica, component, recording.raw.info, model)
    else:
        raise EEGError(f"a dipole is fitted to one of {', '.join(DIPOLE_TARGETS)}, got {target!r}")
    payload = {
        "steps_key": recording.steps_key,
        "label": str(params.get("label", "")),
        # Unrounded: the page shows the very fit (and the server's fit of the same map is equal).
        "pos_mm": [float(v) for v in fit.pos_mm],
        "ori": [float(v) for v in fit.ori],
        "gof": float(fit.gof),
        "amplitude": float(fit.amplitude),
        "time": float(fit.time),
        "region": fit.region,
    }
    return Output(dipole_name(recording.steps_key, params), payload)


def _localised_map(recording, pairs):
    """The localised Evoked of the stored localisation of ``pairs`` and its noise covariance."""
    from backend.sources import inverse

    found = jobs.stored("source_estimate", result_name(recording.steps_key, pairs))
    if found is None or found[1] is None:
        raise EEGError("the localisation of this scalp map is no longer stored; press Localise, then fit again")
    result = source_result(recording, *found)
    p: dict[str, Any] = {k: tuple(v) if k in _TUPLES and v is not None else v for k, v in pairs}
    epochs = None
    if p.get("event") is not None:
        epochs = inverse.event_epochs(recording.raw, result.electrodes, p["event"], *p["epoch"])
    cov = inverse.noise_covariance(
        result.covariance, result.electrodes, raw=recording.raw, epochs=epochs, stretch=p.get("stretch")
    )
    return result.evoked, cov


def _components(recording, settings, progress):
    """The decomposition the Components page shows for ``settings``: its job's stored fit when there
    is one (never another fit of it), else the file's ICA or a fit here."""
    from backend.components import job as ica_job
    from backend.components.ica import DEFAULT_SEED, for_recording

    method, n_components, seed = settings
    if method not in (None, "stored") and seed is not None:  # what a Components job fits and stores
        found = jobs.stored("ica_fit", ica_job.result_name(recording.steps_key, method, n_components, seed))
        if found is not None and found[1] is not None:
            progress(0.1, "reading the stored ICA")
            return ica_job.decomposition(recording, *found)
    progress(0.1, "fitting ICA" if method != "stored" and recording.ica is None else "reading the ICA")
    return for_recording(recording, method, n_components, DEFAULT_SEED if seed is None else seed)


def dipole_fit(payload: dict[str, Any]):
    """The :class:`~backend.sources.dipole.DipoleFit` of a stored ``dipole`` result."""
    from backend.sources.dipole import DipoleFit

    missing = [k for k in _DIPOLE_FIELDS if k not in payload]
    if missing:
        raise EEGError(f"this stored dipole lacks {', '.join(missing)}; fit it again")
    return DipoleFit(
        np.asarray(payload["pos_mm"], float),
        np.asarray(payload["ori"], float),
        float(payload["gof"]),
        float(payload["amplitude"]),
        float(payload["time"]),
        str(payload["region"]),
    )
