"""Heavy stages as jobs on the Dask workers, never in the web server.

A job runs one stage function (importable by name, ``"package.module:function"``) for one
recording of the Library, on a worker of the one Dask client (:func:`backend.engine.get_client`).
What travels through the scheduler is small: the Library's data folder and database URL, the
owner, the recording's id and the stage's parameters. The worker opens the recording from the
Library itself, runs the stage, stores what it returns as a Library result of the recording and
marks the job done.

The job's record (a row of the Library's ``jobs`` table: owner, browser session, kind,
recording, status, progress, one-line error, times) lives in the database, so a user who
leaves and comes back, or another app server sharing the database, sees it. A job is
``running``, then ``done``, ``failed`` (with one line saying why) or ``cancelled``.

A worker that dies while running a job (a segmentation fault in a native library, or more
memory than the worker's limit, :func:`backend.engine.worker_memory_limit`) fails that job
alone, with a line saying so; the app server does not notice beyond that, and the cluster's
nanny starts a fresh worker.

A stage function is called as ``function(recording, params, progress)`` and returns a
:class:`Output`; ``progress(fraction, text)`` records how far it is and raises
:class:`Cancelled` once the job was cancelled (a running task stops at its next call).
A stage that builds on an earlier job's result (a dipole fitted to a stored localisation or
ICA) reads it with :func:`stored`.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from backend import engine
from backend.errors import EEGError, first_line
from backend.library import db
from backend.library.api import Library, check_id
from backend.library.db import JobRow, RecordingRow

log = logging.getLogger("eeg_explorer")

STATUSES = ("running", "done", "failed", "cancelled")
PROGRESS_EVERY_S = 0.5  # a stage's progress reaches the database at most this often


@dataclass(frozen=True)
class Kind:
    """A kind of job: the stage function that runs it and the kind of Library result it stores."""

    label: str
    function: str
    result_kind: str


KINDS = {
    "ica": Kind("ICA fit + ICLabel", "backend.components.job:fit", "ica_fit"),
    "classify_cv": Kind("Cross-validation", "backend.classify.job:cross_validation", "classify_cv"),
    "classify_timeline": Kind("Probability timeline", "backend.classify.job:timeline", "classify_timeline"),
    "classify_permutation": Kind("Permutation test", "backend.classify.job:permutation", "classify_permutation"),
    "clean": Kind("Clean pipeline", "backend.clean.job:run", "clean"),
    "sources": Kind("Source localisation", "backend.sources.job:run", "source_estimate"),
    "dipole": Kind("Dipole fit", "backend.sources.job:dipole", "dipole"),
    "classify_train": Kind("Training on all trials", "backend.classify.job:train", "model"),
}
APPLIED = "applied"  # a done job's message once a page took its result up (it is not taken up again)


@dataclass(frozen=True)
class Output:
    """What a stage returns: a Library result of the recording (``payload`` JSON, ``blob`` bytes)."""

    name: str
    payload: dict[str, Any]
    blob: bytes | None = None


@dataclass(frozen=True)
class Job:
    """A job as the database has it."""

    id: int
    session: str | None
    kind: str
    recording_id: int
    params: dict[str, Any]
    status: str
    progress: float
    message: str
    error: str | None
    result_id: int | None
    created_at: datetime
    finished_at: datetime | None
    recording_name: str = ""

    @property
    def label(self) -> str:
        return KINDS[self.kind].label if self.kind in KINDS else self.kind

    @property
    def running(self) -> bool:
        return self.status == "running"


class Cancelled(Exception):
    """Raised in a stage by ``progress`` once its job was cancelled."""


def _job(row: JobRow, recording_name: str = "") -> Job:
    return Job(
        row.id,
        row.session,
        row.kind,
        row.recording_id,
        dict(row.params),
        row.status,
        float(row.progress),
        row.message,
        row.error,
        row.result_id,
        row.created_at,
        row.finished_at,
        recording_name,
    )


def _server() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- the database side ---------------------------------------------------------------------------


def _set(lib: Library, job_id: int, only_running: bool = True, **values) -> bool:
    """Update a job's row (only while it is running, by default); whether it was updated."""
    values["updated_at"] = db.utcnow()
    if values.get("status") in ("done", "failed", "cancelled"):
        values["finished_at"] = values["updated_at"]
    query = update(JobRow).where(JobRow.id == job_id)
    if only_running:
        query = query.where(JobRow.status == "running")
    with lib._session(write=True) as s:
        return s.execute(query.values(**values)).rowcount > 0


def _status(lib: Library, job_id: int) -> str | None:
    with lib._session(write=False) as s:
        return s.scalar(select(JobRow.status).where(JobRow.id == job_id))


def get(lib: Library, owner: str, job_id) -> Job:
    """One of ``owner``'s jobs; another's is answered as one that does not exist."""
    jid = check_id(job_id, "job")
    with lib._session(write=False) as s:
        uid = lib._owner_id(s, owner, create=False)
        row = s.scalar(select(JobRow).where(JobRow.id == jid, JobRow.owner_id == uid))
        if row is None:
            raise EEGError(f"no job {jid} of {owner}")
        return _job(row)


