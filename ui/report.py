"""The report's items in the session, and the "Add to report" button pages place under a figure.

An item is a plain dict (``backend.report.build.Item.to_dict``): its kind, the figure's
Plotly JSON as displayed, a caption and the settings line; the Report page lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from backend.report.build import Item, item_from_figure

ITEMS = "report_items"


def items() -> list[dict[str, Any]]:
    """The items added so far, in order (a list held in ``st.session_state``)."""
    return st.session_state.setdefault(ITEMS, [])


def add_button(
    kind: str, title: str, fig: Any | Callable[[], Any], settings: str = "", *, key: str, **analysis: Any
) -> None:
    """A small "Add to report" button; ``fig`` (or a function building it on click) becomes an item."""
    if st.button("Add to report", key=f"report_add_{key}", icon=":material/note_add:", help="Add this figure as shown"):
        figure = fig() if callable(fig) else fig
        items().append(item_from_figure(kind, title, figure, settings, **analysis).to_dict())
        st.toast(f"Added to the report: {title}", icon=":material/check:")


def as_items() -> list[Item]:
    return [Item.from_dict(d) for d in items()]
