"""Chance level of a cross-validated ROC-AUC: the permutation null for given fold counts."""

import math

import numpy as np
import pytest

from backend.classify.chance import (
    FEW_PER_CLASS,
    PermutationTest,
    _null_auc,
    chance_auc,
    chance_level,
    permutation_estimate_s,
    permutation_test,
    shuffled_labels,
)
from backend.classify.epochs import TaskSpec, load_runs, make_trials
from backend.classify.validate import cross_validate
from backend.errors import EEGError

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


@pytest.fixture(scope="module")
def s001_trials(shared_data):
    runs = load_runs(sorted((shared_data / "eegbci_physionet" / "S001").glob("*.edf")))
    return make_trials(runs, TASK)


def test_labels_shuffle_within_runs_for_leave_one_run_out(s001_trials):
    rng = np.random.default_rng(0)
    y = shuffled_labels(s001_trials, "runs", rng)
    assert not np.array_equal(y, s001_trials.y)
    for r in np.unique(s001_trials.runs):
        here = s001_trials.runs == r
        assert sorted(y[here]) == sorted(s001_trials.y[here])  # each run keeps its class counts
    y = shuffled_labels(s001_trials, "kfold", rng)
    assert sorted(y) == sorted(s001_trials.y)
    assert any(sorted(y[s001_trials.runs == r]) != sorted(s001_trials.y[s001_trials.runs == r]) for r in range(3))


def test_permutation_test_of_a_real_subject(s001_trials):
    observed = cross_validate(s001_trials, "mdm", "runs")
    calls = []
    test = permutation_test(
        s001_trials, "mdm", "runs", n_permutations=12, observed=observed, progress=lambda f, m: calls.append((f, m))
    )
    assert [f for f, _ in calls] == pytest.approx([(i + 1) / 12 for i in range(12)])
    assert calls[0][1].startswith("mdm: shuffle 1/12 ROC-AUC ")
    assert test.n == 12 and test.scheme == "runs" and test.observed == observed.roc_auc_mean
    # Shuffled labels carry no information: the null centres near 0.5; S001's imagery is decodable
    # (ROC-AUC 0.83 leaving one run out) and above every shuffle here.
    assert abs(np.mean(test.null) - 0.5) < 0.1
    assert test.observed > test.chance_95
    assert test.p_value == pytest.approx((np.sum(test.null >= test.observed) + 1) / 13)
    assert 1 / 13 <= test.p_value <= 1
    again = PermutationTest.from_dict(test.to_dict())
    assert again.p_value == test.p_value and np.allclose(again.null, test.null, atol=1e-6)
    assert test.line().startswith("Permutation test (12 label shuffles): p = ")
    assert permutation_estimate_s(observed, 100) == pytest.approx(
        100 * sum(f.fit_s + f.predict_s for f in observed.folds)
    )


def test_permutation_test_is_bounded_and_stops_when_progress_raises(physionet_recording):
    trials = make_trials([physionet_recording], TASK)
    with pytest.raises(EEGError, match="1 to 1000 shuffles"):
        permutation_test(trials, "mdm", "kfold", 3, n_permutations=5000)

    class Stop(Exception):
        pass

    def stop(fraction, message):
        raise Stop

    with pytest.raises(Stop):  # a cancelled job's progress raises: the test ends after the shuffle
        permutation_test(trials, "mdm", "kfold", 3, n_permutations=50, progress=stop)


def test_permutation_figure_marks_the_observed_score_and_the_chance_level():
    from backend.classify.figures import permutation_figure

    null = np.array([0.4, 0.45, 0.5, 0.5, 0.55, 0.6, 0.62, np.nan])
    test = PermutationTest(0.8, null, 1 / 9, float(np.nanquantile(null, 0.95)), "kfold")
    fig = permutation_figure(test, "MDM")
    [bars] = fig.data
    assert sum(bars.y) == 7  # the NaN shuffle (a fold without a class) is left out
    lines = {round(s.x0, 3) for s in fig.layout.shapes}
    assert lines == {0.8, round(test.chance_95, 3)}
    assert any("observed 0.80 (p = 0.111)" in a.text for a in fig.layout.annotations)
    assert fig.layout.title.text == "MDM: permutation test, 8 label shuffles"


def test_duration_text():
    from backend.classify.chance import duration_text

    assert [duration_text(s) for s in (12, 600, 9000)] == ["12 s", "10 min", "2.5 h"]
