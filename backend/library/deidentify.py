"""De-identification on import: what identifies a patient is not stored, and we say what went.

EDF/BDF are stored as the same file with the patient and recording identification
fields of the header rewritten (EDF+ keeps its start date, the recording date the
Library shows). Every other format is stored as FIF written from what MNE read,
with the measurement info's identity fields cleared; the header files themselves
(and their free-text fields) are not kept.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import mne

from backend.recording import Recording

# EDF+ subfields (EDF+ specification, section 2.1.3), in order, by header field.
_EDF_PLUS_PATIENT = ("patient code", "patient sex", "patient birth date", "patient name")
_EDF_PLUS_RECORDING = ("hospital administration code", "technician", "equipment")
_INFO_FIELDS = {
    "experimenter": "experimenter",
    "proj_name": "project name",
    "proj_id": "project id",
    "description": "description",
    "device_info": "device information",
    "helium_info": "helium information",
}
_SUBJECT_FIELDS = {
    "his_id": "patient id",
    "last_name": "patient name",
    "first_name": "patient first name",
    "middle_name": "patient middle name",
    "birthday": "patient birth date",
    "sex": "patient sex",
    "hand": "patient handedness",
    "weight": "patient weight",
    "height": "patient height",
}
# Header fields of formats stored as FIF, which are not kept because their files are not.
_NOT_KEPT = {
    "EEGLAB": ["EEGLAB subject, group, session, condition and comments fields (the .set is not stored)"],
    "BrainVision": ["BrainVision header and marker comments (the .vhdr and .vmrk are not stored)"],
    "GDF": ["GDF patient and recording identification (the .gdf is not stored)"],
    "Nihon Kohden": ["Nihon Kohden patient fields (the .EEG, .PNT and .LOG are not stored)"],
    "Neuroscan CNT": ["Neuroscan patient fields (the .cnt is not stored)"],
}


def _pad(text: str) -> bytes:
    return text.encode("ascii")[:80].ljust(80, b" ")


def _known(value: str) -> bool:
    """An EDF+ subfield holds something ("X" is the specification's "unknown")."""
    return value not in ("", "X", "x")


def edf_header(data: bytes) -> tuple[bytes, list[str]]:
    """An EDF/BDF file's bytes with the identification fields replaced, and the names of those that held something.

    Parameters
    ----------
    data : bytes
        The first 256 bytes of the file at least (the fixed header).

    Returns
    -------
    new_head : bytes
        The same length as ``data[:256]``: patient field ``X X X X``; recording field
        ``Startdate <date> X X X`` (EDF+/BDF+) or ``X`` (plain EDF/BDF).
    removed : list of str
        The fields that held something, in words.
    """
    head = bytearray(data[:256])
    patient = head[8:88].decode("latin-1").strip()
    recording = head[88:168].decode("latin-1").strip()
    plus = head[192:197] in (b"EDF+C", b"EDF+D", b"BDF+C", b"BDF+D")
    removed: list[str] = []
    if plus:
        subfields = patient.split()
        removed += [name for name, value in zip(_EDF_PLUS_PATIENT, subfields) if _known(value)]
        if len(subfields) > 4:
            removed.append("patient additional information")
        parts = recording.split()
        date = parts[1] if len(parts) > 1 and parts[0] == "Startdate" else "X"
        rest = parts[2:] if parts[:1] == ["Startdate"] else parts
        removed += [name for name, value in zip(_EDF_PLUS_RECORDING, rest) if _known(value)]
        if len(rest) > 3:
            removed.append("recording additional information")
        head[8:88], head[88:168] = _pad("X X X X"), _pad(f"Startdate {date} X X X")
    else:
        removed += ["patient identification"] if _known(patient) else []
        removed += ["recording identification"] if _known(recording) else []
        head[8:88], head[88:168] = _pad("X"), _pad("X")
    return bytes(head), removed


def _edf_copy(source: Path, out: Path) -> list[str]:
    """Copy an EDF/BDF to ``out`` with its identification fields replaced."""
    with open(source, "rb") as f:
        new_head, removed = edf_header(f.read(256))
    shutil.copyfile(source, out)
    with open(out, "r+b") as f:
        f.write(new_head)
    return removed


def clear_identity(info: mne.Info) -> list[str]:
    """Clear the measurement info's identity fields in place; return those that held something.

    The measurement date stays (the Library shows it as the recording date); the
    machine ids of ``file_id``/``meas_id`` and every other field MNE's own
    :func:`mne.io.anonymize_info` treats are anonymised too.
    """
    removed = []
    subject = info.get("subject_info") or {}
    removed += [words for key, words in _SUBJECT_FIELDS.items() if subject.get(key) not in (None, "", "X", 0)]
    removed += [words for key, words in _INFO_FIELDS.items() if info.get(key)]
    mne.io.anonymize_info(info, daysback=0, verbose="error")  # keeps the date, clears the rest
    with info._unlock():
        for key in ("subject_info", *_INFO_FIELDS):
            info[key] = None
    return removed


def deidentified_files(recording: Recording, primary: Path, folder: Path) -> tuple[list[Path], list[str]]:
    """Write the files to store for ``recording`` into ``folder``, and the fields removed.

    Parameters
    ----------
    recording : Recording
        As :func:`backend.io.load_recording` read it from ``primary``.
    primary : Path
        The file naming the recording (its header).
    folder : Path
        An empty folder for the de-identified copies.

    Returns
    -------
    files : list of Path
        One file: the rewritten EDF/BDF, or a FIF of the recording.
    removed : list of str
        The identifying fields that held something and are not stored, in words.
    """
    if recording.format in ("EDF", "BDF"):
        out = folder / primary.name
        return [out], _edf_copy(primary, out)
    raw = recording.raw.copy().load_data()
    removed = clear_identity(raw.info) + _NOT_KEPT.get(recording.format, [])
    out = folder / (Path(recording.name).stem + "_raw.fif")
    raw.save(out, fmt="double", overwrite=True, verbose="error")
    return [out], removed
