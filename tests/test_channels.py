"""Channel-name cleanup, type inference and standard positions."""

import numpy as np
import pytest

from backend.channels import infer_type, is_numbered_cap, standard_label, standard_montage


@pytest.mark.parametrize(
    "name, label",
    [("Fc5.", "FC5"), ("EEG Fp1-Ref", "Fp1"), ("cz", "Cz"), ("Cz..", "Cz"), ("EEG T3-REF", "T3"),
     ("A2", "A2"), ("F4-A1", None), ("POL X1", None), ("EXG1", None), ("Fp1-LE", "Fp1")],
)
def test_standard_label(name, label):
    assert standard_label(name) == label


@pytest.mark.parametrize(
    "name, ch_type",
    [("EOG1", "eog"), ("HEOG", "eog"), ("LOC", "eog"), ("EMG chin", "emg"), ("ECG", "ecg"), ("EKG", "ecg"),
     ("Status", "stim"), ("STI 014", "stim"), ("Fp1", None), ("Cz", None)],
)
def test_infer_type(name, ch_type):
    assert infer_type(name) == ch_type


def test_old_names_sit_where_their_modern_names_do():
    pos = standard_montage().get_positions()["ch_pos"]
    np.testing.assert_allclose(pos["T3"], pos["T7"])
    # ear electrodes carried over lie below and outside the temporal row
    assert pos["A1"][0] < pos["T7"][0] and pos["A1"][2] < pos["T7"][2]


def test_numbered_caps_are_recognised():
    assert is_numbered_cap([f"{c}{i}" for c in "ABCD" for i in range(1, 33)])
    assert not is_numbered_cap(["Fp1", "Fp2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2", "F7", "F8", "T7", "T8", "P7", "P8", "Fz", "Cz"])
