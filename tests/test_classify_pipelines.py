"""Every registered pipeline fits and predicts on real motor-imagery trials."""

import dataclasses

import numpy as np
import pytest

from backend.classify.epochs import TaskSpec, make_trials
from backend.classify.pipelines import BEST, PIPELINES, make_estimator, pipeline_info
from backend.classify.validate import cross_validate
from backend.errors import EEGError

TASK = TaskSpec(("T1", "T2"), 0.5, 2.5, (8.0, 30.0))


@pytest.fixture(scope="module")
def sample_trials(physionet_recording):
    """Trials of the bundled run, on every 4th channel (16) to keep each fit short."""
    trials = make_trials([physionet_recording], TASK)
    return dataclasses.replace(trials, X=trials.X[:, ::4], ch_names=trials.ch_names[::4])


# Pipelines whose inner grid search or network training takes seconds: run in the full suite only.
HEAVY = {"acm-ts-lr", "acm-ts-svm", "best", "shallow-cnn"}


def _slow_if_heavy(name: str):
    return pytest.param(name, marks=pytest.mark.slow) if name in HEAVY else name


@pytest.mark.parametrize("name", [_slow_if_heavy(n) for n in PIPELINES])
def test_pipeline_fits_and_gives_probabilities(name, sample_trials):
    X, y = sample_trials.X, sample_trials.y
    train = np.concatenate([np.flatnonzero(y == "T1")[:5], np.flatnonzero(y == "T2")[:5]])
    test = np.setdiff1d(np.arange(len(y)), train)
    est = make_estimator(name, sample_trials.sfreq).fit(X[train], y[train])
    proba = est.predict_proba(X[test])
    assert proba.shape == (len(test), 2)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert set(est.predict(X[test])) <= {"T1", "T2"}
    assert list(est.classes_) == ["T1", "T2"]


def test_best_is_registered_and_unknown_is_refused():
    assert BEST in PIPELINES
    with pytest.raises(EEGError, match="unknown pipeline"):
        pipeline_info("svm-of-dreams")


@pytest.fixture(scope="module")
def subject_trials(shared_data):
    """Subject 1 of PhysioNet, runs 4, 8, 12 (45 trials), every 4th channel (16) for speed."""
    from backend.classify.epochs import load_runs

    runs = load_runs(sorted((shared_data / "eegbci_physionet" / "S001").glob("*.edf")))
    trials = make_trials(runs, TaskSpec(("T1", "T2"), 0.0, 3.0, (8.0, 32.0)))
    return dataclasses.replace(trials, X=trials.X[:, ::4], ch_names=trials.ch_names[::4])


# The CNN's CV is left to the benchmark: three trainings cost minutes on a shared CPU; its
# fit/predict and save/load are tested on the bundled run.
@pytest.mark.parametrize("name", [_slow_if_heavy(n) for n in PIPELINES if PIPELINES[n].kind != "torch"])
def test_pipeline_cross_validates_on_three_runs(name, subject_trials):
    result = cross_validate(subject_trials, name, "runs")
    assert [f.n_test for f in result.folds] == [15, 15, 15]
    assert all(0.0 <= f.roc_auc <= 1.0 for f in result.folds)
    if name in ("ts-lr", "best"):
        # Subject 1 imagines left/right fist clearly; chance is 0.5.
        assert result.roc_auc_mean > 0.65, result.to_dict()
