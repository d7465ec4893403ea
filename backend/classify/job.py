"""Classify's heavy work as jobs on a Dask worker (:mod:`backend.jobs`).

Two stages, each for one Library recording (the worker opens it; runs uploaded beside it on
the page are not in the Library, so the page works on them in the server instead):

- :func:`cross_validation` cross-validates every chosen pipeline for the task, scheme and folds
  and stores, as a ``classify_cv`` result, each :meth:`CVResult.to_dict` with the trials' true
  classes and out-of-fold probabilities, and the chance level: :func:`scores` and :func:`chance`
  rebuild what the page draws (table, comparison, ROC, per-fold scores, confusion) without refitting.
- :func:`timeline` computes the out-of-fold probability timeline
  (:func:`~backend.classify.timeline.out_of_fold_timeline`) and stores its windows, probabilities
  and events as a ``classify_timeline`` result; :func:`stored_timeline` rebuilds it.
- :func:`permutation` runs the permutation test of one pipeline's cross-validation
  (:func:`~backend.classify.chance.permutation_test`) and stores its observed score, p-value,
  chance level and null scores as a ``classify_permutation`` result; :func:`stored_permutation`
  rebuilds it.
- :func:`train` fits one pipeline on all the task's trials (a model to apply to another
  recording) and stores the model file (:func:`~backend.classify.persistence.model_bytes`) as a
  ``model`` result.

Parameters travel as JSON: ``task`` (:meth:`TaskSpec.to_dict`), ``pipelines`` or ``pipeline``,
``scheme``, ``folds`` and, for the timeline, ``step``; for the permutation test, ``permutations``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from backend.classify.chance import ChanceLevel, PermutationTest
from backend.classify.epochs import TaskSpec
from backend.classify.timeline import Timeline
from backend.classify.validate import CVResult, FoldScore
from backend.errors import EEGError
from backend.jobs import Output
from backend.library.api import finite


def task_from(params: dict[str, Any]) -> TaskSpec:
    """The task of a job's parameters."""
    return TaskSpec.from_dict(params["task"])


def cv_params(task: TaskSpec, pipelines, scheme: str, folds: int) -> dict[str, Any]:
    """A cross-validation job's parameters."""
    return {"task": task.to_dict(), "pipelines": list(pipelines), "scheme": scheme, "folds": int(folds)}


def timeline_params(task: TaskSpec, pipeline: str, scheme: str, folds: int, step: float) -> dict[str, Any]:
    """A timeline job's parameters."""
    return {"task": task.to_dict(), "pipeline": pipeline, "scheme": scheme, "folds": int(folds), "step": float(step)}


def permutation_params(task: TaskSpec, pipeline: str, scheme: str, folds: int, permutations: int) -> dict[str, Any]:
    """A permutation test's parameters."""
    return {
        "task": task.to_dict(),
        "pipeline": pipeline,
        "scheme": scheme,
        "folds": int(folds),
        "permutations": int(permutations),
    }


def result_name(steps_key: str, params: dict[str, Any]) -> str:
    """The stored result's name for a recording state and a job's parameters (one stored result each)."""
    settings = {k: v for k, v in params.items() if k not in ("name", "steps_key")}
    digest = hashlib.blake2b(json.dumps(settings, sort_keys=True).encode(), digest_size=8).hexdigest()
    return f"{steps_key}:{digest}"


def _check_state(recording, params: dict[str, Any]) -> None:
    if params.get("steps_key") not in (None, recording.steps_key):
        raise EEGError("the recording was changed since this was asked for; run it again")


# --- cross-validation --------------------------------------------------------------------------


def cross_validation(recording, params: dict[str, Any], progress) -> Output:
    """Cross-validate ``params["pipelines"]`` on the recording's trials; the scores and the chance level."""
    from backend.classify.chance import chance_level
    from backend.classify.epochs import make_trials
    from backend.classify.pipelines import PIPELINES
    from backend.classify.validate import cross_validate

    _check_state(recording, params)
    task, scheme, folds = task_from(params), params["scheme"], int(params["folds"])
    names = list(params["pipelines"])
    if not names:
        raise EEGError("pick at least one pipeline")
    progress(0.02, "cutting trials")
    trials = make_trials([recording], task)
    level = chance_level(trials, scheme, folds)
    results = []
    for i, name in enumerate(names):
        label = PIPELINES[name].label if name in PIPELINES else name

        def step(fraction: float, text: str, i: int = i) -> None:
            progress(0.05 + 0.9 * (i + fraction) / len(names), text)

        step(0.0, f"cross-validating {label}")
        result = cross_validate(trials, name, scheme, folds, progress=step)
        results.append(result.to_dict() | {"y_true": result.y_true.tolist(), "proba": np.round(result.proba, 6)})
    payload = {
        "task": task.to_dict(),
        "scheme": scheme,
        "folds": folds,
        "runs": [recording.name],
        "steps_key": recording.steps_key,
        "results": results,
        "chance": {
            "class_counts": level.class_counts,
            "smallest_per_fold": level.smallest_per_fold,
            "auc_95": level.auc_95,
            "few": level.few,
        },
    }
    return Output(result_name(recording.steps_key, params), finite(payload))


def _number(value) -> float:
    return float("nan") if value is None else float(value)


