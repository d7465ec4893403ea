"""Feature transformers: the sensorimotor channel choice of the augmented-covariance view."""

import numpy as np
import pytest

from backend.classify.epochs import TaskSpec, make_trials
from backend.classify.features import SENSORIMOTOR, SensorimotorChannels, sensorimotor_picks


@pytest.fixture(scope="module")
def trials(physionet_recording):
    return make_trials([physionet_recording], TaskSpec(("T1", "T2"), 0.0, 3.0, (8.0, 32.0)))


def test_sensorimotor_channels_are_found_by_name(trials):
    picks = sensorimotor_picks(trials.ch_names)
    assert len(picks) == len(SENSORIMOTOR)
    assert sorted(trials.ch_names[i].upper() for i in picks) == sorted(n.upper() for n in SENSORIMOTOR)
    # Old spellings and suffixes still match; a numbered cap never does.
    assert sensorimotor_picks(["Fc5.", "c3..", "EEG Cz-Ref", "O1"]) == [0, 1, 2]
    assert sensorimotor_picks([f"{r}{i}" for r in "AB" for i in range(1, 33)]) == []


def test_named_channels_are_kept_in_order(trials):
    X, y = trials.X, trials.y
    picker = SensorimotorChannels(trials.ch_names).fit(X, y)
    np.testing.assert_array_equal(picker.picks_, sensorimotor_picks(trials.ch_names))
    np.testing.assert_array_equal(picker.transform(X), X[:, picker.picks_])


def test_unnamed_channels_are_chosen_from_the_training_trials(trials):
    X, y = trials.X, trials.y
    picker = SensorimotorChannels(None, n_channels=12).fit(X, y)
    assert len(picker.picks_) == 12 and len(set(picker.picks_)) == 12
    assert np.all(np.diff(picker.picks_) > 0) and picker.picks_.max() < X.shape[1]
    assert picker.transform(X).shape == (len(y), 12, X.shape[2])
    # Few channels: all of them are kept.
    few = SensorimotorChannels(None, n_channels=21).fit(X[:, :16], y)
    np.testing.assert_array_equal(few.picks_, np.arange(16))
