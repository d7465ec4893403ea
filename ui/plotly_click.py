"""Clicks on a Plotly chart placed with ``st.plotly_chart``.

Streamlit reports selections (box, lasso, points of 2-D traces), not a click on
a 3-D surface. This component holds no view of its own: it finds the Plotly
chart placed with ``key=chart_key`` on the page and listens to the
``plotly_click`` events Plotly emits there (trace and point number).
"""

import re
from collections.abc import Callable

import streamlit as st

# The chart may be drawn after this component, or drawn anew, so look for it
# again every half second and listen once per chart.
_JS = """
export default function (component) {
  const { data, setTriggerValue } = component;
  const listen = () => {
    const chart = document.querySelector(`.${data.chart_class} .js-plotly-plot`);
    if (!chart || typeof chart.on !== "function" || chart.__eegClicks) return;
    chart.__eegClicks = true;
    chart.on("plotly_click", (event) => {
      const point = event && event.points && event.points[0];
      if (point) setTriggerValue("clicked", { curve: point.curveNumber, point: point.pointNumber });
    });
  };
  listen();
  const timer = setInterval(listen, 500);
  return () => clearInterval(timer);
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
