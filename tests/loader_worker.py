"""A Python process that loads recordings on request, watched for hangs and crashes.

Tests that feed the loader bad or mutated files load them here, not in pytest's own
process: a parser that crashes or hangs fails one case, named, and the run goes on.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HANG_S = 10.0

_WORKER = r"""
import json, sys, traceback, warnings
warnings.simplefilter("ignore")
import mne
mne.set_log_level("error")
from backend.errors import EEGError
from backend.io import load_recording
print("ready", flush=True)
for line in sys.stdin:
    paths = json.loads(line)
    try:
        rec = load_recording(paths)
        rec.summary()  # what the Load page shows at once
        out = {"status": "ok"}
    except EEGError as err:
        out = {"status": "EEGError", "message": str(err)}
    except BaseException as exc:
        out = {"status": "bug", "error": type(exc).__name__, "trace": traceback.format_exc()[-3000:]}
    print(json.dumps(out), flush=True)
"""


class LoaderWorker:
    """A Python process that loads recordings on request, watched for hangs and crashes."""

    def __init__(self, code: str = _WORKER, hang_s: float = HANG_S):
        self.code, self.hang_s, self.proc = code, hang_s, None

    def _start(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", self.code],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self._readline(120) == "ready"

    def _readline(self, timeout_s: float) -> str | None:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout_s)
        return self.proc.stdout.readline().strip() if ready else None

    def load(self, paths: list[Path]) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        self.proc.stdin.write(json.dumps([str(p) for p in paths]) + "\n")
        self.proc.stdin.flush()
        line = self._readline(self.hang_s)
        if line is None:
            self.close()
            return {"status": "hang", "error": f"no answer within {self.hang_s:.0f} s"}
        if not line:
            code = self.proc.wait()
            self.proc = None
            return {"status": "crash", "error": f"the worker died (exit status {code})"}
        return json.loads(line)

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
