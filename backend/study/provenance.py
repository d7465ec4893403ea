"""Where a derivative comes from: software versions, input files and the content key of a result.

A result is reused when its sidecar holds the same content key: the sha256 of the input
files' bytes, the recipe and the software versions. Changing any of them reruns it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
from pathlib import Path

from backend.study.dataset import Entry

_BACKEND = Path(__file__).resolve().parent.parent


@functools.cache
def software_versions() -> dict[str, str]:
    """Versions of what computes a result; ``eeg_explorer`` is a hash of the ``backend`` package's code."""
    import mne
    import mne_bids
    import numpy
    import scipy
    import sklearn

    code = hashlib.sha256()
    for path in sorted(_BACKEND.rglob("*.py")):
        code.update(path.relative_to(_BACKEND).as_posix().encode())
        code.update(path.read_bytes())
    return {
        "eeg_explorer": code.hexdigest()[:16],
        "mne": mne.__version__,
        "mne_bids": mne_bids.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "scikit_learn": sklearn.__version__,
        "python": platform.python_version(),
    }


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
