"""Group analyses of a study: classification per subject and across subjects, grand averages.

- Within-subject cross-validation (MOABB's within-session protocol): the trials of each
  subject's session, from all its runs, are cross-validated with the Classify page's
  pipelines (:func:`backend.classify.validate.cross_validate`); one Dask task per session.
  The group figure is the mean ROC-AUC over subjects with its 95 % confidence interval
  (Student's t over subjects).
- Leave-one-subject-out: a pipeline is fitted on every other subject's trials and tested on
  the one left out; one task per subject. Only for the scikit-learn pipelines, on subjects
  that share their EEG channels.
- Grand averages: each subject's EEG spectrum (Welch, mean over good EEG channels) and
  each condition's event average of one channel; the grand average is their mean.

Tasks read their recordings themselves and return small tables (scores, spectra).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from backend import engine
from backend.browse import annotations as notes
from backend.classify.epochs import TaskSpec, Trials, make_trials, trial_length
from backend.errors import EEGError, first_line
from backend.study.dataset import Entry, open_entry

Progress = Callable[[int, int, dict], None]


def sessions_of(entries: Sequence[Entry]) -> dict[tuple[str, str | None], list[Entry]]:
    """The recordings of each (subject, session), in the study's order."""
    units: dict[tuple[str, str | None], list[Entry]] = {}
    for e in entries:
        units.setdefault((e.subject, e.session), []).append(e)
    return units


def _open(entries: Sequence[Entry], steps: Sequence[dict]):
    recordings = []
    for entry in entries:
        recording = open_entry(entry)
        for step in steps:
            recording = recording.apply(step["name"], **step.get("params", {}))
        recordings.append(recording)
    return recordings


def _safely(row: dict, work: Callable[[], dict]) -> dict:
    """``row`` updated with ``work()``, or with ``status`` failed and the one-line ``error``."""
    try:
        row.update(work(), status="done", error=None)
    except EEGError as err:
        row.update(status="failed", error=str(err))
    except Exception as exc:  # a bug, but this subject's: the others finish
        row.update(status="failed", error=f"{type(exc).__name__}: {first_line(exc)}")
    return row


def cv_task(
    entries: Sequence[Entry], task: dict, pipeline: str, folds: int = 5, seed: int = 42, steps: Sequence[dict] = ()
) -> dict:
    """Cross-validate ``pipeline`` within one subject's session (the Dask task). Returns its row."""
    from backend.classify.validate import cross_validate

    first = entries[0]

    def work():
        trials = make_trials(_open(entries, steps), TaskSpec(**task))
        result = cross_validate(trials, pipeline, "kfold", folds, seed)
        return {
            # The window and band the folds used most (chosen per fold when the task leaves them automatic).
            "window_s": None if result.window_s is None else list(result.window_s),
            "band_hz": None if result.band_hz is None else list(result.band_hz),
            "roc_auc": result.roc_auc_mean,
            "roc_auc_std": result.roc_auc_std,
            "roc_auc_ci95": list(result.roc_auc_ci95),
            "accuracy": result.accuracy_mean,
            "n_trials": trials.counts(),
            "folds": [round(f.roc_auc, 4) for f in result.folds],
        }

    return _safely({"subject": first.subject, "session": first.session, "runs": len(entries)}, work)


def grid_scores_task(entries: Sequence[Entry], task: dict, steps: Sequence[dict] = ()) -> list | None:
    """The proxy score of every point of an automatic task's grid on all of one subject's trials
    (the Dask task that leave-one-subject-out's choice of window and band reads; each subject is
    scored once, not once per held-out subject): ``[[task_dict, score], ...]``, or None for a
    manual task."""
    return grid_scores(make_trials(_open(entries, steps), TaskSpec(**task)))


def grid_scores(trials: Trials) -> list | None:
    """:func:`grid_scores_task` on trials already cut (``[[task_dict, score], ...]`` or None)."""
    from backend.classify import window_band

    if not trials.candidates:
        return None
    everything = np.arange(len(trials.y))
    window_band.select(trials, everything)  # scores every candidate on all the subject's trials
    scores = window_band.scores_of(trials, everything) or []
    return [[c.task.to_dict(), float(s) if np.isfinite(s) else 0.5] for c, s in zip(trials.candidates, scores)]


