"""Run a cleaning recipe on every recording of a study, one Dask task per recording.

Each task reads its recording, applies the recipe through :meth:`Recording.apply`, measures
the quality figures and writes, atomically, a BIDS derivative::

    DERIV/dataset_description.json
    DERIV/sub-XX/[ses-YY/]eeg/sub-XX[_ses-YY][_task-T][_run-R]_desc-clean_eeg.fif
    DERIV/sub-XX/[ses-YY/]eeg/sub-XX[_ses-YY][_task-T][_run-R]_desc-clean_eeg.json

The JSON sidecar holds the recipe, the software versions, each step's report, the quality
figures, the status (``done`` or ``failed`` with its one-line ``error``) and the content key.
Only that row comes back through the scheduler. A rerun skips the recordings whose sidecar
holds the same content key (:mod:`backend.study.provenance`); a recording that fails does
so alone, in its row.
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from backend import engine
from backend.errors import EEGError, first_line
from backend.study import quality
from backend.study.dataset import Entry, open_entry
from backend.study.provenance import content_key, software_versions

PIPELINE_NAME = "eeg-explorer"
STATUSES = ("done", "skipped", "failed", "cancelled")
GROUP_RESULTS = ("classification", "averages")  # stored as DERIV/group/NAME.json


def output_paths(entry: Entry, deriv: str | Path) -> tuple[Path, Path]:
    """The cleaned recording and its JSON sidecar for ``entry`` under the derivatives folder ``deriv``."""
    folder = Path(deriv) / f"sub-{entry.subject}"
    if entry.session:
        folder = folder / f"ses-{entry.session}"
    stem = folder / "eeg" / f"{entry.label}_desc-clean_eeg"
    return stem.with_suffix(".fif"), stem.with_suffix(".json")


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_description(deriv: str | Path) -> None:
    """``dataset_description.json`` of the derivatives folder (BIDS derivatives require one)."""
    deriv = Path(deriv)
    deriv.mkdir(parents=True, exist_ok=True)
    path = deriv / "dataset_description.json"
    if not path.exists():
        description = {
            "Name": "EEG Explorer cleaned recordings",
            "BIDSVersion": "1.9.0",
            "DatasetType": "derivative",
            "GeneratedBy": [{"Name": PIPELINE_NAME, "Description": "EEG Explorer study run"}],
        }
        _atomic_write_text(path, json.dumps(description, indent=2))


def _base_row(entry: Entry) -> dict:
    return {
        "subject": entry.subject,
        "session": entry.session,
        "task": entry.task,
        "run": entry.run,
        "file": Path(entry.path).name,
        "path": entry.path,
    }


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # kB on Linux


def clean_task(entry: Entry, pipeline: list[dict], deriv: str, key: str) -> dict:
    """Clean one recording and write its derivative; the Dask task of a study run.

    Returns
    -------
    dict
        The recording's row: labels, ``status`` (``done`` or ``failed``), ``error``, the quality
        figures, ``task_s`` (seconds in the task) and ``peak_mb`` (the worker's peak memory).
    """
    import mne

    t0 = time.perf_counter()
    row = _base_row(entry)
    fif, sidecar = output_paths(entry, deriv)
    fif.parent.mkdir(parents=True, exist_ok=True)
    record: dict = {
        "recipe": {"eeg_explorer_recipe": 1, "steps": pipeline},
        "software": software_versions(),
        "content_key": key,
        "source": entry.to_dict(),
    }
    try:
        with mne.utils.use_log_level("error"):
            recording = open_entry(entry)
            inputs, cleaned = [], recording
            for step in pipeline:
                inputs.append(cleaned)
                cleaned = cleaned.apply(step["name"], **step.get("params", {}))
            figures = quality.measure(recording, cleaned, inputs)
            tmp = fif.with_name(f".{fif.stem}.{os.getpid()}.tmp_eeg.fif")
            cleaned.raw.save(tmp, overwrite=True)
            os.replace(tmp, fif)
        record["input_sha256"] = recording.sha256
        record["steps"] = [{"name": s.name, "params": s.params, "report": s.report} for s in cleaned.history[1:]]
        row.update(status="done", error=None, **figures, output=str(fif))
    except EEGError as err:
        row.update(status="failed", error=str(err))
    except Exception as exc:  # a bug, but one recording's: it fails alone, with its line
        row.update(status="failed", error=f"{type(exc).__name__}: {first_line(exc)}")
    if row["status"] == "failed" and fif.exists():
        fif.unlink()  # never leave an output from an earlier recipe beside a failed sidecar
    row.update(task_s=round(time.perf_counter() - t0, 3), peak_mb=_peak_mb())
    record["quality"] = {k: v for k, v in row.items() if k not in ("path",)}
    _atomic_write_text(sidecar, json.dumps(record, indent=2, default=str))
    return row


def done_row(entry: Entry, deriv: str | Path, key: str) -> dict | None:
    """The stored row of ``entry`` when its derivative exists with content key ``key``, else None."""
    fif, sidecar = output_paths(entry, deriv)
    try:
        record = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    row = record.get("quality", {})
    if record.get("content_key") != key or row.get("status") != "done" or not fif.exists():
        return None
    return {**row, "status": "skipped"}


def run_study(
    entries: Sequence[Entry],
    pipeline: list[dict],
    deriv: str | Path,
    client=None,
    progress: Callable[[int, int, dict], None] | None = None,
    cancel: engine.CancelHandle | None = None,
) -> Iterator[dict]:
    """Clean every recording, yielding each one's row as it finishes.

    Parameters
    ----------
    entries : sequence of Entry
    pipeline : list of dict
        ``{"name", "params"}`` steps, as parsed by :func:`backend.clean.pipeline.parse_pipeline`.
    deriv : path-like
        The derivatives folder (``.../derivatives/eeg-explorer``).
    client : distributed.Client or None
        Where the tasks run; None for :func:`backend.engine.get_client`'s default.
        Not needed when every recording is already done.
    progress : callable or None
        ``progress(n_finished, n_total, row)`` after each recording.
    cancel : CancelHandle or None
        Cancelling drops the tasks not yet run; their rows come with status ``cancelled``.

    Yields
    ------
    dict
        A row per recording, in the order they finish (``skipped`` ones first).
    """
    if not pipeline:
        raise EEGError("the recipe has no steps")
    deriv = Path(deriv).resolve()
    write_description(deriv)
    versions = software_versions()
    total, finished = len(entries), 0
    todo: list[tuple[Entry, str]] = []
    for entry in entries:
        key = content_key(entry, pipeline, versions)
        row = done_row(entry, deriv, key)
        if row is None:
            todo.append((entry, key))
            continue
        finished += 1
        if progress:
            progress(finished, total, row)
        yield row
    if not todo:
        return
    client = client or engine.get_client()
    calls = [(entry, clean_task, (entry, pipeline, str(deriv), key)) for entry, key in todo]
    for entry, status, value in engine.run_tasks(client, calls, cancel, name="clean"):
        if status == "finished":
            row = value
        else:
            row = {**_base_row(entry), "status": "cancelled" if status == "cancelled" else "failed", "error": value}
        finished += 1
        if progress:
            progress(finished, total, row)
        yield row


def read_results(deriv: str | Path) -> list[dict]:
    """Every recording's row stored under a derivatives folder, with the cohort's outliers flagged.

    Raises
    ------
    EEGError
        When the folder holds no study sidecars.
    """
    deriv = Path(deriv)
    if not deriv.is_dir():
        raise EEGError(f"{deriv} is not a folder")
    rows = []
    for sidecar in sorted(deriv.glob("sub-*/**/eeg/*_desc-clean_eeg.json")):
        try:
            record = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            rows.append({"file": sidecar.name, "status": "failed", "error": "unreadable sidecar"})
            continue
        row = {k: v for k, v in record.get("quality", {}).items() if k not in ("path",)}
        row.setdefault("status", "failed")
        row.setdefault("error", None)
        rows.append(row)
    if not rows:
        raise EEGError(f"no study results in {deriv} (no *_desc-clean_eeg.json below sub-*/)")
    return quality.flag_outliers(rows)


def read_recipes(deriv: str | Path) -> list[list[dict]]:
    """The distinct recipes (lists of ``{'name', 'params'}`` steps) the sidecars under ``deriv`` were cleaned with,
    the most used first."""
    counts: dict[str, int] = {}
    recipes: dict[str, list[dict]] = {}
    for sidecar in Path(deriv).glob("sub-*/**/eeg/*_desc-clean_eeg.json"):
        try:
            steps = json.loads(sidecar.read_text(encoding="utf-8")).get("recipe", {}).get("steps")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(steps, list):
            key = json.dumps(steps, sort_keys=True)
            recipes[key] = steps
            counts[key] = counts.get(key, 0) + 1
    return [recipes[k] for k in sorted(recipes, key=lambda k: -counts[k])]


def group_path(deriv: str | Path, name: str) -> Path:
    """Where a group result (``classification`` or ``averages``) of the study in ``deriv`` is stored."""
    if name not in GROUP_RESULTS:
        raise EEGError(f"a stored group result is one of {', '.join(GROUP_RESULTS)}, got {name!r}")
    return Path(deriv) / "group" / f"{name}.json"


def save_group(deriv: str | Path, name: str, result: dict) -> Path:
    """Store a group result (:func:`backend.study.group.classify_study`'s or ``averages_study``'s) under ``deriv``."""
    path = group_path(deriv, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write_text(path, json.dumps(result, indent=1, default=float))
    return path


def stored_group(deriv: str | Path, name: str) -> dict | None:
    """The group result stored under ``deriv`` (``None`` when there is none or it is unreadable)."""
    try:
        result = json.loads(group_path(deriv, name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return result if isinstance(result, dict) else None