def jobs(lib: Library, owner: str, recording_id=None, kind: str | None = None, limit: int = 20) -> list[Job]:
    """``owner``'s newest jobs (of one recording and kind if given).

    A job still marked running whose app server process on this host has ended is marked
    failed here: its cluster went with it (a local one) or forgot it (a scheduler).
    """
    with lib._session(write=False) as s:
        uid = lib._owner_id(s, owner, create=False)
        if uid is None:
            return []
        query = select(JobRow, RecordingRow.name).join(RecordingRow).where(JobRow.owner_id == uid)
        if recording_id is not None:
            query = query.where(JobRow.recording_id == check_id(recording_id))
        if kind is not None:
            query = query.where(JobRow.kind == kind)
        rows = s.execute(query.order_by(JobRow.created_at.desc(), JobRow.id.desc()).limit(limit)).all()
        found = [(_job(r, name), r.server) for r, name in rows]
    out = []
    for job, server in found:
        if job.running and _orphaned(server, job.id):
            message = "stopped: the app server that started it ended; start it again"
            _set(lib, job.id, status="failed", error=message)
            job = replace(get(lib, owner, job.id), recording_name=job.recording_name)
        out.append(job)
    return out


def _orphaned(server: str, job_id: int) -> bool:
    host, _, pid = server.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        with _lock:  # a job being submitted by another thread is not yet among the futures
            return _submitting == 0 and job_id not in _futures
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


# --- submitting, cancelling ------------------------------------------------------------------------

_lock = threading.Lock()
_futures: dict[int, Any] = {}  # job id -> the Dask future this process submitted
_submitting = 0  # submissions in progress in this process (their rows exist, their futures not yet)


def submit(
    lib: Library,
    owner: str,
    kind: str,
    recording_id,
    params: dict[str, Any],
    *,
    session: str | None = None,
    function: str | None = None,
    client=None,
) -> Job:
    """Record a job and send it to the Dask cluster; returns at once.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS` (what the job list calls it, the result kind it stores).
    recording_id : int
        The owner's Library recording the stage runs on (opened by the worker).
    params : dict
        The stage's parameters: small, JSON.
    session : str, optional
        The browser session that asked (shown as "this session" in its list).
    function : str, optional
        ``"module:function"`` to run instead of the kind's own (tests).
    client : distributed.Client, optional
        Default :func:`backend.engine.get_client`.
    """
    if kind not in KINDS:
        raise EEGError(f"unknown job kind {kind!r}; known: {', '.join(KINDS)}")
    function = function or KINDS[kind].function
    _resolve(function)  # a wrong name fails here, in one line, not on a worker
    lib.get(owner, recording_id)  # the owner's recording, or one line
    global _submitting
    with _lock:
        _submitting += 1
    try:
        return _submit(lib, owner, kind, recording_id, params, session, function, client)
    finally:
        with _lock:
            _submitting -= 1


def _submit(lib: Library, owner: str, kind: str, recording_id, params, session, function: str, client) -> Job:
    with lib._session(write=True) as s:
        uid = lib._owner_id(s, owner, create=True)
        row = JobRow(
            owner_id=uid,
            session=session,
            kind=kind,
            recording_id=check_id(recording_id),
            function=function,
            params=params,
            status="running",
            progress=0.0,
            message="waiting for a worker",
            server=_server(),
        )
        s.add(row)
        s.flush()
        job_id = row.id
    try:
        client = client or engine.get_client()
        future = client.submit(
            run,
            str(lib.home),
            # A SQLite file by its path; a server's URL (with its password) never travels through the
            # scheduler: the workers read EEG_EXPLORER_DATABASE_URL from their own environment.
            lib.url if lib.is_sqlite else None,
            job_id,
            function,
            KINDS[kind].result_kind,
            owner,
            check_id(recording_id),
            params,
            key=f"job-{job_id}-{uuid.uuid4().hex[:8]}",
            pure=False,
        )
    except EEGError as err:
        _set(lib, job_id, status="failed", error=str(err))
        raise
    with _lock:
        _futures[job_id] = future
    future.add_done_callback(functools.partial(_settle, lib, job_id))
    return get(lib, owner, job_id)


def cancel(lib: Library, owner: str, job_id) -> Job:
    """Cancel a running job: one not started is dropped; a running one stops at its next progress."""
    job = get(lib, owner, job_id)
    if job.running:
        _set(lib, job.id, status="cancelled", message="cancelled")
        with _lock:
            future = _futures.get(job.id)
        if future is not None:
            future.cancel()
    return get(lib, owner, job.id)


