"""Trained models: train, save, load, and check against a recording.

A model file is a zip archive holding ``model.json`` (pipeline, task, channels, rate, classes)
and the estimator: ``estimator.skops`` for scikit-learn pipelines (skops, loaded only when every
type it names is from a trusted package) or ``weights.npz`` for the torch CNN (its ``state_dict``
as NumPy arrays, read with ``np.load(allow_pickle=False)``). Nothing is ever unpickled, and no
native parser reads an uploaded model: torch's own file reader is C++, numpy's ``.npz`` reader
is Python's zipfile and a header parsed by Python.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import skops.io as sio
import torch
from threadpoolctl import threadpool_limits

from backend.classify.cnn import ShallowConvNetClassifier
from backend.classify.epochs import TaskSpec, Trials
from backend.classify.pipelines import make_estimator, pipeline_info
from backend.classify.window_band import select
from backend.errors import EEGError
from backend.recording import Recording

FORMAT = "eeg-explorer-model"
VERSION = 1
MAX_MODEL_BYTES = 200 * 1024 * 1024
# Packages whose types a skops file may name (skops refuses anything else unless trusted).
TRUSTED_PREFIXES = ("sklearn.", "pyriemann.", "numpy.", "scipy.", "backend.classify.")
TRUSTED_BUILTINS = {"builtins.slice", "builtins.complex", "collections.OrderedDict", "collections.defaultdict"}


@dataclass
class TrainedModel:
    """An estimator fitted on one subject, with what it expects of a recording.

    Attributes
    ----------
    pipeline : str
        Registered pipeline name.
    estimator : object
        The fitted scikit-learn estimator.
    task : TaskSpec
        Events (classes), window and band it was trained with.
    ch_names : tuple of str
        EEG channels, in the order the estimator reads them.
    sfreq : float
        Sampling rate in Hz.
    trained_on : list of str
        Names of the training runs.
    n_trials : int
    """

    pipeline: str
    estimator: Any  # a scikit-learn pipeline, or cnn.ShallowConvNetClassifier (the same contract)
    task: TaskSpec
    ch_names: tuple[str, ...]
    sfreq: float
    trained_on: list[str] = field(default_factory=list)
    n_trials: int = 0

    @property
    def classes(self) -> list[str]:
        return list(self.task.events)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probabilities ``(n_windows, n_classes)`` in :attr:`classes` order."""
        with threadpool_limits(limits=1, user_api="blas"):
            p = self.estimator.predict_proba(X)
        return p[:, [list(map(str, self.estimator.classes_)).index(c) for c in self.classes]]

    def meta(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "pipeline": self.pipeline,
            "kind": pipeline_info(self.pipeline).kind,
            "task": self.task.to_dict(),
            "ch_names": list(self.ch_names),
            "sfreq": self.sfreq,
            "trained_on": self.trained_on,
            "n_trials": self.n_trials,
        }


def train_model(trials: Trials, pipeline: str) -> TrainedModel:
    """Fit pipeline ``pipeline`` on all ``trials`` (an automatic window and band chosen on all of them)."""
    return fit_model(trials, pipeline, np.arange(len(trials.y)))


def fit_model(trials: Trials, pipeline: str, index: np.ndarray) -> TrainedModel:
    """Fit pipeline ``pipeline`` on the trials at ``index`` (a cross-validation fold's training set).

    With an automatic window or band, they are first chosen on those trials
    (:func:`backend.classify.window_band.select`); the model keeps the chosen, concrete task, so
    whatever applies it cuts its input the same way.
    """
    chosen = select(trials, index)
    estimator = make_estimator(pipeline, chosen.sfreq, chosen.ch_names)
    with threadpool_limits(limits=1, user_api="blas"):
        estimator.fit(chosen.X[index], chosen.y[index])
    return TrainedModel(
        pipeline, estimator, chosen.task, chosen.ch_names, chosen.sfreq, list(chosen.run_names), len(index)
    )


def model_bytes(model: TrainedModel) -> bytes:
    """The model file's content (a zip archive)."""
    meta = model.meta()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        if meta["kind"] == "torch":
            est = model.estimator
            meta["torch"] = {
                "params": est.get_params(),
                "classes": [str(c) for c in est.classes_],
                "scale": est.scale_.tolist(),
                "n_times": int(est.module_.n_times),
            }
            weights = io.BytesIO()
            np.savez(weights, **{k: v.detach().cpu().numpy() for k, v in est.module_.state_dict().items()})
            zf.writestr("weights.npz", weights.getvalue())
        else:
            zf.writestr("estimator.skops", sio.dumps(model.estimator))
        zf.writestr("model.json", json.dumps(meta, indent=1))
    return buffer.getvalue()


def save_model(model: TrainedModel, path: str | Path) -> Path:
    path = Path(path)
    path.write_bytes(model_bytes(model))
    return path


def _untrusted(types: list[str]) -> list[str]:
    return [t for t in types if not (t.startswith(TRUSTED_PREFIXES) or t in TRUSTED_BUILTINS)]


