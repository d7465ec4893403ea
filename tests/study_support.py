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


def make_cleaned_study(
    root: Path, physionet_file: Path, seconds=(30.0, 31.0, 32.0, 33.0, 12.0), steps="bandpass:1,40;notch:60"
) -> Path:
    """A folder of the cropped run (one subject per length) cleaned into ``root/derivatives`` without a cluster.

    The lengths differ so the cohort has a spread; the last (12 s) is flagged as short. Returns the derivatives folder.
    """
    from backend.clean.pipeline import parse_pipeline
    from backend.io import export_recording, load_recording
    from backend.study.dataset import find_recordings
    from backend.study.provenance import content_key
    from backend.study.run import clean_task, write_description

    recording = load_recording([physionet_file])
    source = root / "source"
    source.mkdir(parents=True, exist_ok=True)
    for n, length in enumerate(seconds, 1):
        short = recording.with_raw(recording.raw.copy().load_data().crop(0, length), recording.history[0])
        export_recording(short, source / f"S{n:02d}R01.edf")
    deriv = root / "derivatives"
    write_description(deriv)
    pipeline = parse_pipeline(steps)
    for entry in find_recordings(source, "S{subject}R{run}.edf"):
        clean_task(entry, pipeline, str(deriv), content_key(entry, pipeline))
    return deriv