def loso_window_band(training: dict) -> TaskSpec | None:
    """For an automatic task, the grid point whose within-subject proxy score (the inner
    cross-validation of :mod:`backend.classify.window_band`, from :func:`grid_scores`) is highest
    on average over the training subjects (``{subject: grid scores}``); the held-out subject is
    never read. None for a manual task."""
    scored: dict[TaskSpec, list[float]] = {}
    for scores in training.values():
        if scores is None:
            return None
        for task, score in scores:
            scored.setdefault(TaskSpec(**task), []).append(score)
    # Only points every training subject has (windows depend on each subject's trial length).
    shared = {t: s for t, s in scored.items() if len(s) == len(training)}
    if not shared:
        raise EEGError("the subjects share no window and band of the automatic grid; set them by hand")
    return max(shared, key=lambda t: float(np.mean(shared[t])))


def loso_task(
    units: dict, held_out: str, task: dict, pipeline: str, steps: Sequence[dict] = (), chosen: dict | None = None
) -> dict:
    """Fit on every subject but ``held_out``, test on ``held_out`` (the Dask task). Returns its row.

    ``chosen``: the window and band of an automatic task (a task dict, from
    :func:`loso_window_band` on the other subjects' :func:`grid_scores`); None for a manual task."""
    from sklearn.metrics import roc_auc_score

    from backend.classify.pipelines import make_estimator

    spec = TaskSpec(**task)
    if spec.auto and chosen is None:
        raise EEGError("an automatic window and band need the choice made on the training subjects")
    concrete = None if chosen is None else TaskSpec(**chosen)

    def work():
        train_x, test = [], None
        for subject, entries in units.items():
            trials = _cut_as(make_trials(_open(entries, steps), spec), concrete)
            if subject == held_out:
                test = trials
            else:
                train_x.append(trials)
        names = test.ch_names
        for t in train_x:
            if t.ch_names != names or t.X.shape[-1] != test.X.shape[-1]:
                raise EEGError("leave-one-subject-out needs the same EEG channels and rate in every subject")
        X = np.concatenate([t.X for t in train_x])
        y = np.concatenate([t.y for t in train_x])
        estimator = make_estimator(pipeline, test.sfreq, names)
        estimator.fit(X, y)
        proba = estimator.predict_proba(test.X)
        classes = list(spec.events)
        proba = proba[:, [list(estimator.classes_).index(c) for c in classes]]
        if len(classes) == 2:
            auc = roc_auc_score(test.y == classes[1], proba[:, 1])
        else:
            auc = roc_auc_score(test.y, proba, multi_class="ovr", labels=classes)
        return {
            "roc_auc": float(auc),
            "n_train": int(len(y)),
            "n_test": int(len(test.y)),
            "window_s": list(test.task.window),
            "band_hz": list(test.task.pass_band),
        }

    return _safely({"subject": held_out}, work)


def _cut_as(trials: Trials, task: TaskSpec | None) -> Trials:
    """The candidate of ``trials`` cut with ``task`` (``trials`` as they are for None)."""
    if task is None:
        return trials
    for candidate in trials.candidates:
        if candidate.task == task:
            return candidate
    raise EEGError(
        f"the held-out subject's trials are too short for the window chosen on the others ({task.describe()})"
    )


def mean_ci95(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and its 95 % confidence interval (Student's t) of ``values``; the interval is NaN for one value."""
    from scipy import stats

    x = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    if len(x) == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(x.mean())
    if len(x) < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))
    return mean, mean - half, mean + half


def loso_allowed(pipeline: str) -> bool:
    """Whether a pipeline can be fitted across subjects here (the scikit-learn ones)."""
    from backend.classify.pipelines import pipeline_info

    return pipeline_info(pipeline).kind == "sklearn"


