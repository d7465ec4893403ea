"""Work that runs when the user asks for it: a button, and a note when the shown result is stale.

A page passes the settings a slow result would be computed from. Pressing the button records
them; from then on the page computes (through its cache, so instantly after the first time)
from the recorded settings, never from the widgets' current values. When the widgets no longer
match, one line says so instead of recomputing on every change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from ui.cache import content_key


def requested(
    key: str,
    scope: str,
    settings: Any,
    label: str,
    *,
    disabled: bool = False,
    on_press: Callable[[Any], None] | None = None,
    resume: Callable[[], Any | None] | None = None,
) -> Any | None:
    """A button labelled ``label``; the settings last requested with it for ``scope``.

    Parameters
    ----------
    key : str
        Widget key of the button (also names the session entry that holds the request).
    scope : str
        What a request belongs to (the open recording's key): a request made for another is forgotten.
    settings : object
        What the result would be computed from now (anything :func:`ui.cache.content_key` can key).
    label : str
        The button's text, also named in the stale note.
    disabled : bool
        As for ``st.button``.
    on_press : callable, optional
        Called with ``settings`` when the button is pressed (to start a job for them).
    resume : callable, optional
        Called when nothing was requested for ``scope`` in this session: the settings of a result
        requested earlier (a job's, for a user coming back), taken as the last request; or None.

    Returns
    -------
    object or None
        The settings of the last press (the current ones when just pressed); None before any.
    """
    if st.button(label, key=key, type="primary", disabled=disabled):
        st.session_state[f"{key}:request"] = (scope, settings)
        if on_press is not None:
            on_press(settings)
    last = st.session_state.get(f"{key}:request")
    if (last is None or last[0] != scope) and resume is not None and (earlier := resume()) is not None:
        last = st.session_state[f"{key}:request"] = (scope, earlier)
    if last is None or last[0] != scope:
        return None
    if content_key(last[1]) != content_key(settings):
        st.caption(f":material/update: Settings changed — press {label} to update; shown: the previous settings.")
    return last[1]
