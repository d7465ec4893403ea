"""What leaves the Sources stage: the source estimate in MNE's own formats and a table of peaks.

A surface estimate in MNE's ``.stc`` format is two files, ``<stem>-lh.stc`` and ``<stem>-rh.stc``
(read back with ``mne.read_source_estimate(stem)``); the page hands them over as one zip. MNE's
single-file ``.h5`` needs the optional ``h5io`` package and is offered only where it is installed.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from backend.errors import EEGError

PEAK_COLUMNS = ("rank", "hemi", "vertex", "x_mm", "y_mm", "z_mm", "time_s", "value", "unit", "region")


def formats() -> tuple[str, ...]:
    """The source-estimate formats this installation can write: ``"stc"``, and ``"h5"`` with h5io."""
    return ("stc", "h5") if importlib.util.find_spec("h5io") is not None else ("stc",)


def write_stc(result, path: str | Path) -> list[Path]:
    """Write ``result.stc`` to ``path`` (a stem, or a name ending in ``.stc`` or ``.h5``).

    Returns
    -------
    list of Path
        The files written: ``<stem>-lh.stc`` and ``<stem>-rh.stc``, or ``<stem>-stc.h5``.
    """
    path = Path(path)
    ftype = "h5" if path.suffix == ".h5" else "stc"
    if ftype not in formats():
        raise EEGError("writing .h5 needs the h5io package; write .stc instead")
    stem = path.with_suffix("") if path.suffix in (".stc", ".h5") else path
    for tail in ("-lh", "-rh", "-stc"):
        if stem.name.endswith(tail):
            stem = stem.with_name(stem.name[: -len(tail)])
    if not stem.parent.is_dir():
        raise EEGError(f"folder {stem.parent} does not exist")
    result.stc.save(stem, ftype=ftype, overwrite=True, verbose="error")
    names = [f"{stem.name}-stc.h5"] if ftype == "h5" else [f"{stem.name}-lh.stc", f"{stem.name}-rh.stc"]
    return [stem.parent / n for n in names]


def stc_bytes(result, stem: str, ftype: str = "stc") -> tuple[str, bytes]:
    """The source estimate as one download: ``(file name, bytes)``; a zip of both hemispheres' ``.stc``."""
    with tempfile.TemporaryDirectory() as tmp:
        files = write_stc(result, Path(tmp) / f"{stem}.{ftype}")
        if ftype == "h5":
            return files[0].name, files[0].read_bytes()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in files:
                zf.write(f, f.name)
        return f"{stem}-stc.zip", buffer.getvalue()


def peak_table(result, n: int = 5, min_distance_mm: float = 20.0) -> list[dict]:
    """The strongest sources, each at least ``min_distance_mm`` from a stronger one.

    A source's strength is its largest absolute value over the times the peak was searched in
    (from the event on for an event average, the whole window otherwise); the first row is
    ``result.peak``.

    Parameters
    ----------
    result : SourceResult
    n : int
        Rows at most.
    min_distance_mm : float
        Smallest distance between two rows' sources (template mm).

    Returns
    -------
    list of dict
        Keys :data:`PEAK_COLUMNS`; positions in template (fsaverage ≈ MNI) mm, time in s.
    """
    from backend.sources.atlas import region_name

    stc = result.stc
    data = np.abs(stc.data)
    # As find_peak searched: from the event on for an event average (its times start before 0).
    cols = np.flatnonzero(stc.times >= 0) if stc.times[0] < 0 else np.arange(len(stc.times))
    best_col = cols[np.argmax(data[:, cols], axis=1)]
    strength = data[np.arange(len(data)), best_col]
    pos_mm = result.positions * 1000
    n_lh = len(stc.vertices[0])
    rows: list[dict] = []
    chosen: list[int] = []
    for row in np.argsort(-strength, kind="stable"):
        if len(rows) == n:
            break
        if chosen and np.min(np.linalg.norm(pos_mm[chosen] - pos_mm[row], axis=1)) < min_distance_mm:
            continue
        chosen.append(int(row))
        x, y, z = (round(float(v), 1) for v in pos_mm[row])
        rows.append(
            {
                "rank": len(rows) + 1,
                "hemi": "lh" if row < n_lh else "rh",
                "vertex": int(stc.vertices[0][row] if row < n_lh else stc.vertices[1][row - n_lh]),
                "x_mm": x,
                "y_mm": y,
                "z_mm": z,
                "time_s": round(float(stc.times[best_col[row]]), 4),
                "value": float(stc.data[row, best_col[row]]),
                "unit": result.unit(),
                "region": region_name(np.array([x, y, z])),
            }
        )
    return rows


def peaks_csv(rows: list[dict]) -> str:
    """``rows`` of :func:`peak_table` as CSV text (a header line, then one line a peak)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=PEAK_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
