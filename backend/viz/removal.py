"""What a cleaning removed, per channel: the bars and the scalp map that the Clean and
Components pages share (values from :func:`backend.clean.metrics.variance_removed`)."""

from __future__ import annotations

import math

import mne
import numpy as np
import plotly.graph_objects as go

from backend.errors import EEGError
from backend.viz.topomap import topomap_figure

REMOVED_COLOR = "#1f4e9c"
ADDED_COLOR = "#c0392b"  # cleaning added variance (e.g. a dead channel repaired)
AXIS_TITLE = "variance removed above 1 Hz (%)"


def variance_removed_figure(removed: dict[str, float]) -> go.Figure:
    """Bar per channel of the variance removed (percent); channels flat before read "n/a"."""
    names = list(removed)
    values = np.array([removed[n] for n in names], dtype=float)
    fig = go.Figure(
        go.Bar(
            x=names,
            y=values,
            marker_color=np.where(values < 0, ADDED_COLOR, REMOVED_COLOR),
            text=["n/a" if math.isnan(v) else "" for v in values],
            textposition="outside",
            hovertemplate="%{x}: %{y:.1f}%<extra></extra>",
        )
    )
    fig.update_layout(
        height=300,
        yaxis={"title": AXIS_TITLE, "gridcolor": "#eee"},
        plot_bgcolor="white",
        margin={"l": 60, "r": 10, "t": 10, "b": 60},
    )
    return fig


def variance_removed_topomap(removed: dict[str, float], info: mne.Info) -> go.Figure | None:
    """Scalp map of the variance removed (channels reading "n/a" left out); None where too few
    channels have positions to draw one."""
    picks = [info["ch_names"].index(n) for n, v in removed.items() if n in info["ch_names"] and not math.isnan(v)]
    values = np.array([removed[info["ch_names"][p]] for p in picks], dtype=float)
    try:
        return topomap_figure(
            values, info, picks, title="variance removed", unit="%", colorscale="Blues", zmid=None, height=300
        )
    except (ValueError, RuntimeError, IndexError, EEGError):  # no or too few positions to draw a head
        return None