def mark_applied(lib: Library, owner: str, job_id) -> Job:
    """Note that a done job's result was taken up (a cleaned recording made current): :data:`APPLIED`."""
    job = get(lib, owner, job_id)
    if job.status == "done":
        _set(lib, job.id, only_running=False, message=APPLIED)
    return get(lib, owner, job.id)


def wait(lib: Library, owner: str, job_id, timeout_s: float) -> Job:
    """Wait until a job ends (tests, scripts) and return it; still running after ``timeout_s`` is returned as is."""
    deadline = time.monotonic() + timeout_s
    job = get(lib, owner, job_id)
    while job.running and time.monotonic() < deadline:
        time.sleep(0.2)
        job = get(lib, owner, job_id)
    return job


def _settle(lib: Library, job_id: int, future) -> None:
    """When the job's future ends: a worker that died, a cancel or a failure outside the stage."""
    with _lock:
        _futures.pop(job_id, None)
    try:
        if future.status == "finished":
            return  # the worker recorded the outcome
        if future.status == "cancelled":
            _set(lib, job_id, status="cancelled", message="cancelled")
            return
        _set(lib, job_id, status="failed", error=describe(future.exception()))
    except Exception:  # never let a callback thread die silently
        log.exception("could not record the end of job %s", job_id)


def describe(exc: BaseException) -> str:
    """One line for a job's failure seen from the client."""
    from distributed.scheduler import KilledWorker

    if isinstance(exc, KilledWorker):
        return (
            "its worker process died while running it (a crash in a native library, or more memory than "
            f"the {engine.worker_memory_text()} a worker may use); nothing else was affected"
        )
    if isinstance(exc, EEGError):
        return str(exc)
    return f"{type(exc).__name__}: {first_line(exc)}"


# --- the worker side -------------------------------------------------------------------------------


def stage(function: str):
    """The function named ``"module:function"`` (a stage, or what rebuilds its result); EEGError if there is none."""
    return _resolve(function)


def _resolve(function: str):
    module, _, name = function.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        raise EEGError(f"no stage function {function!r}") from None


@functools.lru_cache(maxsize=4)
def _library(home: str, url: str | None) -> Library:
    """The worker's Library, opened once per worker process."""
    return Library(home, url)


_here = threading.local()  # the Library, owner and recording of the job this worker thread runs


@contextlib.contextmanager
def results_of(lib: Library, owner: str, recording_id: int):
    """Within this block, :func:`stored` reads ``owner``'s results of recording ``recording_id`` in ``lib``.

    :func:`run` opens it around a stage; a test may open it to call a stage directly.
    """
    before = getattr(_here, "job", None)
    _here.job = (lib, owner, recording_id)
    try:
        yield
    finally:
        _here.job = before


def stored(result_kind: str, name: str) -> tuple[dict[str, Any], bytes | None] | None:
    """In a stage: the job's recording's stored result of ``result_kind`` named ``name`` as
    ``(payload, blob)`` (blob None when it has none), or None when there is no such result."""
    where = getattr(_here, "job", None)
    if where is None:
        raise EEGError("stored results are read in a job (backend.jobs.results_of), and this is none")
    lib, owner, recording_id = where
    found = next((r for r in lib.results(owner, recording_id, kind=result_kind) if r.name == name), None)
    if found is None:
        return None
    return found.payload, lib.result_blob(owner, found.id) if found.has_blob else None


@dataclass
class _Progress:
    lib: Library
    job_id: int
    last: float = field(default=0.0)

    def __call__(self, fraction: float, text: str = "") -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY_S and fraction < 1.0:
            return
        self.last = now
        if not _set(self.lib, self.job_id, progress=max(0.0, min(1.0, float(fraction))), message=text[:500]):
            raise Cancelled

    def check(self) -> None:
        if _status(self.lib, self.job_id) != "running":
            raise Cancelled


def run(
    home: str,
    url: str | None,
    job_id: int,
    function: str,
    result_kind: str,
    owner: str,
    recording_id: int,
    params: dict,
) -> int | None:
    """The task a worker runs: open the recording, run the stage, store its result, mark the job.

    Returns the stored result's id (None when the job failed or was cancelled: the row says which).
    """
    lib = _library(home, url)
    progress = _Progress(lib, job_id)
    try:
        progress(0.0, "opening the recording")
        recording = lib.open(owner, recording_id, touch=False)
        with results_of(lib, owner, recording_id):
            output = _resolve(function)(recording, params, progress)
        progress.check()
        progress(0.99, "storing the result")
        result = lib.save_result(owner, recording_id, result_kind, output.name, output.payload, output.blob)
        _set(lib, job_id, status="done", progress=1.0, message="done", result_id=result.id)
        return result.id
    except Cancelled:
        return None
    except EEGError as err:
        _set(lib, job_id, status="failed", error=str(err)[:500])
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        log.exception("unexpected error %s in job %s", error_id, job_id)
        message = f"Something went wrong (error {error_id}); the worker's log has the details under that id."
        _set(lib, job_id, status="failed", error=message)
    return None
