"""What a user sees when something breaks: one line, never a traceback.

An :class:`EEGError` that a page did not catch is shown as its own one-line message.
Anything else is a bug: the user gets one line with an error id, and the server log
gets the traceback under that id. Tests set ``EEG_EXPLORER_RAISE_ERRORS=1`` so that a
bug fails them instead of turning into a polite message.
"""

from __future__ import annotations

import logging
import os
import uuid

import streamlit as st

from backend.errors import EEGError

log = logging.getLogger("eeg_explorer")


def run_guarded(page) -> None:
    """Run a page (``st.navigation``'s choice); an exception it raises becomes one line."""
    try:
        page.run()
    except EEGError as err:
        st.error(str(err), icon=":material/error:")
    except Exception:
        if os.environ.get("EEG_EXPLORER_RAISE_ERRORS") == "1":
            raise
        error_id = uuid.uuid4().hex[:8]
        log.exception("unexpected error %s", error_id)
        st.error(
            f"Something went wrong on this page (error {error_id}). What you loaded is kept; "
            f"the server's log has the details under that id.",
            icon=":material/error:",
        )
