"""The report's items in the session, and the "Add to report" button pages place under a figure.

An item is a plain dict (``backend.report.build.Item.to_dict``): its kind, the figure's
Plotly JSON as displayed, a caption and the settings line; the Report page lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from backend.report import validation
from backend.report.build import Item, item_from_figure
from ui import library

ITEMS = "report_items"
REVIEWER, IMPRESSION = "report_reviewer", "report_impression"
LOADED = "report_loaded"  # the Library entry whose saved impression the fields hold


def items() -> list[dict[str, Any]]:
    """The items added so far, in order (a list held in ``st.session_state``)."""
    return st.session_state.setdefault(ITEMS, [])


def add_button(
    kind: str,
    title: str,
    fig: Any | Callable[[], Any],
    settings: str = "",
    *,
    key: str,
    caption: str = "",
    **analysis: Any,
) -> None:
    """A small "Add to report" button; ``fig`` (or a function building it on click) becomes an item
    (with ``caption`` to start from: the user may edit it on the Report page)."""
    if st.button("Add to report", key=f"report_add_{key}", icon=":material/note_add:", help="Add this figure as shown"):
        figure = fig() if callable(fig) else fig
        items().append(item_from_figure(kind, title, figure, settings, caption, **analysis).to_dict())
        st.toast(f"Added to the report: {title}", icon=":material/check:")


def validation_caption(method: str, where: Any = st) -> None:
    """One caption saying how ``method`` was validated, its figures read from ``benchmarks/results``."""
    text = validation.line(method)
    if text:
        where.caption(text)


def as_items() -> list[Item]:
    return [Item.from_dict(d) for d in items()]


def load_impression() -> None:
    """Fill the reviewer and impression fields with those saved for the open recording (when it changes)."""
    found = library.entry()
    loaded = found.id if found is not None else None
    if st.session_state.get(LOADED, "none yet") == loaded:
        return
    saved = library.latest_result("impression")
    st.session_state[LOADED] = loaded
    st.session_state[REVIEWER] = saved.payload.get("reviewer", "") if saved else ""
    st.session_state[IMPRESSION] = saved.payload.get("text", "") if saved else ""


def save_impression(reviewer: str, impression: str) -> None:
    """Autosave the impression and reviewer as typed; clearing the impression deletes the saved one."""
    if impression.strip():
        if library.save_result("impression", "impression", {"text": impression, "reviewer": reviewer}):
            st.session_state[LOADED] = library.entry().id  # a bundled sample may have just joined the Library
        return
    saved = library.latest_result("impression")
    if saved is not None:
        library.delete_result(saved)
