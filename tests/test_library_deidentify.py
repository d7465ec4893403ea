"""De-identification on import: identifying fields are not stored, and the Library says which went."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from backend.library.deidentify import edf_header
from tests.test_library_api import make_fif

# The EDF+ specification's own example fields.
PATIENT = "MCH-0234567 F 02-MAY-1951 Haagse_Harry"
RECORDING = "Startdate 12-AUG-2009 EMG561 BK/JOP Sony."
SECRETS = (b"MCH-0234567", b"1951", b"Haagse_Harry", b"EMG561", b"BK/JOP", b"Sony")


@pytest.fixture
def identified_edf(physionet_file, tmp_path):
    """The bundled EDF+ with a patient and a recording named in its header."""
    data = bytearray(physionet_file.read_bytes())
    data[8:88] = PATIENT.encode().ljust(80)
    data[88:168] = RECORDING.encode().ljust(80)
    path = tmp_path / "patient.edf"
    path.write_bytes(bytes(data))
    return path


def _stored_bytes(library, entry) -> bytes:
    [stored] = library.files("local", entry.id)
    return library.store.path(stored["sha256"]).read_bytes()


def test_edf_identifiers_are_removed_and_named(library, identified_edf):
    entry = library.add("local", [identified_edf])
    assert entry.removed_fields == (
        "patient code",
        "patient sex",
        "patient birth date",
        "patient name",
        "hospital administration code",
        "technician",
        "equipment",
    )
    stored = _stored_bytes(library, entry)
    assert not any(secret in stored for secret in SECRETS)
    assert stored[8:168].split() == [b"X", b"X", b"X", b"X", b"Startdate", b"12-AUG-2009", b"X", b"X", b"X"]
    original = identified_edf.read_bytes()
    assert stored[168:] == original[168:]  # the signals, and the date the Library shows, unchanged
    recording = library.open("local", entry.id)
    subject = recording.raw.info["subject_info"] or {}
    assert "Haagse" not in str(subject) and subject.get("birthday") is None
    assert entry.recorded_at == datetime(2009, 8, 12, 16, 15, tzinfo=UTC)


def test_keep_identity_stores_the_original_bytes(library, identified_edf):
    entry = library.add("local", [identified_edf], keep_identity=True)
    assert entry.identity_kept and entry.removed_fields == ()
    assert _stored_bytes(library, entry) == identified_edf.read_bytes()
    # The same upload de-identified is another entry with other bytes.
    plain = library.add("local", [identified_edf])
    assert _stored_bytes(library, plain) != identified_edf.read_bytes()


def test_a_fif_subject_is_cleared_and_its_date_kept(library, tmp_path):
    subject = {"his_id": "P-77", "first_name": "Ada", "last_name": "Lovelace", "birthday": date(1815, 12, 10), "sex": 2}
    when = datetime(2021, 5, 4, 9, 30, tzinfo=UTC)
    entry = library.add("local", [make_fif(tmp_path / "ada_raw.fif", date=when, subject=subject)])
    assert entry.removed_fields == (
        "patient id",
        "patient name",
        "patient first name",
        "patient birth date",
        "patient sex",
    )
    stored = _stored_bytes(library, entry)
    assert b"Lovelace" not in stored and b"P-77" not in stored and b"Ada" not in stored
    recording = library.open("local", entry.id)
    assert recording.raw.info["subject_info"] is None and recording.raw.info["meas_date"] == when


def test_brainvision_is_stored_as_fif_and_says_so(library, shared_data):
    folder = shared_data / "brainvision"
    entry = library.add("local", [folder / f"test_CA_208.{ext}" for ext in ("vhdr", "vmrk", "eeg")])
    assert entry.format == "BrainVision" and [f["name"] for f in library.files("local", entry.id)] == [
        "test_CA_208_raw.fif"
    ]
    assert any("BrainVision header" in field for field in entry.removed_fields)
    kept = library.add("local", [folder / f"test_CA_208.{ext}" for ext in ("vhdr", "vmrk", "eeg")], keep_identity=True)
    assert sorted(f["name"] for f in library.files("local", kept.id)) == [
        "test_CA_208.eeg",
        "test_CA_208.vhdr",
        "test_CA_208.vmrk",
    ]
    assert library.open("local", kept.id).format == "BrainVision"


def test_plain_edf_fields_are_blanked():
    head = bytearray(b"0       " + b"Jane Doe 1960".ljust(80) + b"Ward 3 bed 12".ljust(80) + b" " * 88)
    new, removed = edf_header(bytes(head))
    assert removed == ["patient identification", "recording identification"]
    assert new[8:168].split() == [b"X", b"X"] and len(new) == 256
