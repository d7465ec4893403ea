"""Two app servers behind one proxy share one Library: a recording added through one is listed by the other."""

from __future__ import annotations

import pytest
from harness import StreamlitServer, eventually, open_app, settle, widget

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _opened(page, name: str) -> None:
    """The page's heading of the open recording names ``name``."""
    assert page.locator('[data-testid="stMain"] h3', has_text=name).count() == 1, f"{name} is not the open recording"


def test_a_recording_added_through_one_server_is_listed_by_the_other(new_page, tmp_path, physionet_file):
    home = tmp_path / "shared-home"  # one SQLite Library (and file store) for both servers
    servers = [
        StreamlitServer(env={"EEG_EXPLORER_HOME": str(home), "TMPDIR": str(tmp_path)}, log=tmp_path / f"app{i}.log")
        for i in (1, 2)
    ]
    try:
        first, second = (s.start() for s in servers)
        assert first != second and all(s.url.startswith("http://127.0.0.1:") for s in servers)

        a = new_page()
        a.set_default_timeout(120_000)
        open_app(a, first)
        widget(a, "uploads").locator('input[type="file"]').set_input_files([str(physionet_file)])
        settle(a, widget(a, "load_upload").locator("button").click, timeout_s=120)
        eventually(lambda: _opened(a, "S001R04.edf"), 60)

        # A new session on the other server: its Library lists the upload, and it opens it as the last one opened.
        b = new_page()
        b.set_default_timeout(120_000)
        open_app(b, second)
        eventually(
            lambda: _assert_in("S001R04.edf", widget(b, "lib_chosen").locator("[role='combobox']").input_value()), 60
        )
        eventually(lambda: _opened(b, "S001R04.edf"), 60)
    finally:
        for s in servers:
            s.stop()


def _assert_in(needle: str, text: str) -> None:
    assert needle in text, f"{needle!r} not in {text[:300]!r}"
