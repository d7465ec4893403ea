"""Drive EEG Explorer as a user would: a real ``streamlit run`` and headless Chromium.

Used by the end-to-end tests (``tests/e2e``) and by ``benchmarks/e2e_load.py``.
Streamlit widgets carry their key as a CSS class (``.st-key-<key>``), so the
helpers find widgets by the keys the pages give them.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-unsafe-swiftshader",
]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
EXCEPTION = '[data-testid="stException"]'
ERROR = '[data-testid="stAlertContentError"]'
WARNING = '[data-testid="stAlertContentWarning"]'

# Counts the messages the app's server sends from the moment a page opens, so a helper
# can wait for the run an action starts (and for the first run after loading): a run
# always sends messages, even one so short that the page never shows it as running.
_COUNT_RUNS = """
window.__eegMessages = 0;
window.__eegLastChange = performance.now();
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener('message', () => { window.__eegMessages++; window.__eegLastChange = performance.now(); });
  }
};
// The page draws a run's elements a little after the run ends: wait for the DOM to be still.
new MutationObserver(() => { window.__eegLastChange = performance.now(); })
  .observe(document, {childList: true, subtree: true, characterData: true, attributes: true});
"""
_IDLE = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return app && app.getAttribute('data-test-script-state') !== 'running'
      && app.getAttribute('data-test-connection-state') === 'CONNECTED'
      && performance.now() - window.__eegLastChange > 500;
}"""
_IDLE_AFTER = """(before) => {
  const app = document.querySelector('[data-testid="stApp"]');
  return app && window.__eegMessages > before
      && app.getAttribute('data-test-script-state') === 'notRunning'
      && app.getAttribute('data-test-connection-state') === 'CONNECTED'
      && performance.now() - window.__eegLastChange > 500;
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StreamlitServer:
    """``streamlit run serve.py`` (the app with its page route) on a free port, in its own process group.

    Parameters
    ----------
    env : dict, optional
        Extra environment for the app (e.g. ``TMPDIR`` to give it a private
        workspace, ``STREAMLIT_SERVER_MAX_UPLOAD_SIZE`` in MB).
    log : Path, optional
        Where the server's output goes (kept for a failing test to show).
    """

    def __init__(self, env: dict | None = None, log: Path | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **(env or {})}
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 90.0) -> str:
        out = open(self.log, "wb") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "serve.py",
                "--server.port",
                str(self.port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
                "--server.fileWatcherType",
                "none",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with status {self.proc.returncode}; see {self.log}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return self.url
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"streamlit did not answer /_stcore/health within {timeout_s:.0f} s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def __enter__(self) -> StreamlitServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def leaves_machine(url: str) -> bool:
    """Whether a request to ``url`` would leave this machine (anything but loopback, data, blob, about)."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "file", "chrome", "chrome-extension"):
        return False
    return parts.hostname not in ("127.0.0.1", "localhost", "::1")


def require_chromium(path: Path = CHROMIUM) -> None:
    """Fail, never skip, without Chromium: a run that leaves out the browser tests must say so."""
    import pytest

    if not path.exists():
        pytest.fail(
            f"{path} is missing: install Debian's chromium package (.ci/test does, as root or with sudo), "
            'or leave the browser tests out with -m "not e2e"',
            pytrace=False,
        )


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def new_context(browser, **kwargs):
    """A browser context (one Streamlit session per page) that counts script runs."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True, **kwargs)
    context.set_default_timeout(60_000)
    context.add_init_script(_COUNT_RUNS)
    return context


def run_count(page) -> int:
    """How many messages the page has had from the server (for :func:`wait_for_run`)."""
    return page.evaluate("() => window.__eegMessages")


def wait_for_run(page, before: int, timeout_s: float = 60.0) -> None:
    """Wait until a run started after ``run_count`` was ``before`` has finished and been drawn."""
    page.wait_for_function(_IDLE_AFTER, arg=before, timeout=timeout_s * 1000)


def wait_idle(page, timeout_s: float = 60.0) -> None:
    """Wait until no run is going and the page has been still for half a second."""
    page.wait_for_function(_IDLE, timeout=timeout_s * 1000)


def settle(page, action, timeout_s: float = 60.0) -> None:
    """Do ``action()`` and wait until the script run it starts has finished."""
    before = run_count(page)
    action()
    wait_for_run(page, before, timeout_s)


def open_app(page, url: str, path: str = "", timeout_s: float = 90.0) -> None:
    """Open a page of the app and wait for its first script run to finish."""
    page.goto(f"{url}/{path}")
    wait_for_run(page, 0, timeout_s)


def go_to(page, title: str, timeout_s: float = 120.0) -> None:
    """Open the app's page ``title`` from the navigation and wait for its run."""
    settle(page, lambda: page.locator('[data-testid="stSidebarNav"] a', has_text=title).click(), timeout_s)
    page.locator('[data-testid="stMain"] h1', has_text=title).wait_for()


