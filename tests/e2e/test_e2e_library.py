"""The Library in a real browser: what a user did is there after a reload of the tab and a restart of the server."""

from __future__ import annotations

import pytest
from conftest import GRACE_S
from harness import StreamlitServer, check, click, eventually, go_to, open_app, settle, sidebar_text, upload, widget

pytestmark = pytest.mark.e2e

LABEL = "e2e-kept"


def _assert(ok, what: str) -> None:
    assert ok, what


def _listed(page) -> str:
    """The entry chosen in the Library's list (the table itself is a canvas)."""
    return widget(page, "lib_chosen").locator("[role='combobox']").input_value()


def _back_with_everything(page, url: str, name: str) -> None:
    """A fresh page load opens the last recording: the Library lists it, and its annotation is there."""
    open_app(page, url)
    eventually(lambda: _assert(name in _listed(page), "the library lists the upload"))
    eventually(lambda: _assert(f"{LABEL} ×1" in page.locator("[data-testid='stMain']").inner_text(), "annotation"))
    eventually(lambda: _assert(name in sidebar_text(page) and LABEL in sidebar_text(page), "the history is back"))


def test_upload_annotate_reload_and_restart(page, physionet_file, tmp_path):
    page.set_default_timeout(120_000)
    env = {"EEG_EXPLORER_HOME": str(tmp_path / "home"), "TMPDIR": str(tmp_path), "EEG_EXPLORER_GRACE_S": str(GRACE_S)}
    server = StreamlitServer(env=env, log=tmp_path / "first.log")
    server.start()
    try:
        open_app(page, server.url)
        upload(page, "uploads", [physionet_file])
        click(page, "load_upload", timeout_s=120)
        check(page, "library-01-uploaded")
        eventually(lambda: _assert(physionet_file.name in _listed(page), "listed"))

        go_to(page, "Browse")
        form = page.locator('[data-testid="stForm"]', has_text="Add an annotation")
        form.get_by_label("Label").fill(LABEL)
        settle(page, form.get_by_role("button", name="Add", exact=True).click, timeout_s=120)
        eventually(lambda: _assert(LABEL in sidebar_text(page), "the annotation is a step in the history"))

        _back_with_everything(page, server.url, physionet_file.name)  # reload the tab
        check(page, "library-02-after-reload")
    finally:
        server.stop()

    restarted = StreamlitServer(env=env, log=tmp_path / "second.log")
    restarted.start()
    try:
        _back_with_everything(page, restarted.url, physionet_file.name)
        check(page, "library-03-after-restart")
        go_to(page, "Browse")
        eventually(lambda: _assert(LABEL in sidebar_text(page), "the annotation on the Browse page's recording"))
        check(page, "library-04-browse-after-restart")
    finally:
        restarted.stop()