def load_model(source: str | Path | bytes) -> TrainedModel:
    """Read a model file (path or bytes, e.g. an upload); :class:`EEGError` if it is not a valid one."""
    data = Path(source).read_bytes() if isinstance(source, (str, Path)) else bytes(source)
    if len(data) > MAX_MODEL_BYTES:
        raise EEGError(f"model file of {len(data) / 1e6:.0f} MB exceeds the {MAX_MODEL_BYTES / 1e6:.0f} MB limit")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        meta = json.loads(zf.read("model.json"))
    except (zipfile.BadZipFile, KeyError, ValueError):
        raise EEGError("not an EEG Explorer model file (expected a zip archive holding model.json)") from None
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise EEGError(f"not an EEG Explorer model file of version {VERSION}")
    try:
        info = pipeline_info(meta["pipeline"])
        task = TaskSpec(
            tuple(meta["task"]["events"]), meta["task"]["tmin"], meta["task"]["tmax"], tuple(meta["task"]["band"])
        )
        if task.auto:
            raise EEGError("model file names no window and band")
        if info.kind == "torch":
            if "weights.npz" not in zf.namelist():
                raise EEGError(
                    "this model file keeps its network in torch's own format (an older EEG Explorer), which is not read: "
                    "train it again"
                )
            estimator = _load_torch(zf.read("weights.npz"), meta)
        else:
            blob = zf.read("estimator.skops")
            bad = _untrusted(sio.get_untrusted_types(data=blob))
            if bad:
                raise EEGError(f"model file refers to untrusted types ({', '.join(bad[:3])}); it was not loaded")
            estimator = sio.loads(blob, trusted=sio.get_untrusted_types(data=blob))
    except EEGError:
        raise
    except Exception as err:  # a corrupt or foreign archive: say so in one line
        raise EEGError(f"model file is damaged or incompatible: {type(err).__name__}") from None
    return TrainedModel(
        meta["pipeline"],
        estimator,
        task,
        tuple(meta["ch_names"]),
        float(meta["sfreq"]),
        list(meta.get("trained_on", [])),
        int(meta.get("n_trials", 0)),
    )


def _load_torch(blob: bytes, meta: dict) -> ShallowConvNetClassifier:
    spec = meta["torch"]
    est = ShallowConvNetClassifier(**spec["params"])
    est.classes_ = np.asarray(spec["classes"])
    est.scale_ = np.asarray(spec["scale"], dtype=float)
    est.module_ = est.build(len(meta["ch_names"]), int(spec["n_times"]), len(est.classes_))
    with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
        est.module_.load_state_dict({k: torch.from_numpy(arrays[k].copy()) for k in arrays.files})
    est.module_.eval()
    return est


def check_compatible(model: TrainedModel, recording: Recording, task: TaskSpec | None = None) -> None:
    """Refuse a recording the model cannot read as it was trained.

    Checks the channels (names present), the sampling rate, that the model's band lies below
    Nyquist and inside any filtering already applied, that the recording is longer than one
    window, and, when ``task`` (the user's current settings) is given, that its events, band
    and window equal the model's (an automatic window or band accepts the model's).
    """
    raw = recording.raw
    missing = [c for c in model.ch_names if c not in raw.ch_names]
    if missing:
        raise EEGError(
            f"model expects {len(model.ch_names)} channels; {recording.name} lacks {len(missing)} of them "
            f"({', '.join(missing[:4])}{'…' if len(missing) > 4 else ''})"
        )
    if abs(float(raw.info["sfreq"]) - model.sfreq) > 1e-6:
        raise EEGError(
            f"model expects {model.sfreq:g} Hz; {recording.name} is sampled at {raw.info['sfreq']:g} Hz (resample it first)"
        )
    low, high = model.task.pass_band
    if high >= raw.info["sfreq"] / 2:
        raise EEGError(f"model band {low:g}–{high:g} Hz reaches Nyquist of {recording.name}")
    if raw.info["lowpass"] < high or raw.info["highpass"] > low:
        raise EEGError(
            f"model band {low:g}–{high:g} Hz lies outside {recording.name}'s pass band "
            f"{raw.info['highpass']:g}–{raw.info['lowpass']:g} Hz"
        )
    if recording.duration_s < model.task.window_s:
        raise EEGError(
            f"{recording.name} ({recording.duration_s:.1f} s) is shorter than the model's {model.task.window_s:g} s window"
        )
    if task is not None:
        mine, theirs = model.task, task
        if not theirs.band_auto and mine.pass_band != theirs.pass_band:
            raise EEGError(
                f"model was trained on {low:g}–{high:g} Hz; the settings say {theirs.pass_band[0]:g}–{theirs.pass_band[1]:g} Hz"
            )
        if not theirs.window_auto and (
            abs(mine.window_s - theirs.window_s) > 1e-9 or mine.window[0] != theirs.window[0]
        ):
            raise EEGError(
                f"model was trained on the window {mine.window[0]:g}–{mine.window[1]:g} s; "
                f"the settings say {theirs.window[0]:g}–{theirs.window[1]:g} s"
            )
        if set(mine.events) != set(theirs.events):
            raise EEGError(f"model classifies {', '.join(mine.events)}; the settings say {', '.join(theirs.events)}")
