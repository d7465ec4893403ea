"""The Browse page's canvas views (trace page and overview strip): a Streamlit component
drawing the data of :func:`backend.browse.figures.page_view_data` and
:func:`~backend.browse.figures.overview_view_data` (the drawing code is ``trace_view.js``)."""

from collections.abc import Callable
from pathlib import Path

import streamlit as st

_JS = Path(__file__).with_name("trace_view.js").read_text(encoding="utf-8")
_CSS = """
.eeg-page-view, .eeg-overview-view { position: relative; width: 100%; }
.eeg-page-view canvas, .eeg-overview-view canvas { display: block; }
.eeg-caption { height: 22px; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; font: 14px "Source Sans Pro", sans-serif; color: rgba(49, 51, 63, 0.6); padding: 2px 0; }
.eeg-tip { position: absolute; display: none; pointer-events: none; background: rgba(255,255,255,.92);
  border: 1px solid #999; border-radius: 3px; padding: 2px 6px; font: 12px sans-serif; white-space: nowrap; }
"""
_component = st.components.v2.component("eeg_trace_view", js=_JS, css=_CSS, isolate_styles=False)


def trace_view(
    data: dict,
    *,
    key: str,
    on_span: Callable[[float, float], None] | None = None,
    on_goto: Callable[[float], None] | None = None,
) -> None:
    """Place the trace view of one page (``data`` from ``page_view_data``, with a ``caption``
    line); a span dragged across the traces calls ``on_span(start_s, stop_s)`` before the rerun.

    With ``data["fetch"]`` (the page route of :mod:`ui.page_server`, and ``timebase`` and
    ``duration``), the page's Prev/Next buttons and ← → keys turn pages in the browser: the view
    fetches the next page and draws it, with no rerun. Where the route does not answer, it asks
    for the page by a rerun instead: ``on_goto(start_s)``."""

    def dragged() -> None:
        span = st.session_state[key].get("span")
        if on_span is not None and span and len(span) == 2:
            on_span(float(span[0]), float(span[1]))

    def asked() -> None:
        goto = st.session_state[key].get("goto")
        if on_goto is not None and goto is not None:
            on_goto(float(goto))

    # The caption line sits under the canvas, inside the component: it changes with the page.
    _component(data=data, key=key, height=data["height"] + 24, on_span_change=dragged, on_goto_change=asked)


def overview_view(data: dict, *, key: str, on_goto: Callable[[float], None]) -> None:
    """Place the overview strip; a click calls ``on_goto(seconds)`` before the rerun."""

    def clicked() -> None:
        goto = st.session_state[key].get("goto")
        if goto is not None:
            on_goto(float(goto))

    _component(data=data, key=key, height=data["height"], on_goto_change=clicked)
