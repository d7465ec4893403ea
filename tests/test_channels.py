"""Channel-name cleanup, type inference and standard positions."""

import mne
import numpy as np
import pytest

from backend.channels import (
    channel_positions,
    has_positions,
    infer_type,
    is_numbered_cap,
    standard_label,
    standard_montage,
    stored_position,
    template_position,
)
from backend.errors import EEGError


@pytest.mark.parametrize(
    "name, label",
    [
        ("Fc5.", "FC5"),
        ("EEG Fp1-Ref", "Fp1"),
        ("cz", "Cz"),
        ("Cz..", "Cz"),
        ("EEG T3-REF", "T3"),
        ("A2", "A2"),
        ("F4-A1", None),
        ("POL X1", None),
        ("EXG1", None),
        ("Fp1-LE", "Fp1"),
    ],
)
def test_standard_label(name, label):
    assert standard_label(name) == label


@pytest.mark.parametrize(
    "name, ch_type",
    [
        ("EOG1", "eog"),
        ("HEOG", "eog"),
        ("LOC", "eog"),
        ("EMG chin", "emg"),
        ("ECG", "ecg"),
        ("EKG", "ecg"),
        ("Status", "stim"),
        ("STI 014", "stim"),
        ("Fp1", None),
        ("Cz", None),
    ],
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
    assert not is_numbered_cap(
        ["Fp1", "Fp2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2", "F7", "F8", "T7", "T8", "P7", "P8", "Fz", "Cz"]
    )


def test_positions_from_names():
    pos = channel_positions(["Fc5.", "EEG Fp1-Ref", "nonsense"])
    assert np.isfinite(pos[:2]).all() and np.isnan(pos[2]).all()
    np.testing.assert_allclose(pos[0], template_position("FC5"))


def test_stored_or_template_position_wins_as_asked():
    info = mne.create_info(["Cz", "X1", "Fz"], 250.0, "eeg")
    with info._unlock():
        info["chs"][0]["loc"][:3] = [0.0, 0.0, 0.5]  # a digitised Cz far from the template's
        info["chs"][1]["loc"][:3] = [0.01, 0.02, 0.03]
    np.testing.assert_allclose(stored_position(info, "Cz"), [0.0, 0.0, 0.5])
    assert stored_position(info, "Fz") is None  # zeros mean "unknown"
    from_file = channel_positions(info.ch_names, info)
    from_template = channel_positions(info.ch_names, info, prefer="template")
    np.testing.assert_allclose(from_file[0], [0.0, 0.0, 0.5])
    np.testing.assert_allclose(from_template[0], template_position("Cz"))
    np.testing.assert_allclose(from_file[1], from_template[1])  # no template: the file's position either way
    np.testing.assert_allclose(from_file[2], template_position("Fz"))
    assert not has_positions(mne.io.RawArray(np.zeros((3, 10)), info, verbose="error"))
    with pytest.raises(EEGError):
        channel_positions(info.ch_names, info, prefer="mine")
