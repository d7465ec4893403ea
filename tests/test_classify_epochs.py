"""Trials cut from annotations, on the bundled PhysioNet run and on several shared runs."""

import numpy as np
import pytest

from backend.classify.epochs import TaskSpec, load_runs, make_trials
from backend.errors import EEGError


def test_trials_from_bundled_run(physionet_recording):
    task = TaskSpec(("T1", "T2"), 0.5, 2.5, (8.0, 30.0))
    trials = make_trials([physionet_recording], task)
    ann = physionet_recording.raw.annotations
    expected = sum(str(d) in ("T1", "T2") for d in ann.description)
    assert trials.X.shape == (expected, 64, 320)
    assert trials.counts() == {e: int(sum(str(d) == e for d in ann.description)) for e in ("T1", "T2")}
    assert np.all(trials.runs == 0)
    assert np.all(np.diff(trials.onsets) > 0)  # time order
    # Band-passed: no DC left, amplitudes of EEG in volts (tens of µV).
    assert np.abs(trials.X.mean(axis=2)).max() < 5e-6
    assert 1e-7 < trials.X.std() < 1e-4


def test_several_runs_of_one_subject(shared_data):
    files = sorted((shared_data / "eegbci_physionet" / "S002").glob("*.edf"))
    runs = load_runs(files)
    trials = make_trials(runs, TaskSpec(("T1", "T2"), 0.0, 3.0, (8.0, 32.0)))
    assert len(runs) == 3
    assert set(trials.runs) == {0, 1, 2}
    assert trials.run_names == tuple(f.name for f in files)
    assert min(trials.counts().values()) >= 15


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(events=("T1",)), "two distinct"),
        (dict(events=("T1", "T2"), tmin=2.0, tmax=1.0), "must end after"),
        (dict(events=("T1", "T2"), band=(30.0, 8.0)), "increasing"),
    ],
)
def test_bad_task_is_refused(kwargs, message):
    with pytest.raises(EEGError, match=message):
        TaskSpec(**kwargs)


def test_missing_label_and_high_band_are_refused(physionet_recording):
    with pytest.raises(EEGError, match="too few trials"):
        make_trials([physionet_recording], TaskSpec(("T1", "nope"), 0.5, 2.5, (8.0, 30.0)))
    with pytest.raises(EEGError, match="Nyquist"):
        make_trials([physionet_recording], TaskSpec(("T1", "T2"), 0.5, 2.5, (8.0, 90.0)))


def test_runs_with_other_channels_are_refused(physionet_recording, eeglab_recording):
    with pytest.raises(EEGError, match="sampling rate|share channels"):
        make_trials([physionet_recording, eeglab_recording], TaskSpec(("T1", "T2"), 0.5, 2.5, (8.0, 30.0)))


def test_a_cropped_recording_cuts_the_same_trials(physionet_recording):
    """MNE counts annotation onsets from the measurement start; a recording cropped (or saved after
    cropping) starts later, and its trials must still be cut where their annotations are."""
    task = TaskSpec(("T1", "T2"), 0.5, 2.5, (8.0, 30.0))
    full = make_trials([physionet_recording], task)
    raw = physionet_recording.raw.copy().load_data()
    start = 60.0
    cropped = physionet_recording.with_raw(raw.crop(start, None), physionet_recording.history[0])
    late = make_trials([cropped], task)
    # Onsets count from the first sample of what was loaded.
    inside = full.onsets >= start + 3.0  # away from the crop's filter edge
    assert np.allclose(late.onsets + start, full.onsets[full.onsets >= start])
    assert list(late.y) == list(full.y[full.onsets >= start])
    same = np.isin(np.round(late.onsets + start, 3), np.round(full.onsets[inside], 3))
    for a, b in zip(late.X[same], full.X[inside]):
        assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.99
