"""Automatic window and band: the grid, the choice per training fold (training trials only), the
manual override, and the chosen settings carried into saved models, the timeline and the CLI."""

import dataclasses
import json

import numpy as np
import pytest

from backend.classify import window_band
from backend.classify.epochs import GRID_BANDS, GRID_WINDOWS, TaskSpec, load_runs, make_trials, window_band_grid
from backend.classify.persistence import load_model, model_bytes, train_model
from backend.classify.timeline import out_of_fold_timeline, predict_timeline
from backend.classify.validate import cross_validate, splits
from backend.cli import main
from backend.errors import EEGError

AUTO = TaskSpec(("T1", "T2"))


def _sixteen(recording):
    """The run with only every 4th EEG channel good (16), to keep each fit short."""
    names = recording.raw.ch_names
    return recording.apply("set_bads", bads=[n for i, n in enumerate(names) if i % 4])


@pytest.fixture(scope="module")
def s001_runs(shared_data):
    """PhysioNet subject 1, runs 4, 8, 12 (T1/T2 last 4.1 s), on 16 channels."""
    files = sorted((shared_data / "eegbci_physionet" / "S001").glob("S001R*.edf"))
    return [_sixteen(r) for r in load_runs(files)]


@pytest.fixture(scope="module")
def s001_auto(s001_runs):
    return make_trials(s001_runs, AUTO)


def test_grid_is_derived_from_the_events(s001_runs):
    grid = window_band_grid(s001_runs, AUTO)
    # 4.1 s trials hold every grid window; 160 Hz holds every band: 3 × 3, MOABB's setting first.
    assert len(grid) == 9 and (grid[0].window, grid[0].pass_band) == ((0.0, 3.0), (8.0, 32.0))
    assert {g.window for g in grid} == set(GRID_WINDOWS) and {g.pass_band for g in grid} == set(GRID_BANDS)
    assert not any(g.auto for g in grid)
    # What the user fixes is the only value of its axis.
    banded = window_band_grid(s001_runs, TaskSpec(("T1", "T2"), band=(8.0, 30.0)))
    assert {g.pass_band for g in banded} == {(8.0, 30.0)} and len(banded) == 3
    windowed = window_band_grid(s001_runs, TaskSpec(("T1", "T2"), 0.5, 2.5))
    assert {g.window for g in windowed} == {(0.5, 2.5)} and len(windowed) == 3


def test_auto_trials_hold_the_same_trials_for_every_grid_point(s001_auto):
    trials = s001_auto
    assert trials.task.auto and trials.task.mode == "auto" and len(trials.candidates) == 9
    for c in trials.candidates:
        assert not c.task.auto
        assert c.X.shape == (len(trials.y), 16, int(round(c.task.window_s * trials.sfreq)))
        assert (c.y == trials.y).all() and (c.onsets == trials.onsets).all()
    assert len(trials.y) == 45


def test_auto_cross_validation_records_each_folds_choice(s001_auto):
    result = cross_validate(s001_auto, "ts-lr", "kfold", 5, seed=42)
    grid = {(c.task.window, c.task.pass_band) for c in s001_auto.candidates}
    assert result.window_band_mode == "auto"
    assert all((f.window_s, f.band_hz) in grid for f in result.folds)
    chosen = [(f.window_s, f.band_hz) for f in result.folds]
    assert (result.window_s, result.band_hz) == max(chosen, key=chosen.count)
    d = result.to_dict()
    assert d["window_band_mode"] == "auto" and d["window_s"] == list(result.window_s)
    assert all(len(f["window_s"]) == 2 and len(f["band_hz"]) == 2 for f in d["folds"])
    # Subject 1 imagines clearly: well above chance with the chosen settings.
    assert result.roc_auc_mean > 0.7, d
    # Each fold's model read the chosen cut: refitting one fold by hand on it gives its probabilities.
    (train, test), fold = splits(s001_auto, "kfold", 5, 42)[0], result.folds[0]
    cut = next(c for c in s001_auto.candidates if (c.task.window, c.task.pass_band) == (fold.window_s, fold.band_hz))
    from backend.classify.pipelines import make_estimator

    est = make_estimator("ts-lr", cut.sfreq).fit(cut.X[train], cut.y[train])
    np.testing.assert_allclose(est.predict_proba(cut.X[test]), result.proba[test])


