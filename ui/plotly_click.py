"""Clicks on a Plotly chart placed with ``st.plotly_chart``.

Streamlit reports selections (box, lasso, points of 2-D traces), not a click on
a 3-D surface. This component holds no view of its own: it finds the Plotly
chart placed with ``key=chart_key`` on the page and listens to the
``plotly_click`` events Plotly emits there (trace and point number).
"""

import re
from collections.abc import Callable

import streamlit as st

# The chart may be drawn after this component, or drawn anew (a purged chart
# gets a new event emitter, so a new ``on``), so look for it every half second.
# The listener belongs to this instance: a remounted component must not find
# the chart already claimed by the one before it, whose trigger is gone.
_JS = """
export default function (component) {
  const { data, setTriggerValue } = component;
  let chart = null;
  let listenedOn = null;
  const clicked = (event) => {
    const point = event && event.points && event.points[0];
    if (point) setTriggerValue("clicked", { curve: point.curveNumber, point: point.pointNumber });
  };
  const stop = () => {
    if (chart && chart.on === listenedOn) chart.removeListener("plotly_click", clicked);
  };
  const listen = () => {
    const found = document.querySelector(`.${data.chart_class} .js-plotly-plot`);
    if (!found || typeof found.on !== "function" || (found === chart && found.on === listenedOn)) return;
    stop();
    chart = found;
    listenedOn = found.on;
    chart.on("plotly_click", clicked);
  };
  listen();
  const timer = setInterval(listen, 500);
  return () => {
    clearInterval(timer);
    stop();
  };
}
"""
_component = st.components.v2.component("eeg_plotly_click", js=_JS, isolate_styles=False)


def on_plotly_click(chart_key: str, *, key: str, on_click: Callable[[int, int], None]) -> None:
    """Call ``on_click(curve, point)`` before the rerun that a click on the chart ``chart_key`` starts."""

    def clicked() -> None:
        value = st.session_state[key].get("clicked")
        if value and value.get("curve") is not None and value.get("point") is not None:
            on_click(int(value["curve"]), int(value["point"]))

    # Streamlit marks a keyed element with the class st-key-<key, other characters as "-">.
    chart_class = "st-key-" + re.sub(r"[^A-Za-z0-9_-]", "-", chart_key)
    _component(data={"chart_class": chart_class}, key=key, on_clicked_change=clicked)
