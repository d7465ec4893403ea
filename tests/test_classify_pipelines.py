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


@pytest.mark.parametrize("name", list(PIPELINES))
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


@pytest.mark.parametrize("name", ["ts-lr", "csp-lda", "best"])
def test_pipelines_beat_chance_on_a_good_subject(name, shared_data):
    """Subject 1 of PhysioNet imagines left/right fist clearly: three runs, 45 trials."""
    from backend.classify.epochs import load_runs

    runs = load_runs(sorted((shared_data / "eegbci_physionet" / "S001").glob("*.edf")))
    trials = make_trials(runs, TaskSpec(("T1", "T2"), 0.0, 3.0, (8.0, 32.0)))
    result = cross_validate(trials, name, "kfold", 5)
    # Chance is 0.5; a working pipeline is well above it on this subject.
    assert result.roc_auc_mean > 0.65, result.to_dict()
