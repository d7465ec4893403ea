"""Display montages resolved against real recordings."""

import numpy as np
import pytest

from backend.browse.montages import DOUBLE_BANANA, MONTAGES, build_montage, parse_pairs, region, side
from backend.errors import EEGError
from backend.io import load_recording


def _rows(raw, montage, start=0, stop=800):
    return montage.apply(raw.get_data(picks=montage.picks, start=start, stop=stop))


def test_double_banana_on_physionet_is_the_18_acns_derivations(physionet_recording):
    raw = physionet_recording.raw
    montage = build_montage(raw.info, "double_banana")
    assert montage.labels == [f"{a}-{b}" for a, b in DOUBLE_BANANA]
    assert montage.missing == [] and montage.dropped == []
    rows = _rows(raw, montage)
    for label, row in zip(montage.labels, rows):
        a, b = label.split("-")
        expected = raw.get_data(picks=[a], stop=800)[0] - raw.get_data(picks=[b], stop=800)[0]
        np.testing.assert_allclose(row, expected, atol=1e-12)


def test_montage_with_missing_electrodes_names_them_and_drops_only_their_rows(physionet_recording, shared_data):
    # PhysioNet has no ear electrodes: the transverse chain loses exactly A1-T7 and T8-A2.
    transverse = build_montage(physionet_recording.raw.info, "transverse")
    assert transverse.missing == ["A1", "A2"]
    assert transverse.dropped == ["A1-T7", "T8-A2"]
    assert len(transverse.labels) == 18
    # An 18-channel OpenBCI cap has the parasagittal chains but no temporal ones.
    raw = load_recording([shared_data / "bdf" / "multiple_annotation_chans.bdf"]).raw
    banana = build_montage(raw.info, "double_banana")
    eeg_rows = [label for label, k in zip(banana.labels, banana.kinds) if k == "eeg"]
    assert eeg_rows == ["F3-C3", "C3-P3", "P3-O1", "F4-C4", "C4-P4", "P4-O2"]
    assert set(banana.missing) == {"Fp1", "F7", "T7", "P7", "Fp2", "F8", "T8", "P8", "Cz"}
    assert "Fz-Cz" in banana.dropped and "F3-C3" not in banana.dropped
    # Its EOG, EMG and ECG channels follow as recorded.
    assert {"EOG", "EMG", "ECG"} <= set(banana.labels)


def test_old_1020_names_serve_the_modern_chains(shared_data):
    # The Nihon Kohden export names T3/T4/T5/T6; the double banana asks for T7/T8/P7/P8.
    raw = load_recording([shared_data / "clinical_nihonkohden" / "MB0400FU.EDF"]).raw
    montage = build_montage(raw.info, "double_banana")
    assert montage.missing == []
    assert "F7-T3" in montage.labels and "T5-O1" in montage.labels


def test_common_average_rows_sum_to_zero_and_leave_bads_out(physionet_recording):
    raw = physionet_recording.raw.copy()
    raw.info["bads"] = ["Fp1"]
    montage = build_montage(raw.info, "average")
    rows = _rows(raw, montage)
    good = [i for i, bad in enumerate(montage.bad_rows) if not bad]
    np.testing.assert_allclose(rows[good].sum(axis=0), 0, atol=1e-12)
    assert montage.bad_rows[montage.labels.index("Fp1-avg")]
    # The bad channel is not in the average: adding to it changes only its own row.
    data = raw.get_data(picks=montage.picks, stop=100)
    bumped = data.copy()
    bumped[montage.labels.index("Fp1-avg")] += 1e-3
    diff = montage.apply(bumped) - montage.apply(data)
    assert np.count_nonzero(np.abs(diff).max(axis=1) > 1e-9) == 1


