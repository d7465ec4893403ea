"""Fixtures for the browser tests: one app server and one Chromium for the whole run.

Each test gets a fresh browser context (a new Streamlit session). The server runs
with a private ``TMPDIR`` so the tests can see its per-session upload folders, and
with a short grace period so a closed session's folder goes within seconds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import StreamlitServer, launch_chromium, leaves_machine, new_context, require_chromium  # noqa: E402

# Seconds a closed session keeps its upload folder in the test server.
GRACE_S = 3.0
# Upload limit of the test server (MB): small, so the over-limit case stays cheap.
MAX_UPLOAD_MB = 20


@pytest.fixture(scope="session")
def app_tmp(tmp_path_factory) -> Path:
    """The app server's temporary folder (its workspace lives under it)."""
    return tmp_path_factory.mktemp("app-tmp")


@pytest.fixture(scope="session")
def workspace_root(app_tmp) -> Path:
    return app_tmp / "eeg-explorer-sessions"


@pytest.fixture(scope="session")
def app_home(tmp_path_factory) -> Path:
    """The app server's data folder: a private Library."""
    return tmp_path_factory.mktemp("app-home")


@pytest.fixture(autouse=True)
def empty_library(app_home):
    """Each browser test starts as a first visit: an empty Library, so a new session opens the bundled sample.

    (A new session reopens the user's last-opened recording; without this, one test's upload would be
    the next test's starting point.)
    """
    from backend.library import LOCAL_USER
    from backend.library.api import Library

    with Library(str(app_home)) as library:
        while entries := library.list(LOCAL_USER, limit=500):
            for entry in entries:
                library.remove(LOCAL_USER, entry.id)


@pytest.fixture(scope="session")
def app_url(app_tmp, app_home, tmp_path_factory):
    """URL of a running ``streamlit run serve.py``; stopped after the run."""
    require_chromium()
    log = tmp_path_factory.mktemp("app-log") / "streamlit.log"
    server = StreamlitServer(
        env={
            "TMPDIR": str(app_tmp),
            "EEG_EXPLORER_HOME": str(app_home),
            "EEG_EXPLORER_GRACE_S": str(GRACE_S),
            "STREAMLIT_SERVER_MAX_UPLOAD_SIZE": str(MAX_UPLOAD_MB),
        },
        log=log,
    )
    try:
        server.start()
    except RuntimeError as exc:
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        pytest.fail(f"{exc}\n{tail}")
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = launch_chromium(p)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """Factory of pages, each in its own browser context (its own Streamlit session).

    Every request the pages make is watched: one that leaves the machine (the app must run
    offline) fails the test that made it, naming the address.
    """
    contexts = []
    outside: list[str] = []

    def make():
        context = new_context(browser)
        context.on("request", lambda r: outside.append(r.url) if leaves_machine(r.url) else None)
        contexts.append(context)
        return context.new_page()

    yield make
    for c in contexts:
        c.close()
    assert not outside, f"requests left the machine: {sorted(set(outside))}"


@pytest.fixture
def page(new_page):
    return new_page()


def pytest_collection_modifyitems(config, items):
    """Give each browser test two more tries: waits that depend on the browser's timing
    can miss on a loaded 2-core machine; a real failure fails all three."""
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.flaky(reruns=2, reruns_delay=2))