def test_selection_reads_only_the_training_trials(s001_auto, monkeypatch):
    seen = []
    score = window_band.proxy_score
    monkeypatch.setattr(window_band, "proxy_score", lambda X, y: seen.append(len(y)) or score(X, y))
    pairs = splits(s001_auto, "kfold", 5, 42)
    fresh = dataclasses.replace(s001_auto)  # an empty cache of choices
    choices = [window_band.select(fresh, train).task for train, _ in pairs]
    assert seen == [len(train) for train, _ in pairs for _ in fresh.candidates]
    # Replacing every test trial by noise changes no fold's choice nor its scores.
    rng = np.random.default_rng(0)
    for (train, test), before in zip(pairs, choices):
        noisy = []
        for c in s001_auto.candidates:
            X = c.X.copy()
            X[test] = rng.standard_normal(X[test].shape) * 1e-5
            noisy.append(dataclasses.replace(c, X=X))
        other = dataclasses.replace(s001_auto, candidates=tuple(noisy))
        assert window_band.select(other, train).task == before
        assert window_band.scores_of(other, train) == window_band.scores_of(fresh, train)


def test_manual_settings_override_the_choice(s001_runs):
    manual = make_trials(s001_runs, TaskSpec(("T1", "T2"), 0.5, 2.5, (8.0, 30.0)))
    assert not manual.candidates and manual.task.mode == "manual"
    result = cross_validate(manual, "mdm", "kfold", 3)
    assert result.window_band_mode == "manual"
    assert {(f.window_s, f.band_hz) for f in result.folds} == {((0.5, 2.5), (8.0, 30.0))}
    # A fixed band with an automatic window: only the window is chosen.
    half = make_trials(s001_runs, TaskSpec(("T1", "T2"), band=(8.0, 30.0)))
    result = cross_validate(half, "mdm", "kfold", 3)
    assert result.window_band_mode == "auto" and {f.band_hz for f in result.folds} == {(8.0, 30.0)}


def test_half_a_window_is_refused():
    with pytest.raises(EEGError, match="both ends"):
        TaskSpec(("T1", "T2"), tmin=0.5)


def test_trained_model_keeps_the_chosen_settings(s001_runs, s001_auto):
    model = train_model(s001_auto, "ts-lr")
    assert not model.task.auto and model.n_trials == 45
    assert model.task in [c.task for c in s001_auto.candidates]
    # Chosen on all trials, as a fold would choose on its training trials.
    assert model.task == window_band.select(s001_auto, np.arange(45)).task
    again = load_model(model_bytes(model))
    assert again.task == model.task
    tl = predict_timeline(s001_runs[0], again, step_s=1.0)
    assert tl.window_s == pytest.approx(model.task.window_s)


def test_out_of_fold_timeline_uses_each_folds_choice(s001_runs, s001_auto):
    result = cross_validate(s001_auto, "ts-lr", "kfold", 5, seed=42)
    tl = out_of_fold_timeline(s001_runs[0], s001_auto, "ts-lr", "kfold", 5, 42, step_s=1.0)
    # The folds choose as cross-validation's did; the timeline's window is the most frequent choice.
    assert tl.window_s == pytest.approx(result.window_s[1] - result.window_s[0])
    assert tl.out_of_fold and np.isfinite(tl.proba).any()
    finite = tl.proba[np.isfinite(tl.proba[:, 0])]
    assert np.allclose(finite.sum(axis=1), 1.0)


def test_cli_cv_json_reports_the_choice(physionet_file, capsys):
    files = [str(physionet_file)]  # the bundled run: 15 trials, T1/T2 of 4.1 s
    assert main(["classify", "cv", *files, "--pipeline", "mdm", "--folds", "3", "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(out[-1])
    assert summary["window_band_mode"] == "auto"
    assert len(summary["window_s"]) == 2 and len(summary["band_hz"]) == 2
    assert {"roc_auc_mean", "accuracy_mean", "folds"} <= set(summary)
    assert all("window_s" in f and "band_hz" in f for f in summary["folds"])
    assert any("chosen by inner cross-validation" in line for line in out)
    args = ["--tmin", "0", "--tmax", "3", "--band", "8,32", "--pipeline", "mdm", "--folds", "3", "--json"]
    assert main(["classify", "cv", *files, *args]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["window_band_mode"] == "manual" and summary["window_s"] == [0.0, 3.0]
    assert summary["band_hz"] == [8.0, 32.0]


def test_auto_on_the_bundled_run(physionet_recording, tmp_path):
    """The bundled PhysioNet run (15 T1/T2 trials): auto mode chooses and a saved model keeps it."""
    trials = make_trials([_sixteen(physionet_recording)], AUTO)
    result = cross_validate(trials, "mdm", "kfold", 3)
    grid = {(c.task.window, c.task.pass_band) for c in trials.candidates}
    assert all((f.window_s, f.band_hz) in grid for f in result.folds)
    assert "chosen by inner cross-validation" in window_band.describe(result)