def test_linked_ears_uses_a1_a2_when_present_and_refuses_otherwise(shared_data, physionet_recording):
    raw = load_recording([shared_data / "clinical_nihonkohden" / "MB0400FU.EDF"]).raw
    montage = build_montage(raw.info, "linked_ears")
    assert "Cz-A1+A2" in montage.labels and not any(label.startswith(("A1-", "A2-")) for label in montage.labels)
    row = _rows(raw, montage)[montage.labels.index("Cz-A1+A2")]
    cz, a1, a2 = raw.get_data(picks=["Cz", "A1", "A2"], stop=800)
    np.testing.assert_allclose(row, cz - (a1 + a2) / 2, atol=1e-12)
    with pytest.raises(EEGError, match="ear or mastoid"):
        build_montage(physionet_recording.raw.info, "linked_ears")


def test_laplacian_subtracts_the_mean_of_four_neighbours(physionet_recording):
    raw = physionet_recording.raw
    montage = build_montage(raw.info, "laplacian")
    assert len(montage.labels) == 64
    np.testing.assert_allclose(montage.weights.sum(axis=1), 0, atol=1e-12)
    cz = montage.weights[montage.labels.index("Cz-lap")]
    neighbours = [raw.ch_names[montage.picks[j]] for j in np.flatnonzero(cz < 0)]
    assert set(neighbours) == {"C1", "C2", "FCz", "CPz"}


def test_custom_pairs_from_text_and_csv(physionet_recording):
    info = physionet_recording.raw.info
    assert parse_pairs("Fp1-F7, F7-T7\nCz") == (("Fp1", "F7"), ("F7", "T7"), ("Cz", ""))
    assert parse_pairs("channel,reference\nFp1,F7\nO1,O2\n") == (("Fp1", "F7"), ("O1", "O2"))
    montage = build_montage(info, "custom", parse_pairs("Fp1-F7, Cz, Fp1-X9"))
    assert montage.labels == ["Fp1-F7", "Cz"]
    assert montage.missing == ["X9"] and montage.dropped == ["Fp1-X9"]
    with pytest.raises(EEGError):
        parse_pairs("Fp1-F7-T7")
    # Channel names holding a hyphen are split where both sides are channels.
    assert parse_pairs("F4-A1-CZ-A2, CZ-A2", ["F4-A1", "CZ-A2"]) == (("F4-A1", "CZ-A2"), ("CZ-A2", ""))
    with pytest.raises(EEGError, match="absent"):
        build_montage(info, "custom", (("Q1", "Q2"),))


def test_every_montage_is_cached_and_named(physionet_recording):
    info = physionet_recording.raw.info
    assert build_montage(info, "double_banana") is build_montage(info, "double_banana")
    with pytest.raises(EEGError, match="unknown montage"):
        build_montage(info, "banana")
    assert set(MONTAGES) >= {
        "referential",
        "average",
        "linked_ears",
        "double_banana",
        "transverse",
        "laplacian",
        "custom",
    }


def test_regions_and_sides():
    assert region("Fp1-F7") == "frontal" and region("T7") == "temporal" and region("FT7") == "temporal"
    assert region("CP3") == "parietal" and region("PO7") == "occipital" and region("xyz") == "other"
    assert side("Fp1-F7") == "left" and side("C4") == "right" and side("Cz") == "mid"


def test_a_montage_names_the_recorded_channels_it_does_not_show(shared_data):
    """Double banana leaves E, A1, A2 (and the EDF export's X1, $A1, $A2) of the Nihon Kohden file out: the page must be able to say so."""
    raw = load_recording([shared_data / "clinical_nihonkohden" / "MB0400FU.EDF"]).raw
    types = raw.get_channel_types()
    assert build_montage(raw.info, "double_banana").unused(raw.ch_names, types) == [
        "POL E",
        "A2",
        "A1",
        "POL X1",
        "POL $A2",
        "POL $A1",
    ]
    assert build_montage(raw.info, "referential").unused(raw.ch_names, types) == []
    assert build_montage(raw.info, "linked_ears").unused(raw.ch_names, types) == []  # A1, A2 are the reference