def classify_study(
    entries: Sequence[Entry],
    task: TaskSpec,
    pipeline: str,
    client=None,
    folds: int = 5,
    seed: int = 42,
    loso: bool = False,
    steps: Sequence[dict] = (),
    progress: Progress | None = None,
    cancel: engine.CancelHandle | None = None,
) -> dict:
    """Within-subject cross-validation of every subject (and leave-one-subject-out when asked).

    Returns
    -------
    dict
        ``pipeline``, ``task``, ``subjects`` (one row per subject and session: ``subject``,
        ``session``, ``roc_auc``, ``roc_auc_ci95`` (the 95 % interval of that subject's mean over folds,
        :func:`backend.classify.validate.mean_ci95`), ``accuracy``, ``n_trials``, ``status``, ``error``),
        ``roc_auc_mean``, ``roc_auc_ci95`` ``[low, high]``, ``n_subjects``, and ``loso``
        (rows per held-out subject, with ``roc_auc_mean`` and ``roc_auc_ci95``) or None.
    """
    from backend.classify.pipelines import pipeline_info

    pipeline_info(pipeline)
    if loso and not loso_allowed(pipeline):
        raise EEGError(f"leave-one-subject-out is not available for {pipeline}; use a scikit-learn pipeline")
    units = sessions_of(entries)
    subjects = sorted({s for s, _ in units})
    if loso and len(subjects) < 2:
        raise EEGError("leave-one-subject-out needs at least two subjects")
    calls: list[tuple[Any, Callable, tuple]] = [
        (key, cv_task, (group, task.to_dict(), pipeline, folds, seed, list(steps))) for key, group in units.items()
    ]
    by_subject = {s: [e for e in entries if e.subject == s] for s in subjects}
    # An automatic window and band across subjects: each subject's grid is scored once, with the
    # within-subject tasks; each held-out subject then gets the choice of the others' scores.
    auto = loso and task.auto
    if auto:
        calls += [(("scores", s), grid_scores_task, (by_subject[s], task.to_dict(), list(steps))) for s in subjects]
    client = client or engine.get_client()
    rows: list[dict] = []
    loso_rows: list[dict] = []
    scores: dict[str, list | None] = {}
    total = len(calls) - (len(subjects) if auto else 0) + (len(subjects) if loso else 0)

    def add(row: dict, held_out: bool) -> None:
        (loso_rows if held_out else rows).append(row)
        if progress:
            progress(len(rows) + len(loso_rows), total, row)

    def collect(batch):
        for tag, status, value in engine.run_tasks(client, batch, cancel, name="classify"):
            if tag[0] == "scores":
                if status == "finished":
                    scores[tag[1]] = value
            elif status == "finished":
                add(value, tag[0] == "loso")
            else:
                subject = tag[1] if tag[0] == "loso" else tag[0]
                failed = "cancelled" if status == "cancelled" else "failed"
                add({"subject": subject, "status": failed, "error": value}, tag[0] == "loso")

    collect(calls)
    if loso:
        batch = []
        for s in subjects:
            chosen = None
            if auto and not (cancel is not None and cancel.cancelled):  # cancelled: nothing runs
                others = {o: scores[o] for o in subjects if o != s and o in scores}
                try:
                    if not others:
                        raise EEGError("no other subject could be read")
                    found = loso_window_band(others)
                except EEGError as err:
                    add({"subject": s, "status": "failed", "error": str(err)}, True)
                    continue
                chosen = None if found is None else found.to_dict()
            batch.append((("loso", s), loso_task, (by_subject, s, task.to_dict(), pipeline, list(steps), chosen)))
        collect(batch)
    rows.sort(key=lambda r: (r["subject"], r.get("session") or ""))
    mean, low, high = mean_ci95([r["roc_auc"] for r in rows if r.get("status") == "done"])
    out = {
        "pipeline": pipeline,
        "task": task.to_dict(),
        "folds": folds,
        "subjects": rows,
        "n_subjects": sum(r.get("status") == "done" for r in rows),
        "roc_auc_mean": mean,
        "roc_auc_ci95": [low, high],
        "loso": None,
    }
    if loso:
        loso_rows.sort(key=lambda r: r["subject"])
        lmean, llow, lhigh = mean_ci95([r["roc_auc"] for r in loso_rows if r.get("status") == "done"])
        out["loso"] = {"subjects": loso_rows, "roc_auc_mean": lmean, "roc_auc_ci95": [llow, lhigh]}
    return out


# --- grand averages ----------------------------------------------------------------------------


