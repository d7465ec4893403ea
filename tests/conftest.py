"""Shared fixtures: the bundled samples (always there) and ../shared/data (skipped when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import mne
import pytest

from backend.config import SAMPLES

# Fixtures of the Library's tests (a database per test, SQLite and PostgreSQL).
pytest_plugins = ["tests.library_support"]

ROOT = Path(__file__).resolve().parent.parent
mne.set_log_level("error")
# A page's bug must fail the test, not become the one-line message users get (ui/errors.py).
os.environ["EEG_EXPLORER_RAISE_ERRORS"] = "1"


@pytest.fixture(autouse=True)
def _private_library(tmp_path_factory, monkeypatch):
    """Every test gets its own empty data folder: the app's Library never touches the user's own."""
    monkeypatch.setenv("EEG_EXPLORER_HOME", str(tmp_path_factory.mktemp("eeg-home")))
    monkeypatch.delenv("EEG_EXPLORER_DATABASE_URL", raising=False)


def _find_shared_data() -> Path | None:
    """``../shared/data`` beside the project (or $EEG_SHARED_DATA), if present."""
    candidates = [os.environ.get("EEG_SHARED_DATA"), ROOT.parent / "shared" / "data"]
    for c in candidates:
        if c and Path(c, "README.md").exists():
            return Path(c)
    return None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real recordings; tests using it skip where it is absent."""
    path = _find_shared_data()
    if path is None:
        pytest.skip("../shared/data is not beside this checkout (set EEG_SHARED_DATA to its path)")
    return path


@pytest.fixture(scope="session")
def eeglab_files() -> list[Path]:
    """The bundled EEGLAB tutorial recording (.set + .fdt)."""
    return [SAMPLES / "eeglab_data.set", SAMPLES / "eeglab_data.fdt"]


@pytest.fixture(scope="session")
def physionet_file() -> Path:
    """The bundled PhysioNet motor-imagery run (EDF+, 64 channels)."""
    return SAMPLES / "S001R04.edf"


@pytest.fixture(scope="session")
def eeglab_recording(eeglab_files):
    from backend.io import load_recording

    return load_recording(eeglab_files)


@pytest.fixture(scope="session")
def physionet_recording(physionet_file):
    from backend.io import load_recording

    return load_recording([physionet_file])


def open_app(page: str | None = None, *, recordings=None, timeout: float = 180):
    """The app in Streamlit's AppTest after its first run, on ``page`` (``"pages/browse.py"``; the default page if None).

    ``recordings`` preloads the session's recording stack (the current one last). The
    first run must not raise. Every page test opens the app through here, so the app's
    shell (navigation, sidebar, Library) runs around each page as it does for a user.
    """
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    if recordings is not None:
        at.session_state["recordings"] = list(recordings)
    if page is not None:
        at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def finish_jobs(at, timeout: float = 180):
    """Wait for the local user's jobs on the Dask workers (an ICA fit) to end, then rerun ``at``; returns ``at``."""
    from backend import jobs
    from backend.library import LOCAL_USER
    from backend.library.api import Library

    with Library() as lib:
        for job in jobs.jobs(lib, LOCAL_USER):
            assert jobs.wait(lib, LOCAL_USER, job.id, timeout).status != "running", f"job {job.id} still runs"
    at.run()
    assert not at.exception, at.exception
    return at