def widget(page, key: str):
    """The element of the widget created with ``key=...``."""
    return page.locator(f".st-key-{re.sub(r'[^A-Za-z0-9_-]', '-', key)}")


def click(page, key: str, timeout_s: float = 60.0) -> None:
    """Click the button created with ``key=...`` and wait for the run it starts."""
    button = widget(page, key).locator("button")
    button.wait_for()
    settle(page, button.click, timeout_s)


def clear_uploads(page, key: str) -> None:
    """Remove every file from the ``st.file_uploader`` created with ``key=...``."""
    chips = widget(page, key).locator('[data-testid="stFileChip"]')
    while n := chips.count():
        chip = chips.first
        delete = chip.locator('[data-testid="stFileChipDeleteBtn"] button').click
        delete()
        page.wait_for_function(
            "([sel, n]) => document.querySelectorAll(sel).length < n",
            arg=[f".st-key-{key} [data-testid='stFileChip']", n],
        )
        # A removal may start a run too short for the run counter to see: wait for
        # the app to be idle and drawn rather than for a counted run.
        wait_idle(page)


def upload(page, key: str, files, refused: bool = False) -> None:
    """Put files into the ``st.file_uploader`` created with ``key=...``, through its real input.

    With ``refused=True`` the widget is expected to refuse them itself (e.g. over the
    size limit): nothing reaches the app, and the refused files are shown as invalid.
    """
    clear_uploads(page, key)
    pick = lambda: widget(page, key).locator('input[type="file"]').set_input_files([str(f) for f in files])  # noqa: E731
    if refused:
        pick()
        widget(page, key).locator('[data-testid="stFileChip"][aria-invalid="true"]').first.wait_for()
    else:
        settle(page, pick)


def select(page, key: str, option: str, in_form: bool = False) -> None:
    """Choose ``option`` (its visible label, or a unique part of it) in the ``st.selectbox`` ``key``.

    In a form (``in_form=True``) a choice starts no run: wait for the box to show it instead.
    """
    box = widget(page, key)
    choice = page.get_by_role("option", name=re.compile(re.escape(option))).first
    for _ in range(5):
        # The list closes when the page scrolls, as clicking an off-screen box does: scroll first.
        box.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        box.get_by_role("button", name="Open").click()
        try:
            choice.wait_for(state="visible", timeout=3000)
            break
        except Exception:
            page.keyboard.press("Escape")
    if in_form:
        choice.click()
        page.wait_for_function(
            "([sel, text]) => document.querySelector(sel)?.value.includes(text)",
            arg=[f".st-key-{key} [role='combobox']", option],
        )
    else:
        settle(page, choice.click)


def sidebar_text(page) -> str:
    return page.locator('[data-testid="stSidebar"]').inner_text()


def metrics(page) -> dict[str, str]:
    """The ``st.metric`` values on the page, by label."""
    out = {}
    for m in page.locator('[data-testid="stMetric"]').all():
        label = m.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        out[label] = m.locator('[data-testid="stMetricValue"]').inner_text().strip()
    return out


def messages(page, kind: str = ERROR) -> list[str]:
    """The texts of the alerts of one kind (``ERROR`` or ``WARNING``) on the page, without their icons."""
    return [t.strip() for t in page.locator(f'{kind} [data-testid="stMarkdownContainer"]').all_inner_texts()]


def eventually(assertion, timeout_s: float = 15.0):
    """Retry ``assertion()`` until it passes: the page may still be drawing what a run sent."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return assertion()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


def check(page, name: str) -> None:
    """Fail on any exception Streamlit shows; save a screenshot of the page either way."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.png"), full_page=True)
    shown = page.locator(EXCEPTION)
    if shown.count():
        raise AssertionError(f"the page shows an exception: {shown.first.inner_text()[:2000]}")
