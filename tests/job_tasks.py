"""Stage functions for the job tests, imported by name on the Dask workers (``tests.job_tasks:NAME``)."""

from __future__ import annotations

import os
import signal
import time

from backend.errors import EEGError
from backend.jobs import Output


def summary(recording, params, progress):
    """Succeeds: a small payload about the recording, and a blob."""
    progress(0.5, "measuring")
    payload = {"channels": len(recording.raw.ch_names), "steps_key": recording.steps_key, "pid": os.getpid()}
    return Output(f"summary {params['tag']}", payload, b"blob " + params["tag"].encode())


def bad_input(recording, params, progress):
    """Fails as a stage does on bad input: one line."""
    raise EEGError(f"the band's top ({params['hff']} Hz) is above Nyquist ({recording.raw.info['sfreq'] / 2:g} Hz)")


def bug(recording, params, progress):
    raise KeyError("a bug in a stage")


def segfault(recording, params, progress):
    """Kills its own worker process, as a crash in a native library does."""
    progress(0.1, "about to crash")
    time.sleep(0.6)  # let the progress reach the database
    os.kill(os.getpid(), signal.SIGSEGV)


def hard_exit(recording, params, progress):
    os._exit(3)


def slow(recording, params, progress):
    """Runs for ``params['seconds']``, reporting progress (where a cancel stops it)."""
    start = time.monotonic()
    while (elapsed := time.monotonic() - start) < params["seconds"]:
        progress(elapsed / params["seconds"], "working")
        time.sleep(0.05)
    return Output("slow", {"seconds": params["seconds"]})