def scores(payload: dict[str, Any]) -> list[CVResult]:
    """The :class:`CVResult` of each pipeline of a stored ``classify_cv`` result."""
    out = []
    for r in payload["results"]:
        folds = [
            FoldScore(
                int(f["fold"]),
                int(f["n_train"]),
                int(f["n_test"]),
                _number(f["accuracy"]),
                _number(f["roc_auc"]),
                float(f["fit_s"]),
                float(f["predict_s"]),
                None if f.get("window_s") is None else tuple(f["window_s"]),
                None if f.get("band_hz") is None else tuple(f["band_hz"]),
            )
            for f in r["folds"]
        ]
        proba = np.asarray(r["proba"], dtype=float)
        out.append(
            CVResult(
                r["pipeline"],
                r["scheme"],
                list(r["classes"]),
                folds,
                np.asarray(r["y_true"]),
                proba,
                window_band_mode=r.get("window_band_mode", "manual"),
            )
        )
    return out


def chance(payload: dict[str, Any]) -> ChanceLevel:
    """The chance level of a stored ``classify_cv`` result."""
    c = payload["chance"]
    return ChanceLevel(dict(c["class_counts"]), int(c["smallest_per_fold"]), _number(c["auc_95"]), bool(c["few"]))


# --- the probability timeline ----------------------------------------------------------------------


def timeline(recording, params: dict[str, Any], progress) -> Output:
    """The out-of-fold probability timeline of ``params["pipeline"]`` over the recording."""
    from backend.classify.epochs import make_trials
    from backend.classify.timeline import out_of_fold_timeline

    _check_state(recording, params)
    task = task_from(params)
    progress(0.02, "cutting trials")
    trials = make_trials([recording], task)
    found = out_of_fold_timeline(
        recording,
        trials,
        params["pipeline"],
        params["scheme"],
        int(params["folds"]),
        step_s=float(params["step"]),
        progress=lambda f, m: progress(0.05 + 0.9 * f, m),
    )
    payload = {
        "steps_key": recording.steps_key,
        "pipeline": params["pipeline"],
        "times": np.round(found.times, 6).tolist(),
        "starts": np.round(found.starts, 6).tolist(),
        "proba": np.round(found.proba, 6),  # NaN where no fold model may predict: null
        "classes": found.classes,
        "window_s": found.window_s,
        "step_s": found.step_s,
        "events": [list(e) for e in found.events],
        "out_of_fold": found.out_of_fold,
    }
    return Output(result_name(recording.steps_key, params), finite(payload))


def stored_timeline(payload: dict[str, Any]) -> Timeline:
    """The :class:`Timeline` of a stored ``classify_timeline`` result."""
    return Timeline(
        np.asarray(payload["times"], dtype=float),
        np.asarray(payload["starts"], dtype=float),
        np.asarray(payload["proba"], dtype=float).reshape(len(payload["times"]), len(payload["classes"])),
        list(payload["classes"]),
        float(payload["window_s"]),
        float(payload["step_s"]),
        [(float(o), float(d), str(s)) for o, d, s in payload["events"]],
        bool(payload["out_of_fold"]),
    )


# --- the permutation test --------------------------------------------------------------------------


def permutation(recording, params: dict[str, Any], progress) -> Output:
    """Permutation test of ``params["pipeline"]``'s cross-validation on the recording's trials."""
    from backend.classify.chance import permutation_test
    from backend.classify.epochs import make_trials
    from backend.classify.validate import cross_validate

    _check_state(recording, params)
    task, pipeline, scheme, folds = task_from(params), params["pipeline"], params["scheme"], int(params["folds"])
    n = int(params["permutations"])
    progress(0.01, "cutting trials")
    trials = make_trials([recording], task)
    progress(0.02, f"cross-validating {pipeline} on the true labels")
    observed = cross_validate(trials, pipeline, scheme, folds)
    found = permutation_test(
        trials,
        pipeline,
        scheme,
        folds,
        n_permutations=n,
        observed=observed,
        progress=lambda f, m: progress(0.03 + 0.96 * f, m),
    )
    payload = {"steps_key": recording.steps_key, "task": task.to_dict(), "pipeline": pipeline, "folds": folds}
    return Output(result_name(recording.steps_key, params), finite(payload | found.to_dict()))


def stored_permutation(payload: dict[str, Any]) -> PermutationTest:
    """The :class:`PermutationTest` of a stored ``classify_permutation`` result."""
    return PermutationTest.from_dict(payload)


# --- a model trained on all trials ----------------------------------------------------------------


def train_params(task: TaskSpec, pipeline: str) -> dict[str, Any]:
    """A training job's parameters."""
    return {"task": task.to_dict(), "pipeline": pipeline}


def train(recording, params: dict[str, Any], progress) -> Output:
    """Train ``params["pipeline"]`` on all the recording's trials of the task; the model file as a ``model`` result."""
    from backend.classify.epochs import make_trials
    from backend.classify.persistence import model_bytes, train_model
    from backend.classify.pipelines import PIPELINES

    _check_state(recording, params)
    task, pipeline = task_from(params), params["pipeline"]
    if pipeline not in PIPELINES:
        raise EEGError(f"unknown pipeline {pipeline!r}; known: {', '.join(PIPELINES)}")
    progress(0.02, "cutting trials")
    trials = make_trials([recording], task)
    progress(0.1, f"training {PIPELINES[pipeline].label} on all {len(trials.y)} trials")
    model = train_model(trials, pipeline)
    chosen = model.task  # an automatic window or band: what the inner cross-validation chose on all trials
    payload = {
        "events": list(task.events),
        "window_s": list(chosen.window),
        "band_hz": list(chosen.pass_band),
        "window_band_mode": task.mode,
        "runs": [recording.name],
        "pipeline": pipeline,
        "n_trials": len(trials.y),
        "steps_key": recording.steps_key,
    }
    return Output(result_name(recording.steps_key, params), payload, model_bytes(model))
