"""Group analyses with the automatic window and band (the default): leave-one-subject-out chooses them
on the training subjects only, the event averages span the trials, each subject's row says what was used."""

from __future__ import annotations

import numpy as np
import pytest

from backend.classify import window_band
from backend.classify.epochs import TaskSpec, make_trials
from backend.io import export_recording
from backend.study import dataset
from backend.study.group import averages_task, cv_task, loso_task, loso_window_band

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
    assert loso_window_band({"01": trials}) == window_band.select(trials, everything).task


def test_the_choice_is_the_best_mean_proxy_score_over_the_training_subjects(halves):
    by_subject = {s: make_trials([r], AUTO) for s, r in zip(("01", "02"), halves)}
    chosen = loso_window_band(by_subject)
    means = {}
    for trials in by_subject.values():
        scores = window_band.scores_of(trials, np.arange(len(trials.y)))
        for candidate, score in zip(trials.candidates, scores):
            means.setdefault(candidate.task, []).append(score)
    assert chosen in means and np.mean(means[chosen]) == max(np.mean(s) for s in means.values())
    assert (
        loso_window_band({s: make_trials([r], TaskSpec(("T1", "T2"), 0.5, 2.5, (8, 30))) for s, r in zip("ab", halves)})
        is None
    )


def test_leave_one_subject_out_and_averages_with_the_automatic_task(folder):
    units = {e.subject: [e] for e in folder}
    row = loso_task(units, "02", AUTO.to_dict(), "ts-lr")
    assert row["status"] == "done", row.get("error")
    held_out = make_trials([dataset.open_entry(units["02"][0])], AUTO)
    assert 0.0 <= row["roc_auc"] <= 1.0 and row["n_test"] == len(held_out.y) >= 6
    # The window and band are the training subject's own choice; the held-out subject is not read for it.
    chosen = loso_window_band({"01": make_trials([dataset.open_entry(units["01"][0])], AUTO)})
    assert (row["window_s"], row["band_hz"]) == (list(chosen.window), list(chosen.pass_band))

    within = cv_task(units["01"], AUTO.to_dict(), "ts-lr", folds=3)
    assert within["status"] == "done", within.get("error")
    assert len(within["window_s"]) == 2 and len(within["band_hz"]) == 2

    averaged = averages_task(units["01"], AUTO.to_dict(), channel="C3")
    assert averaged["status"] == "done", averaged.get("error")
    assert averaged["times"][0] == pytest.approx(-0.5)
    assert averaged["times"][-1] > 3.5  # to the end of the ~4.1-s trials
    assert set(averaged["erp"]) == {"T1", "T2"}
