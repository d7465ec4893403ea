"""How high a cross-validated ROC-AUC climbs by chance alone, for a given number of trials.

With few trials a classifier that guesses still scores well now and then: 8 against 7 trials
in five folds leave about three trials of each class per test fold, and a fold's ROC-AUC on
3 vs 3 trials is 1.0 once in twenty draws. Under label permutation the ranks of a test fold's
scores are a random arrangement of its labels, whatever the classifier, so the null distribution
of the fold-averaged ROC-AUC depends only on the class counts of each test fold. We draw it by a
quick seeded simulation of those ranks (no classifier is fitted).

That null holds for a fixed arrangement of folds and scores. :func:`permutation_test` draws
the null of the whole procedure instead (Ojala & Garriga 2010): the labels are shuffled and
the pipeline is cross-validated again on each shuffle, so whatever the pipeline learns from
structure that is not the labels shows in the null; it costs one cross-validation a shuffle.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from backend.classify.epochs import Trials
from backend.classify.validate import CVResult, Progress, cross_validate, splits
from backend.errors import EEGError

# Below these counts a result is said to rest on few trials.
FEW_PER_CLASS = 20
FEW_PER_FOLD = 5
N_SIMULATIONS = 20000
# Test folds larger than this use the normal approximation (the ranks' simulation grows with n).
EXACT_UP_TO = 120


@functools.lru_cache(maxsize=256)
def _null_auc(fold_counts: tuple[tuple[int, ...], ...], n_sim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    total = np.zeros(n_sim)
    for counts in fold_counts:
        n = sum(counts)
        # Two classes: one curve (the second class against the first). More: one-vs-rest, each
        # class scored by its own probability column, so each curve draws its own ranks.
        scored = counts[1:] if len(counts) == 2 else counts
        aucs = []
        for c in scored:
            if n > EXACT_UP_TO:  # Mann-Whitney's normal approximation: sd² = (n + 1) / (12 c (n - c))
                aucs.append(rng.normal(0.5, np.sqrt((n + 1) / (12 * c * (n - c))), n_sim))
                continue
            # The class's ranks among the fold's n scores: a random c of 1..n.
            ranks = np.argsort(rng.random((n_sim, n)), axis=1)[:, :c] + 1
            aucs.append((ranks.sum(axis=1) - c * (c + 1) / 2) / (c * (n - c)))  # Mann-Whitney U / (c × rest)
        total += np.mean(aucs, axis=0)
    return total / len(fold_counts)


def chance_auc(
    fold_counts: Sequence[Sequence[int]], quantile: float = 0.95, n_sim: int = N_SIMULATIONS, seed: int = 0
) -> float:
    """The ``quantile`` of the fold-averaged ROC-AUC under label permutation.

    Parameters
    ----------
    fold_counts : sequence of sequence of int
        Trials of each class in each test fold, e.g. ``[(2, 1), (2, 2), ...]``; one fold
        ``[(n1, n2)]`` gives the pooled ROC-AUC of ``n1`` vs ``n2`` trials.
    quantile : float
        Between 0 and 1 (0.95: a guessing classifier scores above this once in twenty).
    n_sim : int
        Simulated permutations.
    seed : int
        Seed of the simulation (the same counts always give the same answer).

    Returns
    -------
    float
        ROC-AUC.
    """
    key = tuple(tuple(int(c) for c in counts) for counts in fold_counts)
    if not key or any(len(counts) < 2 or min(counts) < 1 for counts in key):
        raise ValueError(f"every test fold needs at least one trial of each of two or more classes, got {key}")
    if not 0 < quantile < 1:
        raise ValueError(f"quantile must be between 0 and 1, got {quantile}")
    return float(np.quantile(_null_auc(key, int(n_sim), int(seed)), quantile))


@dataclass(frozen=True)
class ChanceLevel:
    """Whether a cross-validation rests on few trials, and the ROC-AUC chance reaches for its counts.

    Attributes
    ----------
    class_counts : dict of str to int
        Trials of each class.
    smallest_per_fold : int
        Fewest trials of one class in one test fold.
    auc_95 : float
        95th percentile of the fold-averaged ROC-AUC under label permutation.
    few : bool
        Fewer than :data:`FEW_PER_CLASS` trials in a class or :data:`FEW_PER_FOLD` of a class in a test fold.
    """

    class_counts: dict[str, int]
    smallest_per_fold: int
    auc_95: float
    few: bool

    def note(self) -> str:
        """One line for the page: the counts and the chance-level spread."""
        counts = " vs ".join(str(n) for n in self.class_counts.values())
        head = "Few trials" if self.few else "Trials"
        return (
            f"{head}: {counts} (as few as {self.smallest_per_fold} of a class in a test fold); "
            f"guessing reaches ROC-AUC {self.auc_95:.2f} in 5% of label permutations, "
            "so a score below that is indistinguishable from chance."
        )


def chance_level(trials: Trials, scheme: str = "kfold", n_folds: int = 5, seed: int = 42) -> ChanceLevel:
    """The chance level of cross-validating ``trials`` as :func:`~backend.classify.validate.cross_validate`
    would (same folds); an :class:`~backend.errors.EEGError` when the scheme cannot split them."""
    classes = list(trials.task.events)
    folds = [
        tuple(int(np.sum(trials.y[test] == c)) for c in classes) for _, test in splits(trials, scheme, n_folds, seed)
    ]
    scored = [f for f in folds if min(f) > 0]  # a fold lacking a class has no ROC-AUC (nan), as in cross_validate
    smallest = min(min(f) for f in folds)
    counts = trials.counts()
    auc = chance_auc(scored) if scored else float("nan")
    return ChanceLevel(counts, smallest, auc, min(counts.values()) < FEW_PER_CLASS or smallest < FEW_PER_FOLD)


# --- the permutation test of the whole cross-validation ----------------------------------------------

MAX_PERMUTATIONS = 1000
DEFAULT_PERMUTATIONS = 100  # the Classify page's permutation test


@dataclass(frozen=True)
class PermutationTest:
    """The cross-validated ROC-AUC against its null distribution under shuffled labels.

    Attributes
    ----------
    observed : float
        Mean ROC-AUC over folds of the cross-validation on the true labels.
    null : ndarray, shape (n_permutations,)
        The same mean of each cross-validation on shuffled labels.
    p_value : float
        ``(count of null ≥ observed + 1) / (n_permutations + 1)``.
    chance_95 : float
        The null's 95th percentile: the ROC-AUC chance reaches once in twenty shuffles.
    scheme : str
        How labels were shuffled: across all trials (``"kfold"``) or within each run (``"runs"``).
    """

    observed: float
    null: np.ndarray
    p_value: float
    chance_95: float
    scheme: str

    @property
    def n(self) -> int:
        return len(self.null)

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "observed_roc_auc": self.observed,
            "p_value": self.p_value,
            "chance_roc_auc_95": self.chance_95,
            "scheme": self.scheme,
            "null": [round(float(v), 6) for v in self.null],
        }

    @classmethod
    def from_dict(cls, d: dict) -> PermutationTest:
        """The test of :meth:`to_dict`'s output (a stored result: JSON null for NaN)."""
        null = np.asarray([np.nan if v is None else v for v in d["null"]], dtype=float)
        score, chance = (np.nan if d[k] is None else float(d[k]) for k in ("observed_roc_auc", "chance_roc_auc_95"))
        return cls(score, null, float(d["p_value"]), chance, str(d["scheme"]))

    def line(self) -> str:
        """One line: the p-value and the chance level the shuffles give."""
        return (
            f"Permutation test ({self.n} label shuffles): p = {self.p_value:.3f}; chance level (95th percentile of "
            f"the null) ROC-AUC {self.chance_95:.2f}, observed {self.observed:.2f}."
        )


