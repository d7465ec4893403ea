"""Run native parsers on untrusted files in a child process, with time and memory limits.

scipy's MATLAB reader is C code, and a forged EEGLAB ``.set`` can crash it with a
segmentation fault (found by fuzzing). A crash in the app's own process would take
every user's session with it, so such a parser runs only here: in a child process
that sets its own limits before it reads a byte, and hands back a small JSON result
(and any files it was asked to write). The parent never parses those bytes itself.

The child runs ``python -m backend.isolation NAME ARG...``; ``NAME`` must be one of
:data:`CHILD_TASKS`, so nothing but these functions can be run this way.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

from backend.errors import EEGError

# What a child may run: name -> (module, function, modules it needs). Each function takes
# string arguments and returns a JSON-serialisable dict; it raises EEGError for bad input.
# The modules are imported before the limits are set: they are our own trusted code, and
# a library that fails to load under the limit would pass for a bad file.
CHILD_TASKS = {
    "eeglab": ("backend.io", "convert_eeglab", ("scipy.io", "mne.io.eeglab._eeglab", "mne.preprocessing")),
}

# Memory for parsing, on top of what the loaded libraries take: a fixed allowance plus
# room for several copies of the data being parsed.
BASE_MEMORY_BYTES = 2**30
MEMORY_PER_INPUT_BYTE = 12
BASE_TIMEOUT_S = 60.0
TIMEOUT_S_PER_MB = 0.5
_RESULT_PREFIX = "eeg-explorer-result "
_log = logging.getLogger(__name__)


def limits_for(input_bytes: int) -> tuple[float, int]:
    """The time (s) and address-space (bytes) limits for parsing ``input_bytes`` of files."""
    return (
        BASE_TIMEOUT_S + TIMEOUT_S_PER_MB * input_bytes / 2**20,
        BASE_MEMORY_BYTES + MEMORY_PER_INPUT_BYTE * input_bytes,
    )


def run(task: str, args: list[str], *, what: str, input_bytes: int) -> dict:
    """Run ``CHILD_TASKS[task](*args)`` in a child process and return its result.

    Parameters
    ----------
    task : str
        A key of :data:`CHILD_TASKS`.
    args : list of str
        The function's arguments.
    what : str
        How the user knows the input, for messages ("x.set is not a readable EEGLAB file").
    input_bytes : int
        Size of the files the child will read; sets its time and memory limits.

    Raises
    ------
    EEGError
        The child's own one-line message, or one saying that parsing crashed, ran out
        of time or of memory.
    """
    if task not in CHILD_TASKS:
        raise ValueError(f"unknown child task {task!r}")
    timeout_s, memory_bytes = limits_for(input_bytes)
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "EEG_EXPLORER_CHILD_MEMORY": str(memory_bytes),
        "EEG_EXPLORER_CHILD_CPU_S": str(int(timeout_s) + 1),
    }
    root = Path(__file__).resolve().parent.parent
    try:
        child = subprocess.run(
            [sys.executable, "-m", "backend.isolation", task, *args],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            stdin=subprocess.DEVNULL,
            cwd=root,
            env=env,
        )
    except subprocess.TimeoutExpired:
        raise EEGError(f"{what} (reading it did not finish in {timeout_s:.0f} s)") from None
    result = _result(child.stdout)
    if child.returncode < 0 or result is None:
        _log.warning("child task %s on %s ended with status %s: %s", task, what, child.returncode, child.stderr[-2000:])
        raise EEGError(f"{what} ({_why_it_died(child.returncode, child.stderr, memory_bytes)})")
    if "error" in result:
        raise EEGError(result["error"] if result.get("own") else f"{what} ({result['error']})")
    return result


def _result(stdout: str) -> dict | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith(_RESULT_PREFIX):
            return json.loads(line[len(_RESULT_PREFIX) :])
    return None


def _why_it_died(returncode: int, stderr: str, memory_bytes: int) -> str:
    if "MemoryError" in stderr:
        return f"reading it needs more than the {memory_bytes / 2**20:,.0f} MB of memory allowed"
    if returncode == -signal.SIGXCPU:
        return "reading it used more processor time than allowed"
    if returncode < 0:
        return "its structure is damaged: the reader crashed on it"
    return "the reader failed on it"


def _address_space_bytes() -> int:
    """This process's virtual memory now (0 where /proc is absent)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def _set_limits() -> None:
    """Limits the child sets on itself before it reads the file (no preexec_fn: servers are threaded)."""
    memory = _address_space_bytes() + int(os.environ.get("EEG_EXPLORER_CHILD_MEMORY", BASE_MEMORY_BYTES))
    cpu_s = int(os.environ.get("EEG_EXPLORER_CHILD_CPU_S", BASE_TIMEOUT_S))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no core file of the upload behind


def _child_main(argv: list[str]) -> int:
    import importlib
    import warnings

    warnings.simplefilter("ignore")
    module, function, needs = CHILD_TASKS[argv[0]]
    task = getattr(importlib.import_module(module), function)
    for name in needs:
        importlib.import_module(name)
    _set_limits()
    try:
        out = task(*argv[1:])
    except EEGError as err:
        out = {"error": str(err), "own": True}
    except MemoryError:
        print("MemoryError", file=sys.stderr)
        return 1
    except Exception as exc:  # the parsers raise many types for damaged files
        text = str(exc).strip().splitlines()
        out = {"error": (text[0] if text else type(exc).__name__)[:200]}
    print(_RESULT_PREFIX + json.dumps(out, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
