"""Cross-validation: k-fold and leave-one-run-out, scores, progress, refusals."""

import numpy as np
import pytest

from backend.classify.epochs import TaskSpec, load_runs, make_trials
from backend.classify.validate import cross_validate
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
