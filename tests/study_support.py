"""Small studies for the tests: folders and a BIDS dataset built from the bundled PhysioNet run."""

from __future__ import annotations

import warnings
from pathlib import Path

import mne

SECONDS = 30.0


def short_raw(physionet_file: Path, seconds: float = SECONDS) -> mne.io.BaseRaw:
    """The bundled run, cropped (its T1/T2 annotations kept)."""
    return mne.io.read_raw_edf(physionet_file, preload=True, verbose="error").crop(0, seconds)


def make_folder(root: Path, physionet_file: Path, subjects=("01", "02"), corrupt: str | None = None) -> Path:
    """``root/SxxRyy.edf`` for each subject (runs 01), and a damaged ``S{corrupt}R01.edf`` when asked."""
    from backend.io import export_recording, load_recording

    root.mkdir(parents=True, exist_ok=True)
    recording = load_recording([physionet_file])
    short = recording.with_raw(recording.raw.copy().load_data().crop(0, SECONDS), recording.history[0])
    for s in subjects:
        export_recording(short, root / f"S{s}R01.edf")
    if corrupt:
        (root / f"S{corrupt}R01.edf").write_bytes(b"0       " + b"not an EDF header at all" * 20)
    return root


def make_bids(root: Path, physionet_file: Path, subjects=("01", "02"), bads=("Fc5.",)) -> Path:
    """A BIDS dataset of the cropped run, one per subject (task mi, run 1), with bads in channels.tsv."""
    import mne_bids

    raw = short_raw(physionet_file)
    raw.info["bads"] = list(bads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in subjects:
            path = mne_bids.BIDSPath(subject=s, task="mi", run="1", datatype="eeg", root=root)
            mne_bids.write_raw_bids(raw, path, format="EDF", allow_preload=True, overwrite=True, verbose=False)
    return root
