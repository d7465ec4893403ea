"""An acknowledged annotation survives the death of the process that wrote it.

A child process (the server's stand-in) writes annotations through the Library
and prints each id once the write returned, that is once it was committed. The
test kills it with SIGKILL mid-stream, reopens the database and finds every
acknowledged annotation there, and SQLite's integrity check passing.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backend.library.api import Library
from tests.test_library_api import make_fif

ROOT = Path(__file__).resolve().parent.parent
WRITER = r"""
import sys
from backend.library.api import Library
lib = Library()
print("ready", flush=True)
i = 0
while True:
    note = lib.add_annotation("local", int(sys.argv[1]), (i % 90) / 10, 0.1, f"write {i} 'quoted' <b>")
    print(note.id, flush=True)  # acknowledged: add_annotation returns after the commit
    i += 1
"""


@pytest.mark.slow
@pytest.mark.parametrize("kill_after_s", [0.3, 1.1, 2.3])
def test_sigkill_mid_stream_loses_no_acknowledged_write(library_url, tmp_path, kill_after_s):
    with Library() as lib:
        rid = lib.add("local", [make_fif(tmp_path / "x_raw.fif")]).id
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(rid)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        time.sleep(kill_after_s)
        os.kill(child.pid, signal.SIGKILL)
        out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL, err
    lines = out.split("\n")
    acknowledged = [int(line) for line in lines[:-1]]  # the last piece has no newline: not acknowledged
    assert len(acknowledged) >= 3, f"the writer acknowledged only {len(acknowledged)} writes: {err[-500:]}"
    with Library() as lib:
        stored = {a.id for a in lib.annotations("local", rid)}
        assert set(acknowledged) <= stored
        assert len(stored) <= len(acknowledged) + 1  # at most the one committed but not yet printed
        if lib.is_sqlite:
            with sqlite3.connect(lib.engine.url.database) as check:
                assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # Writes go on after the restart.
        lib.add_annotation("local", rid, 1, 1, "after restart")
