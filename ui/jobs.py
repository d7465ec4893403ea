"""Work that outlives one run of a page: a study stage runs in a thread while the page polls it.

A page starts a :class:`Job` with a function of the job, keeps it in ``st.session_state`` and
draws its progress from a fragment that reruns every second; widgets the user touches
meanwhile do not stop it, and Cancel reaches its :class:`~backend.engine.CancelHandle`.
The thread calls the backend only (no Streamlit), and records small things: rows, a result,
one line of error.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from backend import engine
from backend.errors import EEGError

log = logging.getLogger("eeg_explorer")


@dataclass
class Job:
    """One stage running in a thread: its progress, rows, result or one-line error.

    Attributes
    ----------
    name : str
        What runs, as the user reads it ("Cleaning 12 recordings").
    total : int
        How many units (recordings, subjects) it has.
    rows : list of dict
        One row per unit finished, in the order they finished.
    result : object
        What the function returned, once ``finished``.
    error : str or None
        The one line shown when the whole stage failed (not a unit: units fail in their rows).
    info : dict
        What the stage tells the page while it runs (workers, dashboard link).
    """

    name: str
    total: int
    cancel: engine.CancelHandle = field(default_factory=engine.CancelHandle)
    rows: list = field(default_factory=list)
    result: Any = None
    error: str | None = None
    info: dict = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    ended: float | None = None
    acknowledged: bool = False
    _bug: BaseException | None = None

    @property
    def finished(self) -> bool:
        return self.ended is not None

    @property
    def done(self) -> int:
        return len(self.rows)

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 1.0

    @property
    def elapsed_s(self) -> float:
        return (self.ended or time.time()) - self.started

    def record(self, _i: int, _n: int, row: dict) -> None:
        """A backend ``progress(i, n, row)`` callback: keeps the finished unit's row."""
        self.rows.append(row)

    def raise_bug(self) -> None:
        """Re-raise a bug of the job's thread where tests ask for it (``EEG_EXPLORER_RAISE_ERRORS=1``)."""
        if self._bug is not None and os.environ.get("EEG_EXPLORER_RAISE_ERRORS") == "1":
            raise self._bug


def start(name: str, total: int, work: Callable[[Job], Any]) -> Job:
    """Run ``work(job)`` in a daemon thread and return the job at once."""
    job = Job(name, total)

    def target() -> None:
        try:
            job.result = work(job)
        except EEGError as err:
            job.error = str(err)
        except Exception as exc:  # a bug: one line with an id here, the traceback in the log
            error_id = uuid.uuid4().hex[:8]
            log.exception("unexpected error %s in %s", error_id, name)
            job.error = f"Something went wrong (error {error_id}); the server's log has the details under that id."
            job._bug = exc
        finally:
            job.ended = time.time()

    threading.Thread(target=target, name=f"job: {name}", daemon=True).start()
    return job


def wait(job: Job, timeout_s: float) -> bool:
    """Wait until ``job`` ends (tests, scripts); whether it did within ``timeout_s``."""
    deadline = time.time() + timeout_s
    while not job.finished and time.time() < deadline:
        time.sleep(0.1)
    return job.finished
