"""Group analyses with the automatic window and band (the default): leave-one-subject-out chooses them
on the training subjects only, the event averages span the trials, each subject's row says what was used."""

from __future__ import annotations

import numpy as np
import pytest
from distributed import Client

from backend.classify import window_band
from backend.classify.epochs import TaskSpec, make_trials
from backend.errors import EEGError
from backend.io import export_recording
from backend.study import dataset
from backend.study.group import (
    averages_task,
    classify_study,
    cv_task,
    grid_scores,
    grid_scores_task,
    loso_task,
    loso_window_band,
)

AUTO = TaskSpec(("T1", "T2"))


@pytest.fixture(scope="module")
def halves(physionet_recording):
    """The bundled run's two halves (about 15 trials each), as two recordings."""
    raw = physionet_recording.raw.copy().load_data()
    middle = raw.times[-1] / 2
    return [
        physionet_recording.with_raw(raw.copy().crop(0, middle), physionet_recording.history[0]),
        physionet_recording.with_raw(raw.copy().crop(middle, None), physionet_recording.history[0]),
    ]


@pytest.fixture(scope="module")
def folder(halves, tmp_path_factory):
    """A two-subject folder: ``S01R01.edf`` and ``S02R01.edf`` are the run's halves."""
    root = tmp_path_factory.mktemp("halves")
    for subject, recording in zip(("01", "02"), halves):
        export_recording(recording, root / f"S{subject}R01.edf")
    return dataset.find_recordings(root, "S{subject}R{run}.edf")


def test_one_training_subject_gets_its_own_within_subject_choice(halves):
    trials = make_trials([halves[0]], AUTO)
    everything = np.arange(len(trials.y))
    assert loso_window_band({"01": grid_scores(trials)}) == window_band.select(trials, everything).task


def test_the_choice_is_the_best_mean_proxy_score_over_the_training_subjects(halves):
    by_subject = {s: make_trials([r], AUTO) for s, r in zip(("01", "02"), halves)}
    chosen = loso_window_band({s: grid_scores(t) for s, t in by_subject.items()})
    means = {}
    for trials in by_subject.values():
        scores = window_band.scores_of(trials, np.arange(len(trials.y)))
        for candidate, score in zip(trials.candidates, scores):
            means.setdefault(candidate.task, []).append(score)
    assert chosen in means and np.mean(means[chosen]) == max(np.mean(s) for s in means.values())
    assert (
        loso_window_band(
            {s: grid_scores(make_trials([r], TaskSpec(("T1", "T2"), 0.5, 2.5, (8, 30)))) for s, r in zip("ab", halves)}
        )
        is None
    )


def test_leave_one_subject_out_and_averages_with_the_automatic_task(folder):
    units = {e.subject: [e] for e in folder}
    # The window and band are the training subject's own choice; the held-out subject is not read for it.
    chosen = loso_window_band({"01": grid_scores_task(units["01"], AUTO.to_dict())})
    assert chosen == loso_window_band({"01": grid_scores(make_trials([dataset.open_entry(units["01"][0])], AUTO))})
    row = loso_task(units, "02", AUTO.to_dict(), "ts-lr", chosen=chosen.to_dict())
    assert row["status"] == "done", row.get("error")
    held_out = make_trials([dataset.open_entry(units["02"][0])], AUTO)
    assert 0.0 <= row["roc_auc"] <= 1.0 and row["n_test"] == len(held_out.y) >= 6
    assert (row["window_s"], row["band_hz"]) == (list(chosen.window), list(chosen.pass_band))
    with pytest.raises(EEGError, match="choice made on the training subjects"):
        loso_task(units, "02", AUTO.to_dict(), "ts-lr")

    within = cv_task(units["01"], AUTO.to_dict(), "ts-lr", folds=3)
    assert within["status"] == "done", within.get("error")
    assert len(within["window_s"]) == 2 and len(within["band_hz"]) == 2

    averaged = averages_task(units["01"], AUTO.to_dict(), channel="C3")
    assert averaged["status"] == "done", averaged.get("error")
    assert averaged["times"][0] == pytest.approx(-0.5)
    assert averaged["times"][-1] > 3.5  # to the end of the ~4.1-s trials
    assert set(averaged["erp"]) == {"T1", "T2"}


def test_a_study_holds_each_subject_out_with_the_window_the_others_chose(folder):
    """classify_study on Dask: within-subject rows, then one leave-one-subject-out row per
    subject, each cut with the grid point the other subjects' scores chose."""
    task = TaskSpec(("T1", "T2"), band=(8, 30))  # the window automatic: a grid a third the size
    seen = []
    # Workers in this process: what is tested is the order of the stages, not the processes (test_study_run).
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as client:
        result = classify_study(
            folder, task, "ts-lr", client, folds=3, loso=True, progress=lambda i, n, r: seen.append((i, n))
        )
    assert [i for i, _ in seen] == [1, 2, 3, 4] and {n for _, n in seen} == {4}
    assert [r["status"] for r in result["subjects"]] == ["done", "done"]
    held_out = {r["subject"]: r for r in result["loso"]["subjects"]}
    for subject, other in (("01", "02"), ("02", "01")):
        assert held_out[subject]["status"] == "done", held_out[subject].get("error")
        chosen = loso_window_band({other: grid_scores_task([e for e in folder if e.subject == other], task.to_dict())})
        assert (held_out[subject]["window_s"], held_out[subject]["band_hz"]) == (
            list(chosen.window),
            list(chosen.pass_band),
        )