def shuffled_labels(trials: Trials, scheme: str, rng: np.random.Generator) -> np.ndarray:
    """The trials' labels shuffled: within each run for leave-one-run-out (each run keeps its class
    counts, so every training fold keeps every class), across all trials for k-fold."""
    if scheme != "runs":
        return rng.permutation(trials.y)
    y = trials.y.copy()
    for run in np.unique(trials.runs):
        at = np.flatnonzero(trials.runs == run)
        y[at] = rng.permutation(y[at])
    return y


def permutation_test(
    trials: Trials,
    pipeline: str,
    scheme: str = "kfold",
    n_folds: int = 5,
    seed: int = 42,
    n_permutations: int = 100,
    random_state: int = 0,
    observed: CVResult | None = None,
    progress: Progress | None = None,
) -> PermutationTest:
    """Permutation test of a cross-validated ROC-AUC (Ojala & Garriga 2010).

    The labels are shuffled ``n_permutations`` times and the same cross-validation (pipeline,
    scheme, folds and fold seed, as :func:`sklearn.model_selection.permutation_test_score`
    does) is run on each; the mean ROC-AUC over folds of each makes the null distribution.
    K-fold folds are stratified on the shuffled labels, as they are on the true ones;
    leave-one-run-out keeps its folds (labels shuffle within runs).

    Parameters
    ----------
    trials : Trials
    pipeline, scheme, n_folds, seed
        As for :func:`~backend.classify.validate.cross_validate`.
    n_permutations : int
        Shuffles, 1 to :data:`MAX_PERMUTATIONS` (each costs one cross-validation).
    random_state : int
        Seed of the shuffles.
    observed : CVResult, optional
        The cross-validation on the true labels, when already run (else it is run here).
    progress : callable or None
        Called as ``progress(fraction_done, message)`` after each shuffle; it may raise to stop
        the test (a job's progress does once the job is cancelled).

    Returns
    -------
    PermutationTest
    """
    if not 1 <= int(n_permutations) <= MAX_PERMUTATIONS:
        raise EEGError(f"a permutation test takes 1 to {MAX_PERMUTATIONS} shuffles, got {n_permutations}")
    if observed is None:
        observed = cross_validate(trials, pipeline, scheme, n_folds, seed)
    rng = np.random.default_rng(random_state)
    null = np.empty(int(n_permutations))
    for i in range(len(null)):
        shuffled = replace(trials, y=shuffled_labels(trials, scheme, rng))
        null[i] = cross_validate(shuffled, pipeline, scheme, n_folds, seed).roc_auc_mean
        if progress:
            progress((i + 1) / len(null), f"{pipeline}: shuffle {i + 1}/{len(null)} ROC-AUC {null[i]:.2f}")
    score = observed.roc_auc_mean
    p_value = (np.sum(null >= score) + 1) / (len(null) + 1)
    return PermutationTest(score, null, float(p_value), float(np.nanquantile(null, 0.95)), scheme)


def permutation_estimate_s(result: CVResult, n_permutations: int = 100) -> float:
    """Seconds a permutation test of ``n_permutations`` shuffles should take on one worker: the measured
    fit and predict times of ``result``'s folds, once per shuffle."""
    return float(n_permutations * sum(f.fit_s + f.predict_s for f in result.folds))


def duration_text(seconds: float) -> str:
    """A duration in words for an estimate: seconds, minutes or hours."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"
