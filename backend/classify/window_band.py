"""The window and band of an automatic task, chosen per training set by inner cross-validation.

For every point of the grid (:func:`backend.classify.epochs.window_band_grid`) the training
trials are scored by a cheap, stable proxy pipeline (OAS covariances → tangent space → logistic
regression, 3-fold stratified inner cross-validation, seed fixed, mean ROC-AUC), and the best
point wins (the first in grid order on ties). The proxy stands in for the pipeline being
validated: re-fitting an expensive vote for every grid point would multiply its cost by the grid
size. Only the training trials are read, so an outer test fold never influences the choice, and
a choice is computed once per training set and kept on the :class:`Trials` (every pipeline of one
cross-validation, and the timeline's fold models, share it).
"""

from __future__ import annotations

import numpy as np
from pyriemann.estimation import Covariances
from pyriemann.tangentspace import TangentSpace
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from backend.classify.epochs import Trials

INNER_FOLDS = 3
SEED = 0


def proxy_score(X: np.ndarray, y: np.ndarray, seed: int = SEED) -> float:
    """Mean inner-CV ROC-AUC of OAS covariances → tangent space → logistic regression.

    Parameters
    ----------
    X : ndarray, shape (n_trials, n_channels, n_times)
        Training trials only.
    y : ndarray of str, shape (n_trials,)
    seed : int
        Shuffling seed of the inner folds.

    Returns
    -------
    float
        Mean ROC-AUC over the inner folds (one-vs-rest macro for more than two classes).
    """
    classes = np.unique(y)
    folds = min(INNER_FOLDS, min(int(np.sum(y == c)) for c in classes))
    if folds < 2:
        return float("nan")
    covs = Covariances("oas").transform(X)  # one matrix per trial: no trial informs another's
    scores = []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(covs, y):
        ts = TangentSpace(metric="riemann").fit(covs[train])
        lr = LogisticRegression(C=1.0, max_iter=1000).fit(ts.transform(covs[train]), y[train])
        p = lr.predict_proba(ts.transform(covs[test]))
        if len(np.unique(y[test])) < len(classes):
            continue
        if len(classes) == 2:
            scores.append(roc_auc_score(y[test] == lr.classes_[1], p[:, 1]))
        else:
            scores.append(roc_auc_score(y[test], p, multi_class="ovr", average="macro", labels=lr.classes_))
    return float(np.mean(scores)) if scores else float("nan")


def select(trials: Trials, train: np.ndarray) -> Trials:
    """The trials cut with the window and band chosen on the training trials ``train``.

    Parameters
    ----------
    trials : Trials
        Trials of a task; for a manual one (no candidates) they are returned as they are.
    train : ndarray of int
        Indices of the training trials; no other trial is read.

    Returns
    -------
    Trials
        The candidate (same trials, concrete task) whose proxy score on ``train`` is highest.
    """
    if not trials.candidates:
        return trials
    train = np.asarray(train, dtype=int)
    key = train.tobytes()
    if key not in trials.choices:
        y = trials.y[train]
        with threadpool_limits(limits=1, user_api="blas"):
            scores = [proxy_score(c.X[train], y) for c in trials.candidates]
        finite = [s if np.isfinite(s) else -np.inf for s in scores]
        trials.choices[key] = (int(np.argmax(finite)), scores)
    return trials.candidates[trials.choices[key][0]]


def scores_of(trials: Trials, train: np.ndarray) -> list[float] | None:
    """The proxy scores of every grid point on ``train`` (after :func:`select`), or None."""
    found = trials.choices.get(np.asarray(train, dtype=int).tobytes())
    return None if found is None else list(found[1])


def describe(result) -> str:
    """One line: the window and band a cross-validation's folds used (a :class:`CVResult`), and how they were set."""
    if result.window_s is None or result.band_hz is None:
        return "Window and band: not recorded."
    (tmin, tmax), (low, high) = result.window_s, result.band_hz
    if result.window_band_mode == "manual":
        return f"Window {tmin:g}–{tmax:g} s, band {low:g}–{high:g} Hz (set by hand)."
    n = sum(1 for f in result.folds if f.window_s == result.window_s and f.band_hz == result.band_hz)
    return (
        f"Window {tmin:g}–{tmax:g} s, band {low:g}–{high:g} Hz: chosen by inner cross-validation on the training "
        f"trials in {n} of {len(result.folds)} folds (the others chose: "
        + (
            "; ".join(
                f"{f.window_s[0]:g}–{f.window_s[1]:g} s, {f.band_hz[0]:g}–{f.band_hz[1]:g} Hz"
                for f in result.folds
                if (f.window_s, f.band_hz) != (result.window_s, result.band_hz)
            )
            or "none other"
        )
        + ")."
    )
