"""Sliding-window probabilities, potato flags and the covariance map on the bundled run."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from backend.classify import embedding, figures
from backend.classify.epochs import TaskSpec, make_trials
from backend.classify.persistence import train_model
from backend.classify.timeline import out_of_fold_timeline, predict_timeline
from backend.classify.validate import cross_validate, splits
from backend.errors import EEGError

TASK = TaskSpec(("T1", "T2"), 0.5, 2.5, (8.0, 30.0))


@pytest.fixture(scope="module")
def model_and_trials(physionet_recording):
    trials = make_trials([physionet_recording], TASK)
    return train_model(trials, "ts-lr"), trials


@pytest.mark.parametrize("step", [0.5, 1.0])
def test_timeline_covers_the_recording(physionet_recording, model_and_trials, step):
    model, _ = model_and_trials
    tl = predict_timeline(physionet_recording, model, step_s=step)
    duration = physionet_recording.duration_s
    assert len(tl.times) == int((duration - TASK.window_s) // step) + 1
    assert tl.proba.shape == (len(tl.times), 2)
    assert np.allclose(tl.proba.sum(axis=1), 1.0)
    assert tl.times[0] == pytest.approx(TASK.window_s / 2) and tl.times[-1] <= duration
    assert np.allclose(np.diff(tl.starts), step)
    labels = [e[2] for e in tl.events]
    ann = [str(d) for d in physionet_recording.raw.annotations.description if str(d) in ("T1", "T2")]
    assert labels == ann
    rows = tl.to_rows()
    assert set(rows[0]) == {"start_s", "center_s", "p_T1", "p_T2"}


@pytest.mark.slow
def test_timeline_follows_the_training_trials(physionet_recording, model_and_trials):
    """Windows aligned on the training trials get the probabilities of those trials."""
    model, trials = model_and_trials
    step = 0.1  # the PhysioNet cues fall on multiples of 0.1 s
    tl = predict_timeline(physionet_recording, model, step_s=step)
    index = np.round((trials.onsets + TASK.tmin) / step).astype(int)
    assert np.allclose(tl.starts[index], trials.onsets + TASK.tmin)
    np.testing.assert_allclose(tl.proba[index], model.predict_proba(trials.X), atol=1e-6)


def test_timeline_refuses_a_bad_step(physionet_recording, model_and_trials):
    with pytest.raises(EEGError, match="step"):
        predict_timeline(physionet_recording, model_and_trials[0], step_s=0)


@pytest.mark.slow
def test_potato_and_map(physionet_recording, model_and_trials):
    _, trials = model_and_trials
    flags = embedding.potato_flags(physionet_recording, band=(1.0, 35.0), window_s=2.0, step_s=1.0)
    assert flags.zscore.shape == flags.artifact.shape == flags.starts.shape
    assert flags.artifact.sum() < len(flags.artifact) / 2  # most of a usable recording is clean
    np.testing.assert_array_equal(flags.artifact, flags.zscore > flags.threshold)
    for method in embedding.METHODS:
        coords = embedding.covariance_map(trials, method)
        assert coords.shape == (len(trials.y), 2) and np.isfinite(coords).all()
    with pytest.raises(EEGError, match="unknown map"):
        embedding.covariance_map(trials, "umap")


@pytest.mark.slow
def test_figures_build(physionet_recording, model_and_trials):
    model, trials = model_and_trials
    result = cross_validate(trials, "csp-lda", "kfold", 3)
    tl = predict_timeline(physionet_recording, model)
    flags = embedding.potato_flags(physionet_recording)
    fig = figures.timeline_figure(tl, flags)
    assert len(fig.layout.shapes) >= len(tl.events)  # one shaded band per true annotation
    for f in (
        figures.fold_scores_figure(result),
        figures.comparison_figure([result]),
        figures.confusion_figure(result),
        figures.roc_figure([result]),
    ):
        assert len(f.data) >= 1
    cov = figures.covariance_map_figure(embedding.covariance_map(trials), trials.y, TASK.events, "tangent-pca")
    assert [t.name for t in cov.data] == ["T1", "T2"]


@pytest.mark.slow
def test_out_of_fold_timeline_is_cross_validation_over_time(physionet_recording, model_and_trials):
    """A window on a trial gets exactly cross-validation's out-of-fold probability of that trial,
    not the training fit that a model trained on all trials gives there."""
    model, trials = model_and_trials
    step = 0.1  # the PhysioNet cues fall on multiples of 0.1 s
    oof = out_of_fold_timeline(physionet_recording, trials, "ts-lr", "kfold", 5, seed=7, step_s=step)
    fit = predict_timeline(physionet_recording, model, step_s=step)
    assert oof.out_of_fold and not fit.out_of_fold and oof.proba.shape == fit.proba.shape
    cv = cross_validate(trials, "ts-lr", "kfold", 5, seed=7)
    index = np.round((trials.onsets + TASK.tmin) / step).astype(int)
    np.testing.assert_allclose(oof.proba[index], cv.proba, atol=1e-6)
    # Training fit flatters: on the trials it separates the classes better than the folds do.
    truth = trials.y == "T2"
    assert roc_auc_score(truth, fit.proba[index, 1]) > roc_auc_score(truth, oof.proba[index, 1])
    # Away from every trial all fold models may speak; the rows are probabilities.
    assert np.allclose(oof.proba.sum(axis=1), 1.0)


@pytest.mark.slow
def test_windows_spanning_two_folds_have_no_out_of_fold_model(physionet_recording):
    """With 5-s windows, a window can touch two neighbouring trials: when they sit in different
    folds, every fold model trained on one of them, and the row is left empty (NaN)."""
    task = TaskSpec(("T1", "T2"), -1.0, 4.0, (8.0, 30.0))
    trials = make_trials([physionet_recording], task)
    tl = out_of_fold_timeline(physionet_recording, trials, "ts-lr", "kfold", 3, step_s=0.5)
    pairs = splits(trials, "kfold", 3)
    fold = np.empty(len(trials.y), dtype=int)
    for k, (_, test) in enumerate(pairs):
        fold[test] = k
    first = trials.onsets + task.tmin
    for start, row in zip(tl.starts, tl.proba):
        touched = (first < start + task.window_s) & (start < first + task.window_s)
        assert np.isnan(row).all() == (len(set(fold[touched])) > 1)
    assert np.isnan(tl.proba[:, 0]).any()
    assert tl.to_rows()[int(np.flatnonzero(np.isnan(tl.proba[:, 0]))[0])]["p_T1"] is None


def test_out_of_fold_timeline_wants_the_trials_recording(physionet_recording, eeglab_recording, model_and_trials):
    with pytest.raises(EEGError, match="is not run 1 of the trials"):
        out_of_fold_timeline(eeglab_recording, model_and_trials[1], "ts-lr")
