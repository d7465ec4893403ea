"""Chance level of a cross-validated ROC-AUC: the permutation null for given fold counts."""

import math

import numpy as np
import pytest

from backend.classify.chance import FEW_PER_CLASS, _null_auc, chance_auc, chance_level
from backend.classify.epochs import TaskSpec, load_runs, make_trials

TASK = TaskSpec(("T1", "T2"), 0.5, 2.5, (8.0, 30.0))


def test_exact_small_case():
    # 3 vs 3 trials: AUC is 1 for exactly one of the C(6, 3) = 20 arrangements of the ranks.
    null = _null_auc(((3, 3),), 20000, 0)
    assert np.mean(null == 1.0) == pytest.approx(1 / math.comb(6, 3), abs=0.006)
    assert np.mean(null) == pytest.approx(0.5, abs=0.01)
    assert chance_auc([(3, 3)]) > 0.85


def test_large_counts_match_the_normal_approximation():
    # Mann-Whitney: sd of the AUC under H0 is sqrt((n1 + n2 + 1) / (12 n1 n2)).
    n1, n2 = 50, 40
    expected = 0.5 + 1.6449 * math.sqrt((n1 + n2 + 1) / (12 * n1 * n2))
    assert chance_auc([(n1, n2)]) == pytest.approx(expected, abs=0.01)


def test_averaging_folds_narrows_the_spread_and_more_trials_narrow_it_more():
    one = chance_auc([(3, 3)])
    five = chance_auc([(3, 3)] * 5)
    assert 0.5 < five < one
    assert chance_auc([(30, 30)] * 5) < five
    assert chance_auc([(3, 3, 3)] * 5) > 0.5  # three classes: one-vs-rest macro average


def test_same_counts_same_answer_and_bad_counts_refused():
    assert chance_auc([(4, 5)]) == chance_auc([(4, 5)])
    with pytest.raises(ValueError):
        chance_auc([(4, 0)])
    with pytest.raises(ValueError):
        chance_auc([(4, 5)], quantile=1.5)


def test_physionet_run_rests_on_few_trials(physionet_recording):
    trials = make_trials([physionet_recording], TASK)
    level = chance_level(trials, "kfold", 5)
    assert level.few and min(level.class_counts.values()) < FEW_PER_CLASS
    assert level.smallest_per_fold <= 2
    assert level.auc_95 > 0.7  # ~3 trials per class per fold: guessing often looks good
    note = level.note()
    assert note.startswith("Few trials: ") and " vs ".join(str(n) for n in level.class_counts.values()) in note
    assert f"{level.auc_95:.2f}" in note and "\n" not in note


def test_leave_one_run_out_uses_the_runs_folds(shared_data):
    runs = load_runs(sorted((shared_data / "eegbci_physionet" / "S001").glob("*.edf")))
    trials = make_trials(runs, TASK)
    level = chance_level(trials, "runs")
    per_run = min(int(np.sum((trials.runs == r) & (trials.y == c))) for r in range(3) for c in TASK.events)
    assert level.smallest_per_fold == per_run
    assert 0.5 < level.auc_95 < chance_level(trials, "kfold", 10).auc_95


def test_large_folds_use_the_normal_approximation_continuously():
    # Either side of the switch the 95th percentile moves only as much as one trial moves it.
    assert chance_auc([(60, 60)]) == pytest.approx(chance_auc([(61, 60)]), abs=0.005)
    assert chance_auc([(500, 500)]) == pytest.approx(0.5 + 1.6449 * math.sqrt(1001 / 3_000_000), abs=0.003)
