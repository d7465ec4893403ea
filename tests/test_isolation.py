"""Untrusted MATLAB files are parsed only in a child process, under time and memory limits."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from backend import isolation
from backend.errors import EEGError
from backend.io import load_recording
from tests.conftest import ROOT


def test_the_server_process_never_imports_scipys_matlab_reader(eeglab_files):
    """Loading a .set leaves scipy.io.matlab unimported here: the parse happened in the child."""
    code = (
        "import sys; from backend.io import load_recording; load_recording(sys.argv[1:]); "
        "print('scipy.io.matlab' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *map(str, eeglab_files)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_a_child_over_its_memory_limit_is_one_line(eeglab_files, monkeypatch):
    """1 MB for parsing, on top of the libraries: too little for the recording's 7.5 MB of samples."""
    monkeypatch.setattr(isolation, "BASE_MEMORY_BYTES", 2**20)
    monkeypatch.setattr(isolation, "MEMORY_PER_INPUT_BYTE", 0)
    with pytest.raises(
        EEGError,
        match=r"eeglab_data.set is not a readable EEGLAB .set file \(reading it needs more "
        r"than the 1 MB of memory allowed\)$",
    ):
        load_recording(eeglab_files)


def test_a_child_over_its_time_limit_is_one_line(eeglab_files, monkeypatch):
    monkeypatch.setattr(isolation, "BASE_TIMEOUT_S", 0.001)
    monkeypatch.setattr(isolation, "TIMEOUT_S_PER_MB", 0.0)
    with pytest.raises(
        EEGError,
        match=r"eeglab_data.set is not a readable EEGLAB .set file \(reading it did not "
        r"finish in 0 s\)$",
    ):
        load_recording(eeglab_files)


@pytest.mark.parametrize(
    "returncode, stderr, reason",
    [
        (-signal.SIGSEGV, "", "its structure is damaged: the reader crashed on it"),
        (-signal.SIGABRT, "", "its structure is damaged: the reader crashed on it"),
        (-signal.SIGXCPU, "", "reading it used more processor time than allowed"),
        (1, "Traceback ...\nMemoryError\n", "reading it needs more than the 2,048 MB of memory allowed"),
    ],
)
def test_how_a_child_died_is_said_in_words(returncode, stderr, reason):
    assert isolation._why_it_died(returncode, stderr, 2 * 2**30) == reason


def test_a_crashing_child_is_reported_not_propagated(eeglab_files, monkeypatch):
    """A child killed by a signal (as scipy's reader on a forged file) becomes the one-line refusal."""
    real_run = subprocess.run

    def crash_first(argv, **kwargs):  # the real child, told to die of a segmentation fault before it reads
        return real_run([argv[0], "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"], **kwargs)

    monkeypatch.setattr(isolation.subprocess, "run", crash_first)
    with pytest.raises(EEGError, match=r"\(its structure is damaged: the reader crashed on it\)$"):
        load_recording(eeglab_files)


def test_only_named_tasks_run_in_a_child():
    with pytest.raises(ValueError, match="unknown child task"):
        isolation.run("os.system", ["true"], what="x", input_bytes=0)
