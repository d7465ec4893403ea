"""Cross-validation as MOABB does it: within one subject, k-fold or leave-one-run-out.

Every fold fits a fresh estimator on the training trials only; hyper-parameters are searched
inside the estimator (nested), never on the test fold. Scores: accuracy and ROC-AUC
(one-vs-rest, macro-averaged, when there are more than two classes), a confusion matrix and
ROC curves from the pooled out-of-fold probabilities, and per-fold fit and predict times.
With an automatic window or band, each fold first chooses them on its training trials
(:func:`backend.classify.window_band.select`) and records its choice.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats
from sklearn.metrics import accuracy_score, confusion_matrix, roc_auc_score, roc_curve
from sklearn.model_selection import LeaveOneGroupOut, StratifiedKFold
from threadpoolctl import threadpool_limits

from backend.classify.epochs import Trials
from backend.classify.pipelines import make_estimator, pipeline_info
from backend.classify.window_band import select
from backend.errors import EEGError

SCHEMES = ("kfold", "runs")
Progress = Callable[[float, str], None]


@dataclass
class FoldScore:
    """Scores of one test fold."""

    fold: int
    n_train: int
    n_test: int
    accuracy: float
    roc_auc: float
    fit_s: float
    predict_s: float
    window_s: tuple[float, float] | None = None  # the window and band this fold's model used
    band_hz: tuple[float, float] | None = None

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        for key in ("window_s", "band_hz"):
            d[key] = None if d[key] is None else list(d[key])
        return d


@dataclass
class CVResult:
    """Outcome of cross-validating one pipeline on one subject's trials.

    Attributes
    ----------
    pipeline : str
    scheme : str
        ``"kfold"`` (stratified, shuffled) or ``"runs"`` (leave one run out).
    classes : list of str
    folds : list of FoldScore
    y_true : ndarray of str, shape (n_trials,)
    proba : ndarray, shape (n_trials, n_classes)
        Out-of-fold class probabilities, columns in ``classes`` order.
    """

    pipeline: str
    scheme: str
    classes: list[str]
    folds: list[FoldScore]
    y_true: np.ndarray
    proba: np.ndarray
    extra: dict = field(default_factory=dict)
    window_band_mode: str = "manual"  # "auto": each fold chose its window and band by inner CV

    def _most_frequent(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """The (window, band) pair the folds chose most often (ties: the earliest fold's)."""
        pairs = [(f.window_s, f.band_hz) for f in self.folds if f.window_s is not None and f.band_hz is not None]
        if not pairs:
            return None
        window, band = Counter(pairs).most_common(1)[0][0]
        return tuple(window), tuple(band)  # type: ignore[return-value]

    @property
    def window_s(self) -> tuple[float, float] | None:
        """The window of the (window, band) the folds used most often (s)."""
        found = self._most_frequent()
        return None if found is None else found[0]

    @property
    def band_hz(self) -> tuple[float, float] | None:
        """The band of the (window, band) the folds used most often (Hz)."""
        found = self._most_frequent()
        return None if found is None else found[1]

    @property
    def accuracy_mean(self) -> float:
        return float(np.mean([f.accuracy for f in self.folds]))

    @property
    def roc_auc_mean(self) -> float:
        return float(np.mean([f.roc_auc for f in self.folds]))

    @property
    def roc_auc_std(self) -> float:
        return float(np.std([f.roc_auc for f in self.folds]))

    @property
    def roc_auc_ci95(self) -> tuple[float, float]:
        """95 % interval of the mean ROC-AUC over folds (corrected resampled t, :func:`mean_ci95`)."""
        return mean_ci95(
            [f.roc_auc for f in self.folds], [f.n_train for f in self.folds], [f.n_test for f in self.folds]
        )

    def summary_line(self) -> str:
        """One line: mean ROC-AUC, its spread over folds and its 95 % interval."""
        low, high = self.roc_auc_ci95
        interval = f"95 % interval {low:.2f}–{high:.2f}" if np.isfinite(low) else "no interval with one fold"
        return f"ROC-AUC {self.roc_auc_mean:.2f} ± {self.roc_auc_std:.2f} over {len(self.folds)} folds ({interval})"

    def confusion(self) -> np.ndarray:
        """Counts, rows true class, columns predicted class (out-of-fold)."""
        predicted = np.asarray(self.classes)[np.argmax(self.proba, axis=1)]
        return confusion_matrix(self.y_true, predicted, labels=self.classes)

    def roc(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """ROC curve(s) of the pooled out-of-fold probabilities: one per class, one-vs-rest
        (for two classes, only the second class's, as is customary)."""
        classes = self.classes[1:] if len(self.classes) == 2 else self.classes
        curves = {}
        for c in classes:
            fpr, tpr, _ = roc_curve(self.y_true == c, self.proba[:, self.classes.index(c)])
            curves[c] = (fpr, tpr)
        return curves

    def to_dict(self) -> dict:
        return {
            "pipeline": self.pipeline,
            "scheme": self.scheme,
            "classes": self.classes,
            "accuracy_mean": self.accuracy_mean,
            "roc_auc_mean": self.roc_auc_mean,
            "roc_auc_std": self.roc_auc_std,
            "roc_auc_ci95": list(self.roc_auc_ci95),
            "fit_s_mean": float(np.mean([f.fit_s for f in self.folds])),
            "predict_s_mean": float(np.mean([f.predict_s for f in self.folds])),
            "confusion": self.confusion().tolist(),
            "folds": [f.to_dict() for f in self.folds],
            "window_band_mode": self.window_band_mode,
            "window_s": None if self.window_s is None else list(self.window_s),
            "band_hz": None if self.band_hz is None else list(self.band_hz),
        }


def mean_ci95(
    scores: Sequence[float], n_train: Sequence[int], n_test: Sequence[int], level: float = 0.95
) -> tuple[float, float]:
    """Interval for the mean of cross-validation fold scores: the corrected resampled t-test.

    The folds are not independent samples: their training sets overlap, so the plain Student t
    over folds (variance ``s² / k``) is too narrow. Nadeau & Bengio (2003, Machine Learning 52)
    widen the variance of the mean to ``(1/k + n_test/n_train) s²``, with ``s²`` the folds'
    sample variance; the quantile stays Student's t with ``k - 1`` degrees of freedom. Still an
    approximation (it assumes the folds' correlation is ``n_test / n``), but a better-founded one.

    Parameters
    ----------
    scores : sequence of float
        One score a fold (folds scored NaN are left out).
    n_train, n_test : sequence of int
        Training and test trials of each fold (their mean ratio enters the correction).
    level : float
        Coverage, between 0 and 1.

    Returns
    -------
    (low, high) : tuple of float
        Clipped to [0, 1]; NaN with fewer than two scored folds.
    """
    x = np.asarray(scores, dtype=float)
    keep = np.isfinite(x)
    x, ratio = x[keep], np.asarray(n_test, dtype=float)[keep] / np.asarray(n_train, dtype=float)[keep]
    if len(x) < 2:
        return float("nan"), float("nan")
    k = len(x)
    half = stats.t.ppf(0.5 + level / 2, k - 1) * np.sqrt((1 / k + ratio.mean()) * x.var(ddof=1))
    return float(max(0.0, x.mean() - half)), float(min(1.0, x.mean() + half))


def interval_text(interval: Sequence[float | None] | None, spec: str = ".2f") -> str:
    """``"low–high"`` of an interval as stored (JSON null for NaN); ``""`` where there is none
    (one fold, or a result stored before intervals were)."""
    low, high = interval if interval is not None and len(interval) == 2 else (None, None)
    if low is None or high is None or not (np.isfinite(low) and np.isfinite(high)):
        return ""
    return f"{low:{spec}}–{high:{spec}}"


def _auc(y: np.ndarray, proba: np.ndarray, classes: list[str]) -> float:
    if len(classes) == 2:
        return float(roc_auc_score(y == classes[1], proba[:, 1]))
    return float(roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=classes))


def splits(
    trials: Trials, scheme: str = "kfold", n_folds: int = 5, seed: int = 42
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train/test index pairs for ``scheme``; an :class:`EEGError` when the data cannot support it."""
    if scheme not in SCHEMES:
        raise EEGError(f"unknown validation scheme {scheme!r}; choose from {', '.join(SCHEMES)}")
    if scheme == "runs":
        if len(np.unique(trials.runs)) < 2:
            raise EEGError("leave-one-run-out needs trials from at least two runs; load several files or use k-fold")
        out = list(LeaveOneGroupOut().split(trials.X, trials.y, trials.runs))
    else:
        smallest = min(trials.counts().values())
        if n_folds < 2 or n_folds > smallest:
            raise EEGError(f"{n_folds}-fold cross-validation needs 2 ≤ folds ≤ the smallest class ({smallest} trials)")
        out = list(StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(trials.X, trials.y))
    for train, _ in out:
        if len(np.unique(trials.y[train])) < len(trials.task.events):
            raise EEGError("a training fold lacks a class: every run must hold every class for leave-one-run-out")
    return out


def cross_validate(
    trials: Trials,
    pipeline: str,
    scheme: str = "kfold",
    n_folds: int = 5,
    seed: int = 42,
    progress: Progress | None = None,
) -> CVResult:
    """Cross-validate pipeline ``pipeline`` on ``trials``.

    Parameters
    ----------
    trials : Trials
    pipeline : str
        Registered pipeline name (see :data:`backend.classify.pipelines.PIPELINES`).
    scheme : {"kfold", "runs"}
        Stratified shuffled k-fold, or leave-one-run-out.
    n_folds : int
        Folds for k-fold.
    seed : int
        Shuffling seed of the k-fold split.
    progress : callable or None
        Called as ``progress(fraction_done, message)`` after each fold.

    Returns
    -------
    CVResult
    """
    pipeline_info(pipeline)
    classes = list(trials.task.events)
    folds, proba = [], np.zeros((len(trials.y), len(classes)))
    pairs = splits(trials, scheme, n_folds, seed)
    # Matrices are small (channels²): BLAS threads only contend with each other here.
    with threadpool_limits(limits=1, user_api="blas"):
        for i, (train, test) in enumerate(pairs):
            chosen = select(trials, train)  # the trials themselves unless the window or band is automatic
            estimator = make_estimator(pipeline, trials.sfreq, trials.ch_names)
            t0 = time.perf_counter()
            estimator.fit(chosen.X[train], trials.y[train])
            t1 = time.perf_counter()
            p = estimator.predict_proba(chosen.X[test])
            t2 = time.perf_counter()
            # Reorder the estimator's columns (sorted labels) to the task's class order.
            p = p[:, [list(estimator.classes_).index(c) for c in classes]]
            proba[test] = p
            y_test = trials.y[test]
            predicted = np.asarray(classes)[np.argmax(p, axis=1)]
            auc = _auc(y_test, p, classes) if len(np.unique(y_test)) == len(classes) else float("nan")
            folds.append(
                FoldScore(
                    i + 1,
                    len(train),
                    len(test),
                    float(accuracy_score(y_test, predicted)),
                    auc,
                    t1 - t0,
                    t2 - t1,
                    chosen.task.window,
                    chosen.task.pass_band,
                )
            )
            if progress:
                progress((i + 1) / len(pairs), f"{pipeline}: fold {i + 1}/{len(pairs)} ROC-AUC {auc:.2f}")
    return CVResult(pipeline, scheme, classes, folds, trials.y.copy(), proba, window_band_mode=trials.task.mode)
