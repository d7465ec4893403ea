"""Classifier outputs over time: class probabilities of sliding windows of a whole recording.

Two ways, one :class:`Timeline`: :func:`predict_timeline` applies a trained model (a saved one,
applied to another recording), and :func:`out_of_fold_timeline` shows what cross-validation's
fold models predict on the recording they were cross-validated on, each window by a model that
did not see the trials it overlaps, so the strip around the trials is not training fit.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from backend.browse import annotations as notes
from backend.classify.epochs import Trials, filtered_eeg
from backend.classify.persistence import TrainedModel, check_compatible, fit_model
from backend.errors import EEGError
from backend.recording import Recording

MAX_WINDOWS = 20000


@dataclass(frozen=True)
class Timeline:
    """Class probabilities of sliding windows.

    Attributes
    ----------
    times : ndarray, shape (n_windows,)
        Window centres in seconds from the recording's start (Browse's time axis).
    starts : ndarray, shape (n_windows,)
        Window starts in seconds.
    proba : ndarray, shape (n_windows, n_classes)
        Class probabilities; rows sum to one.
    classes : list of str
    window_s, step_s : float
        Window length and hop, in seconds.
    events : list of (float, float, str)
        The recording's annotations of the model's classes: onset (s), duration (s), label.
    out_of_fold : bool
        Whether each window was predicted by a cross-validation fold model that did not see the
        trials it overlaps (rows are NaN where no such model exists), rather than by one model.
    """

    times: np.ndarray
    starts: np.ndarray
    proba: np.ndarray
    classes: list[str]
    window_s: float
    step_s: float
    events: list[tuple[float, float, str]]
    out_of_fold: bool = False

    def to_rows(self) -> list[dict]:
        """One dict per window (``start_s``, ``center_s``, ``p_<class>``), e.g. for a CSV."""
        return [
            {
                "start_s": round(float(s), 4),
                "center_s": round(float(t), 4),
                **{f"p_{c}": None if np.isnan(p[i]) else float(p[i]) for i, c in enumerate(self.classes)},
            }
            for s, t, p in zip(self.starts, self.times, self.proba)
        ]


def _windows(recording: Recording, task, ch_names, sfreq: float, step_s: float) -> tuple[np.ndarray, int]:
    """The recording band-passed as in training, cut into windows of the task's length every
    ``step_s`` seconds: ``(n_windows, n_channels, n_times)`` and the hop in samples."""
    if not step_s > 0:
        raise EEGError(f"timeline step must be positive, got {step_s} s")
    n_win = int(round(task.window_s * sfreq))
    hop = max(1, int(round(step_s * sfreq)))
    data = filtered_eeg(recording, task.pass_band, ch_names)
    n_windows = (data.shape[1] - n_win) // hop + 1
    if n_windows > MAX_WINDOWS:
        raise EEGError(
            f"{n_windows} windows is too many; use a step of at least {step_s * n_windows / MAX_WINDOWS:.2f} s"
        )
    # (n_channels, n_windows, n_win) view, no copy, then windows first.
    windows = sliding_window_view(data, n_win, axis=1)[:, ::hop][:, :n_windows].transpose(1, 0, 2)
    return np.ascontiguousarray(windows), hop


def _timeline(recording: Recording, proba: np.ndarray, task, sfreq: float, hop: int, out_of_fold: bool) -> Timeline:
    starts = np.arange(len(proba)) * hop / sfreq
    events = [  # seconds from the first sample, as the windows
        (a["onset"], a["duration"], a["description"])
        for a in notes.table(recording.raw)
        if a["description"] in task.events
    ]
    return Timeline(
        starts + task.window_s / 2, starts, proba, list(task.events), task.window_s, hop / sfreq, events, out_of_fold
    )


def predict_timeline(recording: Recording, model: TrainedModel, step_s: float = 0.5) -> Timeline:
    """Sliding-window class probabilities of ``model`` over ``recording``.

    The recording is band-passed as in training, cut into windows of the model's length every
    ``step_s`` seconds, and each window classified. The recording is first checked against the
    model (channels, rate, band, length): a mismatch is an :class:`EEGError`.

    Parameters
    ----------
    recording : Recording
    model : TrainedModel
    step_s : float
        Hop between windows in seconds.

    Returns
    -------
    Timeline
    """
    if not step_s > 0:
        raise EEGError(f"timeline step must be positive, got {step_s} s")
    check_compatible(model, recording)
    windows, hop = _windows(recording, model.task, model.ch_names, model.sfreq, step_s)
    return _timeline(recording, model.predict_proba(windows), model.task, model.sfreq, hop, out_of_fold=False)


def out_of_fold_timeline(
    recording: Recording,
    trials: Trials,
    pipeline: str,
    scheme: str = "kfold",
    n_folds: int = 5,
    seed: int = 42,
    step_s: float = 0.5,
    run: int = 0,
    progress=None,
) -> Timeline:
    """Sliding-window probabilities over run ``run`` of ``trials``, each window out of fold.

    The folds are cross-validation's (:func:`~backend.classify.validate.splits`, same scheme and
    seed), one model fitted on each training set; with an automatic window or band each fold
    model uses the ones chosen on its training set, read around shared window centres (the
    timeline's window is the most frequent choice; a model whose window would pass the
    recording's edge does not predict there). A window overlapping trials is predicted by
    the fold models that trained on none of them (with k-fold: the fold that tests them); a
    window overlapping none by the models that saw no trial of this run when there are such
    (leave-one-run-out), else by all. Where a window overlaps trials of two folds, no model
    qualifies and its row is NaN (a gap in the plot), never a model's training fit.

    Parameters
    ----------
    recording : Recording
        The run ``run`` of ``trials`` (the recording the trials were cut from).
    trials : Trials
    pipeline : str
    scheme, n_folds, seed : as for :func:`~backend.classify.validate.cross_validate`.
    step_s : float
        Hop between windows in seconds.
    run : int
        Which run of ``trials`` ``recording`` is.
    progress : callable or None
        Called as ``progress(fraction_done, message)`` after each fold.
    """
    from backend.classify.validate import splits

    sfreq = trials.sfreq
    if recording.name != trials.run_names[run] or float(recording.raw.info["sfreq"]) != sfreq:
        raise EEGError(f"{recording.name} is not run {run + 1} of the trials ({trials.run_names[run]})")
    if not step_s > 0:
        raise EEGError(f"timeline step must be positive, got {step_s} s")
    pairs = splits(trials, scheme, n_folds, seed)
    in_run = np.flatnonzero(trials.runs == run)
    models = []
    for k, (train, _) in enumerate(pairs):
        models.append(fit_model(trials, pipeline, train))  # its own window and band when they are automatic
        if progress:
            progress((k + 1) / (len(pairs) + 1), f"{pipeline}: fold model {k + 1}/{len(pairs)}")
    # Windows share their centres; each fold model reads its own window length and band around them.
    task = Counter(m.task for m in models).most_common(1)[0][0]  # the most frequent choice sets the grid
    n_ref = int(round(task.window_s * sfreq))
    hop = max(1, int(round(step_s * sfreq)))
    n_samples = recording.raw.n_times
    n_windows = (n_samples - n_ref) // hop + 1
    if n_windows > MAX_WINDOWS:
        raise EEGError(
            f"{n_windows} windows is too many; use a step of at least {step_s * n_windows / MAX_WINDOWS:.2f} s"
        )
    centres = np.arange(n_windows) * hop + n_ref // 2
    filtered: dict = {}
    fold_proba = np.zeros((len(pairs), n_windows, len(task.events)))
    clean = np.zeros((len(pairs), n_windows), dtype=bool)
    near_any = np.zeros(n_windows, dtype=bool)
    readable = np.zeros((len(pairs), n_windows), dtype=bool)  # the model's window lies inside the recording
    for k, ((train, _), model) in enumerate(zip(pairs, models)):
        band = model.task.pass_band
        if band not in filtered:
            filtered[band] = filtered_eeg(recording, band, trials.ch_names)
        n_win = int(round(model.task.window_s * sfreq))
        starts = centres - n_win // 2
        valid = readable[k] = (starts >= 0) & (starts + n_win <= n_samples)
        windows = sliding_window_view(filtered[band], n_win, axis=1)[:, starts[valid]].transpose(1, 0, 2)
        fold_proba[k, valid] = model.predict_proba(np.ascontiguousarray(windows))
        # Which trials each window overlaps, in samples of this run, as this model cut them.
        first = np.round((trials.onsets[in_run] + model.task.window[0]) * sfreq).astype(int)
        overlaps = (starts[:, None] < first[None, :] + n_win) & (first[None, :] < starts[:, None] + n_win)
        near_trials = overlaps.any(axis=1)
        near_any |= near_trials
        trained = np.zeros(len(trials.y), dtype=bool)
        trained[train] = True
        seen = trained[in_run]
        touches_seen = (overlaps & seen[None, :]).any(axis=1)
        clean[k] = valid & np.where(near_trials, ~touches_seen, not seen.any())
    if progress:
        progress(1.0, f"{pipeline}: fold models over the recording")
    lone = ~near_any & ~clean.any(axis=0)  # no trial nearby, and every model saw this run
    clean[:, lone] = readable[:, lone]
    with np.errstate(invalid="ignore"):
        proba = (fold_proba * clean[:, :, None]).sum(axis=0) / clean.sum(axis=0)[:, None]
    proba[clean.sum(axis=0) == 0] = np.nan
    return _timeline(recording, proba, task, sfreq, hop, out_of_fold=True)
