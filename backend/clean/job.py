"""A cleaning pipeline as a job on a Dask worker (:mod:`backend.jobs`).

Which runs go to the workers (:func:`needs_job`): a pipeline on more than
:data:`LIGHT_MAX_S` seconds of data, or one holding a step of :data:`HEAVY_STEPS`
(ASR, ICA + ICLabel, the transformer denoiser) whatever the length. A short pipeline of
light steps (filters, notch, resample, re-reference, bad channels) on a minute or less stays
in the server.

The worker opens the Library recording, applies the pipeline's steps
(:func:`backend.clean.pipeline.run_pipeline`) and stores the cleaned signals as FIF bytes
with the new steps' history (names, params, reports) as a ``clean`` result. The page rebuilds
the cleaned :class:`~backend.recording.Recording` from it (:func:`cleaned`) without rerunning.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from backend import steps
from backend.errors import EEGError
from backend.jobs import Output
from backend.recording import Recording, Step

LIGHT_MAX_S = 60.0  # a pipeline of light steps on this much data or less runs in the server
HEAVY_STEPS = frozenset({"asr", "ica_iclabel", "art"})  # always a job, whatever the length


def needs_job(recording: Recording, pipeline: list[dict[str, Any]]) -> bool:
    """Whether ``pipeline`` on ``recording`` is heavy work, for a worker rather than the server."""
    return recording.duration_s > LIGHT_MAX_S or any(s["name"] in HEAVY_STEPS for s in pipeline)


def result_name(steps_key: str, pipeline: list[dict[str, Any]]) -> str:
    """The ``clean`` result's name for a recording state and a pipeline (one stored run each)."""
    text = json.dumps(pipeline, sort_keys=True, default=str)
    return f"{steps_key}:{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def run(recording: Recording, params: dict[str, Any], progress) -> Output:
    """Apply ``params["pipeline"]`` to the recording; the cleaned FIF and the new steps' history."""
    from backend.clean.pipeline import run_pipeline

    pipeline = params.get("pipeline") or []
    if params.get("steps_key") not in (None, recording.steps_key):
        raise EEGError("the recording was changed since the pipeline was started; run it again")

    def _step(i: int, n: int, name: str) -> None:
        if i < n:
            progress(0.02 + 0.9 * i / n, f"step {i + 1} of {n}: {steps.get(name).title}")

    cleaned = run_pipeline(recording, pipeline, _step)
    progress(0.93, "writing the cleaned recording")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cleaned_raw.fif"
        cleaned.raw.save(path, fmt="double", overwrite=True, verbose="error")  # as the Library caches it
        blob = path.read_bytes()
    added = cleaned.history[len(recording.history) :]
    history = json.loads(
        json.dumps([{"name": s.name, "params": s.params, "report": s.report} for s in added], default=str)
    )
    payload = {"steps_key": recording.steps_key, "pipeline": pipeline, "history": history}
    return Output(result_name(recording.steps_key, pipeline), payload, blob)


def cleaned(recording: Recording, payload: dict[str, Any], blob: bytes) -> Recording:
    """The cleaned recording of a stored ``clean`` result: its signals, ``recording``'s history plus the steps."""
    import mne

    if payload.get("steps_key") != recording.steps_key:
        raise EEGError("this cleaning result belongs to another state of the recording; run the pipeline again")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cleaned_raw.fif"
        path.write_bytes(blob)
        raw = mne.io.read_raw_fif(path, preload=True, verbose="error")
    added = tuple(Step(h["name"], dict(h.get("params", {})), dict(h.get("report", {}))) for h in payload["history"])
    return replace(recording, raw=raw, history=recording.history + added)