def averages_task(
    entries: Sequence[Entry], task: dict, channel: str | None = None, fmax: float = 45.0, steps: Sequence[dict] = ()
) -> dict:
    """One subject's spectrum and event averages (the Dask task).

    Returns
    -------
    dict
        ``subject``, ``freqs`` (Hz), ``psd_db`` (10·log10 of V²/Hz, mean over good EEG channels
        and runs), ``channel``, ``times`` (s from the event) and ``erp`` (condition -> mean
        over trials of ``channel``, volts), ``n_trials``, ``status``, ``error``.
    """
    import mne
    from scipy import signal

    spec = TaskSpec(**task)

    def work():
        recordings = _open(entries, steps)
        spectra, erp, counts = [], {}, {}
        raw0 = recordings[0].raw
        name = channel or ("Cz" if "Cz" in raw0.ch_names else raw0.ch_names[mne.pick_types(raw0.info, eeg=True)[0]])
        sfreq = float(raw0.info["sfreq"])
        # An automatic window is a classifier's choice; the averages then span half a second before
        # the events to the end of their trials.
        window = spec.window if not spec.window_auto else (-0.5, max(trial_length(recordings, spec.events), 1.0))
        start, n = int(round(window[0] * sfreq)), int(round((window[1] - window[0]) * sfreq))
        for rec in recordings:
            raw = rec.raw
            data = raw.get_data(picks=mne.pick_types(raw.info, eeg=True, exclude="bads"))
            freqs, psd = signal.welch(
                data, fs=raw.info["sfreq"], nperseg=int(min(data.shape[-1], 2 * raw.info["sfreq"]))
            )
            spectra.append(psd.mean(axis=0))
            if name not in raw.ch_names:
                raise EEGError(f"{rec.name} has no channel {name}")
            x = raw.get_data(picks=[name])[0]
            for onset, label in zip(notes.onsets(raw), raw.annotations.description):
                label = str(label)
                if label not in spec.events:
                    continue
                i = int(round(onset * sfreq)) + start
                if 0 <= i and i + n <= len(x):
                    erp[label] = erp.get(label, 0) + x[i : i + n]
                    counts[label] = counts.get(label, 0) + 1
        keep = freqs <= fmax
        return {
            "freqs": freqs[keep].round(3).tolist(),
            "psd_db": (10 * np.log10(np.mean(spectra, axis=0)[keep])).round(3).tolist(),
            "channel": name,
            "times": (np.arange(n) / sfreq + window[0]).round(5).tolist(),
            "erp": {k: (v / counts[k]).tolist() for k, v in erp.items()},
            "n_trials": counts,
        }

    return _safely({"subject": entries[0].subject}, work)


def averages_study(
    entries: Sequence[Entry],
    task: TaskSpec,
    client=None,
    channel: str | None = None,
    steps: Sequence[dict] = (),
    progress: Progress | None = None,
    cancel: engine.CancelHandle | None = None,
) -> dict:
    """Each subject's spectrum and event averages, and their grand averages (mean over subjects).

    ``progress(n_finished, n_subjects, row)`` is called after each subject.
    """
    by_subject: dict[str, list[Entry]] = {}
    for e in entries:
        by_subject.setdefault(e.subject, []).append(e)
    calls = [(s, averages_task, (group, task.to_dict(), channel, 45.0, list(steps))) for s, group in by_subject.items()]
    client = client or engine.get_client()
    rows = []
    for subject, status, value in engine.run_tasks(client, calls, cancel, name="averages"):
        rows.append(value if status == "finished" else {"subject": subject, "status": status, "error": value})
        if progress:
            progress(len(rows), len(calls), rows[-1])
    rows.sort(key=lambda r: r["subject"])
    done = [r for r in rows if r.get("status") == "done"]
    grand: dict = {}
    if done and all(r["freqs"] == done[0]["freqs"] for r in done):
        grand["freqs"], grand["psd_db"] = done[0]["freqs"], np.mean([r["psd_db"] for r in done], axis=0).tolist()
    if done and all(len(r["times"]) == len(done[0]["times"]) for r in done):
        grand["times"] = done[0]["times"]
        grand["erp"] = {
            c: np.mean([r["erp"][c] for r in done if c in r["erp"]], axis=0).tolist()
            for c in task.events
            if any(c in r["erp"] for r in done)
        }
    return {"subjects": rows, "grand": grand}
