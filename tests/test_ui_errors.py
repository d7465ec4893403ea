"""An unexpected exception on a page reaches the user as one line with an id; the log has the traceback."""

from __future__ import annotations

import logging

from streamlit.testing.v1 import AppTest


def _page_that_breaks():
    from backend.errors import EEGError
    from ui.errors import run_guarded

    class Page:
        def __init__(self, exc):
            self.exc = exc

        def run(self):
            raise self.exc

    run_guarded(Page(ZeroDivisionError("division by zero in /srv/app/pages/secret.py")))
    run_guarded(Page(EEGError("x.edf is empty")))


def test_a_bug_is_one_line_with_an_id_and_the_traceback_is_logged(monkeypatch, caplog):
    monkeypatch.delenv("EEG_EXPLORER_RAISE_ERRORS")
    at = AppTest.from_function(_page_that_breaks)
    with caplog.at_level(logging.ERROR, logger="eeg_explorer"):
        at.run()
    assert not at.exception
    bug, refusal = (e.value for e in at.error)
    assert bug.startswith("Something went wrong on this page (error ") and "\n" not in bug
    assert "secret.py" not in bug and "ZeroDivisionError" not in bug
    error_id = bug.split("(error ")[1].split(")")[0]
    record = next(r for r in caplog.records if error_id in r.getMessage())
    assert record.exc_info[0] is ZeroDivisionError  # the traceback is in the server's log, under that id
    assert refusal == "x.edf is empty"


def test_tests_see_bugs_as_exceptions():
    at = AppTest.from_function(_page_that_breaks)
    at.run()
    assert at.exception


def test_the_server_shows_no_traceback_and_no_outside_help_links():
    import tomllib
    from pathlib import Path

    from streamlit import config
    from streamlit.proto.NewSession_pb2 import Config
    from streamlit.runtime.app_session import _get_show_error_links

    text = (Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml").read_text()
    client = tomllib.loads(text)["client"]
    assert client["showErrorDetails"] == "none"
    before = config.get_option("client.showErrorLinks")
    try:  # what the server sends the browser for our setting ("auto" shows Ask Google / Ask ChatGPT on localhost)
        config._set_option("client.showErrorLinks", client["showErrorLinks"], "config.toml")
        assert _get_show_error_links() == Config.ShowErrorLinks.SHOW_ERROR_LINKS_FALSE
    finally:
        config._set_option("client.showErrorLinks", before, "test")
