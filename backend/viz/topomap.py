"""Scalp maps as Plotly heatmaps: interpolated values, head outline, nose, ears, electrodes."""

from __future__ import annotations

import mne
import numpy as np
import plotly.graph_objects as go
from scipy.interpolate import RBFInterpolator

from backend.channels import is_placed
from backend.errors import EEGError

GRID = 64
HEAD_RADIUS = 1.0


def sensor_xy(info: mne.Info, picks=None) -> tuple[np.ndarray, list[str]]:
    """2-D scalp positions of the picked channels that have a 3-D position.

    Azimuthal equidistant projection about the sphere fitted to the electrodes, so
    the electrodes at the head's equator (T7, Oz, Fpz …) lie on the unit circle.

    Returns
    -------
    xy : ndarray, shape (n_sensors, 2)
    names : list of str
    """
    picks = mne.pick_types(info, eeg=True, exclude="bads") if picks is None else picks
    names, pos = [], []
    for p in picks:
        loc = info["chs"][p]["loc"][:3]
        if is_placed(loc):
            names.append(info["ch_names"][p])
            pos.append(loc)
    if len(pos) < 3:
        raise EEGError("a scalp map needs at least 3 channels with electrode positions")
    xyz = np.asarray(pos, dtype=float)
    center = _fit_sphere(xyz)
    rel = xyz - center
    r = np.linalg.norm(rel, axis=1)
    theta = np.arccos(np.clip(rel[:, 2] / r, -1, 1)) / (np.pi / 2)
    phi = np.arctan2(rel[:, 1], rel[:, 0])
    return np.c_[theta * np.cos(phi), theta * np.sin(phi)] * HEAD_RADIUS, names


def _fit_sphere(pos: np.ndarray) -> np.ndarray:
    """Centre of the least-squares sphere through the points (falls back to their mean)."""
    if len(pos) < 8:
        return np.r_[pos[:, :2].mean(axis=0), pos[:, 2].min()]
    a = np.c_[2 * pos, np.ones(len(pos))]
    solution, *_ = np.linalg.lstsq(a, (pos**2).sum(axis=1), rcond=None)
    return solution[:3]


def interpolate(values: np.ndarray, xy: np.ndarray, grid: int = GRID):
    """Values on a square grid covering the head; NaN outside it."""
    extent = max(HEAD_RADIUS, float(np.linalg.norm(xy, axis=1).max())) * 1.08
    axis = np.linspace(-extent, extent, grid)
    gx, gy = np.meshgrid(axis, axis)
    points = np.c_[gx.ravel(), gy.ravel()]
    interp = RBFInterpolator(xy, np.asarray(values, float), kernel="thin_plate_spline", smoothing=1e-6)
    z = interp(points).reshape(grid, grid)
    z[np.hypot(gx, gy) > extent] = np.nan
    return axis, z


def head_shapes(line_color: str = "#444") -> list[dict]:
    """Layout shapes for the head outline, nose and ears (unit-radius head)."""
    r = HEAD_RADIUS
    style = {"line": {"color": line_color, "width": 1.5}, "layer": "above"}
    nose = f"M {-0.18 * r} {0.985 * r} L 0 {1.15 * r} L {0.18 * r} {0.985 * r}"
    t = np.linspace(-0.4, 0.4, 12)

    def ear(side: int) -> str:
        return "M " + " L ".join(
            f"{side * (r + 0.08 * r * np.cos(a * 3.6))} {a * 0.45 * r / 0.4 * 0.4 + 0.0}" for a in t
        )

    return [
        {"type": "circle", "x0": -r, "y0": -r, "x1": r, "y1": r, **style},
        {"type": "path", "path": nose, **style},
        {"type": "path", "path": ear(1), **style},
        {"type": "path", "path": ear(-1), **style},
    ]


def topomap_traces(
    values,
    xy,
    names,
    *,
    colorscale="RdBu_r",
    zmid=0.0,
    unit="",
    showscale=True,
    grid: int = GRID,
    marker_size: int = 5,
    coloraxis=None,
):
    """The heatmap and electrode traces of one scalp map (for figures or subplots)."""
    values = np.asarray(values, float)
    axis, z = interpolate(values, xy, grid)
    heat = go.Heatmap(
        x=axis,
        y=axis,
        z=z,
        colorscale=colorscale,
        zsmooth="best",
        hoverinfo="skip",
        showscale=showscale,
        colorbar={"title": {"text": unit}, "thickness": 12},
    )
    if coloraxis:
        heat.update(coloraxis=coloraxis)
    elif zmid is not None:
        lim = float(np.nanmax(np.abs(z))) or 1.0
        heat.update(zmin=zmid - lim, zmax=zmid + lim)
    dots = go.Scatter(
        x=xy[:, 0],
        y=xy[:, 1],
        mode="markers",
        marker={"size": marker_size, "color": "black"},
        text=[f"{n}: {v:.3g} {unit}" for n, v in zip(names, values)],
        hoverinfo="text",
        showlegend=False,
    )
    return [heat, dots]


def square_axes(fig: go.Figure, row=None, col=None) -> None:
    """Equal, hidden axes so the head is round."""
    kw = {"row": row, "col": col} if row is not None else {}
    fig.update_xaxes(visible=False, range=[-1.3, 1.3], **kw)
    fig.update_yaxes(visible=False, range=[-1.3, 1.3], scaleanchor="x" if row is None else None, **kw)


def topomap_figure(
    values,
    info: mne.Info,
    picks=None,
    *,
    title: str = "",
    unit: str = "",
    colorscale: str = "RdBu_r",
    zmid: float | None = 0.0,
    height: int = 360,
) -> go.Figure:
    """One interactive scalp map of ``values`` (one per picked channel)."""
    picks = mne.pick_types(info, eeg=True, exclude="bads") if picks is None else np.asarray(picks)
    xy, names = sensor_xy(info, picks)
    by_name = dict(zip([info["ch_names"][p] for p in picks], np.asarray(values, float)))
    fig = go.Figure(topomap_traces([by_name[n] for n in names], xy, names, colorscale=colorscale, zmid=zmid, unit=unit))
    fig.update_layout(
        title=title,
        height=height,
        width=height + 60,
        shapes=head_shapes(),
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        plot_bgcolor="white",
        xaxis={"visible": False, "range": [-1.3, 1.3]},
        yaxis={"visible": False, "range": [-1.3, 1.3], "scaleanchor": "x"},
    )
    return fig
