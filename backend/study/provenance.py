"""Where a derivative comes from: software versions, input files and the content key of a result.

A result is reused when its sidecar holds the same content key: the sha256 of the input
files' bytes, the recipe and the versions of what computes it (:func:`software_versions`):
EEG Explorer's ``backend.__version__`` and the releases of the libraries its steps and
quality figures call. A commit that leaves ``__version__`` as it is (a page, a test, a
refactor) reruns nothing; whoever changes what a step computes bumps ``__version__``.
The key is computed where the study is started, so workers of a remote cluster should run
the same releases (their own versions are written into each sidecar's ``software``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path

from backend.study.dataset import Entry

# Distributions whose release can change a cleaned recording or its quality figures: reading
# (mne, mne-bids, edfio), the steps (scipy, meegkit for ASR, pyprep, python-picard, mne-icalabel
# and onnxruntime for ICLabel, torch for the denoiser) and the figures (numpy, scikit-learn).
LIBRARIES = (
    "mne",
    "mne-bids",
    "edfio",
    "numpy",
    "scipy",
    "scikit-learn",
    "meegkit",
    "pyprep",
    "python-picard",
    "mne-icalabel",
    "onnxruntime",
    "torch",
)


def _release(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "absent"


@functools.cache
def software_versions() -> dict[str, str]:
    """Versions of what computes a result: ``eeg_explorer`` (``backend.__version__``), the libraries
    of :data:`LIBRARIES` (read from their installed metadata, nothing imported) and Python."""
    from backend import __version__

    versions = {"eeg_explorer": __version__}
    versions.update({name.replace("-", "_"): _release(name) for name in LIBRARIES})
    versions["python"] = platform.python_version()
    return versions


def input_files(entry: Entry) -> list[Path]:
    """The files a recording's result depends on: its header, the companions sharing its stem
    and, in BIDS, the sidecars of the same recording (``channels.tsv``, ``events.tsv``, ``eeg.json``)."""
    header = Path(entry.path)
    prefixes = {header.stem}
    if entry.bids_root is not None and header.stem.endswith("_eeg"):
        prefixes.add(header.stem[: -len("eeg")])  # sub-01_task-x_run-1_ : the recording's sidecars
    found = {p for p in header.parent.iterdir() if p.is_file() and any(p.name.startswith(s) for s in prefixes)}
    return sorted(found | {header})


def content_key(entry: Entry, pipeline: list[dict], versions: dict | None = None) -> str:
    """sha256 of the input files' bytes, the pipeline and the software versions."""
    digest = hashlib.sha256()
    for path in input_files(entry):
        digest.update(path.name.encode())
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    digest.update(json.dumps(pipeline, sort_keys=True, default=str).encode())
    digest.update(json.dumps(versions or software_versions(), sort_keys=True).encode())
    return digest.hexdigest()
