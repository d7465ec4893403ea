"""Cross-validation: k-fold and leave-one-run-out, scores, progress, refusals."""

import numpy as np
import pytest

from backend.classify.epochs import TaskSpec, load_runs, make_trials
from backend.classify.validate import cross_validate, mean_ci95
from backend.errors import EEGError

TASK = TaskSpec(("T1", "T2"), 0.5, 2.5, (8.0, 30.0))


@pytest.fixture(scope="module")
def sample_trials(physionet_recording):
    return make_trials([physionet_recording], TASK)


def test_kfold_scores_and_progress(sample_trials):
    calls = []
    result = cross_validate(sample_trials, "csp-lda", "kfold", 3, progress=lambda f, m: calls.append(f))
    assert calls == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert len(result.folds) == 3
    assert sum(f.n_test for f in result.folds) == len(sample_trials.y)
    assert result.confusion().sum() == len(sample_trials.y)
    assert np.allclose(result.proba.sum(axis=1), 1.0)
    d = result.to_dict()
    assert 0 <= d["roc_auc_mean"] <= 1 and 0 <= d["accuracy_mean"] <= 1
    assert d["roc_auc_ci95"] == list(result.roc_auc_ci95)
    fpr, tpr = result.roc()["T2"]
    assert fpr[0] == 0 and tpr[-1] == 1


def test_leave_one_run_out(shared_data):
    runs = load_runs(sorted((shared_data / "eegbci_physionet" / "S001").glob("*.edf")))
    trials = make_trials(runs, TaskSpec(("T1", "T2"), 0.0, 3.0, (8.0, 32.0)))
    result = cross_validate(trials, "ts-lr", "runs")
    assert [f.n_test for f in result.folds] == [int(np.sum(trials.runs == r)) for r in range(3)]
    assert result.roc_auc_mean > 0.6


def test_impossible_schemes_are_refused(sample_trials):
    with pytest.raises(EEGError, match="at least two runs"):
        cross_validate(sample_trials, "ts-lr", "runs")
    with pytest.raises(EEGError, match="folds"):
        cross_validate(sample_trials, "ts-lr", "kfold", 50)
    with pytest.raises(EEGError, match="unknown validation"):
        cross_validate(sample_trials, "ts-lr", "bootstrap")


def test_interval_of_the_mean_by_hand():
    # Five folds 0.6, 0.7, 0.8, 0.7, 0.7 of 80 training and 20 test trials: s² = 0.02 / 4 = 0.005,
    # corrected variance (1/5 + 20/80) s² = 0.00225, t(0.975, 4) = 2.7764: half-width 0.1317.
    low, high = mean_ci95([0.6, 0.7, 0.8, 0.7, 0.7], [80] * 5, [20] * 5)
    assert (low, high) == pytest.approx((0.7 - 0.1317, 0.7 + 0.1317), abs=1e-4)
    # The plain Student t over folds (variance s² / k) would be narrower: 2.7764 × sqrt(0.001) = 0.0878.
    assert high - low > 2 * 0.0878
    assert mean_ci95([0.9, 1.0, 1.0], [10] * 3, [5] * 3)[1] == 1.0  # clipped to [0, 1]
    assert np.isnan(mean_ci95([0.8], [10], [5])[0])  # one fold: no interval
    assert mean_ci95([0.6, float("nan"), 0.8], [8] * 3, [4] * 3) == mean_ci95([0.6, 0.8], [8] * 2, [4] * 2)


def test_interval_on_real_data_contains_the_mean_and_widens_with_fewer_folds(shared_data):
    runs = load_runs(sorted((shared_data / "eegbci_physionet" / "S001").glob("*.edf")))
    trials = make_trials(runs, TASK)
    widths = {}
    for k in (3, 10):
        result = cross_validate(trials, "mdm", "kfold", k)
        low, high = result.roc_auc_ci95
        assert 0 <= low <= result.roc_auc_mean <= high <= 1
        widths[k] = high - low
        line = result.summary_line()
        assert line.startswith(f"ROC-AUC {result.roc_auc_mean:.2f} ± {result.roc_auc_std:.2f} over {k} folds (95 % ")
    assert widths[3] > widths[10]
