"""Plotly figures of the sources stage: 3-D cortex maps, time courses, dipoles in a head.

The cortex is nilearn's fsaverage5 mesh (10242 vertices a hemisphere). The
inverse runs on a subset of its vertices (ico4: 2562), so each mesh vertex
takes the value of the nearest source on the registration sphere. Frames carry
only the per-vertex colour, quantised to one byte, which keeps a 30-frame
figure near 2 MB.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import plotly.graph_objects as go
from scipy.spatial import cKDTree

from backend.errors import EEGError
from backend.sources import template
from backend.viz.topomap import head_shapes, interpolate, sensor_xy

SURFACES = ("pial", "inflated", "white")
VIEWS: dict[str, dict[str, Any]] = {
    "left lateral": {"eye": (-1.8, 0.0, 0.1), "hemis": ("lh", "rh")},
    "right lateral": {"eye": (1.8, 0.0, 0.1), "hemis": ("lh", "rh")},
    "left medial": {"eye": (1.8, 0.0, 0.1), "hemis": ("lh",)},
    "right medial": {"eye": (-1.8, 0.0, 0.1), "hemis": ("rh",)},
    "top": {"eye": (0.0, -0.1, 1.9), "hemis": ("lh", "rh")},
    "front": {"eye": (0.0, 1.9, 0.1), "hemis": ("lh", "rh")},
    "back": {"eye": (0.0, -1.9, 0.1), "hemis": ("lh", "rh")},
}
_LEVELS = 255
_SCALP_GRID = 48  # a coarser grid than a lone topomap's: one map per frame travels with the figure
_SCENE = {
    "xaxis": {"visible": False},
    "yaxis": {"visible": False},
    "zaxis": {"visible": False},
    "aspectmode": "data",
}


@lru_cache(maxsize=8)
def _display_mesh(hemi: str, surface: str) -> tuple[np.ndarray, np.ndarray]:
    """Mesh in mm; inflated hemispheres are moved apart so they do not overlap."""
    if surface not in SURFACES:
        raise EEGError(f"surface must be one of {', '.join(SURFACES)}, got {surface!r}")
    rr, tris = template.cortex_mesh(hemi, surface)
    rr = rr * 1000.0
    if surface == "inflated":
        # Put each hemisphere's medial face 5 mm from the midline.
        shift = (-5.0 - rr[:, 0].max()) if hemi == "lh" else (5.0 - rr[:, 0].min())
        rr = rr + [shift, 0.0, 0.0]
    return rr.astype(np.float32), tris.astype(np.int32)


@lru_cache(maxsize=8)
def _nearest_source(hemi: str, vertices: tuple) -> np.ndarray:
    """For every fsaverage5 vertex, the row (within ``vertices``) of its nearest source."""
    sphere, _ = template.cortex_mesh(hemi, "sphere")
    return cKDTree(sphere[list(vertices)]).query(sphere)[1]


def vertex_values(stc, time_index: int) -> dict[str, np.ndarray]:
    """Values of ``stc`` at one time on the full fsaverage5 mesh of each hemisphere."""
    out = {}
    n_lh = len(stc.vertices[0])
    for h, hemi in enumerate(template.HEMIS):
        rows = slice(0, n_lh) if h == 0 else slice(n_lh, None)
        values = np.abs(stc.data[rows, time_index])
        out[hemi] = values[_nearest_source(hemi, tuple(int(v) for v in stc.vertices[h]))]
    return out


def peak_view(result) -> str:
    """The view that shows the peak: its hemisphere, from the side it faces (medial within 20 mm of the midline)."""
    side = "left" if result.peak["hemi"] == "lh" else "right"
    medial = abs(result.peak["pos_mm"][0]) < 20.0
    return f"{side} {'medial' if medial else 'lateral'}"


def frame_indices(times: np.ndarray, peak_time: float, n_frames: int = 30) -> np.ndarray:
    """Up to ``n_frames`` evenly spread time indices, always including the peak."""
    n = len(times)
    idx = np.unique(np.round(np.linspace(0, n - 1, min(n, n_frames))).astype(int))
    peak = int(np.argmin(np.abs(times - peak_time)))
    return np.unique(np.r_[idx, peak])


def _colorscale(threshold: float) -> list:
    """Grey below ``threshold`` (fraction of the maximum), then yellow to dark red."""
    t = float(np.clip(threshold, 0.0, 0.99))
    scale: list[list] = [[0.0, "#d9d9d9"], [t, "#d9d9d9"]]
    hot = ["#fee391", "#fe9929", "#ec7014", "#cc4c02", "#8c2d04"]
    for i, colour in enumerate(hot):
        scale.append([t + (1 - t) * i / (len(hot) - 1) + (1e-6 if i == 0 else 0.0), colour])
    scale[2][0] = min(scale[2][0], 1.0)
    return scale


def cortex_figure(
    result,
    *,
    surface: str = "pial",
    view: str = "left lateral",
    threshold: float = 0.5,
    n_frames: int = 30,
    time: float | None = None,
    scalp: bool = True,
    height: int = 560,
) -> go.Figure:
    """The source estimate on the 3-D cortex, with a time slider and play button.

    With ``scalp``, the scalp map being localised sits beside the cortex and
    moves with it when the slider moves or the animation plays.

    Parameters
    ----------
    result : backend.sources.inverse.SourceResult
    surface : {'pial', 'inflated', 'white'}
    view : one of :data:`VIEWS`
    threshold : float
        Fraction (0-1) of the largest value below which the cortex stays grey.
    n_frames : int
        Time points in the animation (the peak's moment is always one).
    time : float, optional
        Moment (s) shown first (default: the peak's); it is added to the frames.
    """
    if view not in VIEWS:
        raise EEGError(f"view must be one of {', '.join(VIEWS)}, got {view!r}")
    stc, peak = result.stc, result.peak
    hemis = VIEWS[view]["hemis"]
    shown = peak["time"] if time is None else float(time)
    frames_idx = np.unique(
        np.r_[frame_indices(stc.times, peak["time"], n_frames), np.argmin(np.abs(stc.times - shown))]
    )
    per_frame = [vertex_values(stc, i) for i in frames_idx]
    vmax = max(float(np.abs(stc.data).max()), 1e-30)

    def level(values):  # one byte a vertex: the payload stays small
        return np.round(np.clip(values / vmax, 0, 1) * _LEVELS).astype(np.uint8)

    start = int(np.flatnonzero(frames_idx == int(np.argmin(np.abs(stc.times - shown))))[0])
    colorscale = _colorscale(threshold)
    unit = result.unit()
    ticks = np.linspace(0, _LEVELS, 5)
    traces = []
    for hemi in hemis:
        rr, tris = _display_mesh(hemi, surface)
        traces.append(
            go.Mesh3d(
                x=rr[:, 0],
                y=rr[:, 1],
                z=rr[:, 2],
                i=tris[:, 0],
                j=tris[:, 1],
                k=tris[:, 2],
                intensity=level(per_frame[start][hemi]),
                intensitymode="vertex",
                colorscale=colorscale,
                cmin=0,
                cmax=_LEVELS,
                showscale=hemi == hemis[-1],
                colorbar={
                    "title": {"text": unit},
                    "tickvals": ticks,
                    "ticktext": [f"{vmax * t / _LEVELS:.2g}" for t in ticks],
                    "len": 0.6,
                },
                lighting={"ambient": 0.7, "diffuse": 0.5, "specular": 0.05, "roughness": 0.9},
                # "none", not "skip": no label, but clicks still reach clicked_source.
                hoverinfo="none",
                name=hemi,
                flatshading=False,
            )
        )
    if peak["hemi"] in hemis:
        prr, _ = _display_mesh(peak["hemi"], surface)
        p = prr[peak["vertex"]]
        traces.append(
            go.Scatter3d(
                x=[p[0]],
                y=[p[1]],
                z=[p[2]],
                mode="markers+text",
                text=["peak"],
                textposition="top center",
                marker={"size": 7, "color": "#1f77b4", "symbol": "diamond"},
                hovertext=[f"{peak['region']}<br>{peak['pos_mm']} mm<br>{peak['time']:.3f} s"],
                hoverinfo="text",
                name="peak",
                showlegend=False,
            )
        )
    animated = list(range(len(hemis)))
    scalp_maps: list = []
    if scalp:
        scalp_traces, scalp_maps = _scalp_panel(result.evoked, frames_idx, start)
        animated.append(len(traces))
        traces += scalp_traces
    frames = [
        go.Frame(
            name=f"{stc.times[i]:.3f}",
            data=[go.Mesh3d(intensity=level(values[h])) for h in hemis]
            + ([go.Heatmap(z=scalp_maps[n])] if scalp else []),
            traces=animated,
        )
        for n, (i, values) in enumerate(zip(frames_idx, per_frame))
    ]
    steps = [
        {
            "method": "animate",
            "label": f"{stc.times[i]:.3f}",
            "args": [
                [f"{stc.times[i]:.3f}"],
                {"mode": "immediate", "frame": {"duration": 0, "redraw": True}, "transition": {"duration": 0}},
            ],
        }
        for i in frames_idx
    ]
    fig = go.Figure(data=traces, frames=frames)
    eye = VIEWS[view]["eye"]
    up = {"x": 0, "y": 1, "z": 0} if view == "top" else {"x": 0, "y": 0, "z": 1}
    fig.update_layout(
        height=height,
        margin={"l": 0, "r": 0, "t": 30, "b": 0},
        title={"text": f"{result.method} · {surface} · {view}", "x": 0.01, "font": {"size": 13}},
        scene=dict(
            _SCENE,
            camera={"eye": dict(zip("xyz", eye)), "up": up},
            domain={"x": [0.0, 0.6] if scalp else [0.0, 1.0], "y": [0.0, 1.0]},
        ),
        sliders=[
            {
                "active": start,
                "steps": steps,
                "currentvalue": {"prefix": "t = ", "suffix": " s"},
                "pad": {"t": 10},
                "len": 0.86,
                "x": 0.14,
            }
        ],
        # Play and pause side by side, left of the slider and clear of its "t =" label.
        updatemenus=[
            {
                "type": "buttons",
                "direction": "left",
                "showactive": False,
                "x": 0.0,
                "y": 0.0,
                "xanchor": "left",
                "yanchor": "top",
                "pad": {"t": 28},
                "buttons": [
                    {
                        "label": "▶",
                        "method": "animate",
                        "args": [
                            None,
                            {
                                "frame": {"duration": 250, "redraw": True},
                                "fromcurrent": True,
                                "transition": {"duration": 0},
                            },
                        ],
                    },
                    {
                        "label": "❚❚",
                        "method": "animate",
                        "args": [[None], {"mode": "immediate", "frame": {"duration": 0, "redraw": False}}],
                    },
                ],
            }
        ],
    )
    if scalp:
        fig.update_traces(colorbar_x=0.6, selector={"type": "mesh3d"})
        fig.update_layout(
            xaxis={"domain": [0.7, 0.95], "visible": False, "range": [-1.3, 1.3]},
            yaxis={"domain": [0.15, 0.9], "visible": False, "range": [-1.3, 1.3], "scaleanchor": "x"},
            shapes=head_shapes(),
            plot_bgcolor="white",
            annotations=[
                {
                    "text": "scalp map (µV, average reference)",
                    "x": 0.82,
                    "y": 0.97,
                    "xref": "paper",
                    "yref": "paper",
                    "showarrow": False,
                    "font": {"size": 12},
                }
            ],
        )
    return fig


def _scalp_panel(evoked, frames_idx, start: int) -> tuple[list, list[np.ndarray]]:
    """The scalp map panel: its traces (heatmap, animated, then electrodes) and the map
    (µV on the topomap grid) of each frame, all on one colour range."""
    xy, names = sensor_xy(evoked.info)
    rows = [evoked.ch_names.index(n) for n in names]
    axis, maps = None, []
    for i in frames_idx:
        axis, z = interpolate(evoked.data[rows, i] * 1e6, xy, _SCALP_GRID)
        maps.append(z.astype(np.float32))
    lim = max(float(np.nanmax(np.abs(m))) for m in maps) or 1.0
    traces = [
        go.Heatmap(
            x=axis,
            y=axis,
            z=maps[start],
            colorscale="RdBu_r",
            zmin=-lim,
            zmax=lim,
            zsmooth="best",
            hoverinfo="skip",
            colorbar={"title": {"text": "µV"}, "thickness": 12, "len": 0.5, "x": 0.97},
        ),
        go.Scatter(
            x=xy[:, 0],
            y=xy[:, 1],
            mode="markers",
            marker={"size": 4, "color": "black"},
            text=names,
            hoverinfo="text",
            showlegend=False,
        ),
    ]
    return traces, maps


def clicked_source(result, view: str, curve: int, point: int) -> int | None:
    """The source (row of ``result.stc.data``) under a click on :func:`cortex_figure`.

    ``curve`` and ``point`` are Plotly's trace and point numbers: the figure's
    first traces are the view's hemispheres, whose points are fsaverage5
    vertices, each shown with its nearest source's value, so that source is the
    one clicked. A click on the peak's marker gives the peak. ``None`` for
    anything else.
    """
    if view not in VIEWS:
        raise EEGError(f"view must be one of {', '.join(VIEWS)}, got {view!r}")
    hemis = VIEWS[view]["hemis"]
    stc = result.stc
    if curve == len(hemis) and result.peak["hemi"] in hemis:
        return int(result.peak["index"])
    if not (0 <= curve < len(hemis) and 0 <= point < template.ICO_VERTICES[5]):
        return None
    h = template.HEMIS.index(hemis[curve])
    row = int(_nearest_source(hemis[curve], tuple(int(v) for v in stc.vertices[h]))[point])
    return row + (len(stc.vertices[0]) if h == 1 else 0)


def source_label(result, index: int) -> str:
    """A source's region and template position, for titles and captions."""
    from backend.sources.atlas import region_name

    pos_mm = np.round(result.positions[index] * 1000, 1)
    return f"{region_name(pos_mm)}, at {', '.join(f'{v:.0f}' for v in pos_mm)} mm"


def timecourse_figure(result, index: int | None = None, height: int = 260) -> go.Figure:
    """Source strength over time at one source (default: the peak)."""
    index = result.peak["index"] if index is None else int(index)
    if not 0 <= index < result.stc.data.shape[0]:
        raise EEGError(f"source index must be between 0 and {result.stc.data.shape[0] - 1}")
    fig = go.Figure(go.Scatter(x=result.stc.times, y=result.stc.data[index], mode="lines", line={"width": 1.5}))
    fig.add_vline(x=result.peak["time"], line={"dash": "dot", "color": "#888"})
    fig.update_layout(
        height=height,
        margin={"l": 50, "r": 10, "t": 30, "b": 40},
        xaxis_title="time (s)",
        yaxis_title=result.unit(),
        title={"text": f"{source_label(result, index)} · source {index}", "font": {"size": 13}},
    )
    return fig


def butterfly_figure(evoked, time: float | None = None, height: int = 280, max_points: int = 2000) -> go.Figure:
    """Every electrode of what was localised over time (µV), one line each, ``time`` (s) marked.

    A long window is thinned to about ``max_points`` samples a line for display (every k-th sample).
    """
    data = evoked.data * 1e6
    step = max(1, int(np.ceil(data.shape[1] / max_points)))
    times = evoked.times[::step]
    averaged = evoked.comment != "window"
    fig = go.Figure(
        [
            go.Scatter(x=times, y=row[::step], mode="lines", name=name, line={"width": 1}, opacity=0.7)
            for name, row in zip(evoked.ch_names, data, strict=True)
        ]
    )
    if averaged:
        fig.add_vline(x=0.0, line={"color": "#888", "width": 1})
    if time is not None:
        fig.add_vline(x=float(time), line={"color": "#d62728", "width": 2}, annotation_text=f"{time:.3f} s")
    title = f"Averaged response ({evoked.nave} epochs)" if averaged else "The window localised"
    fig.update_layout(
        height=height,
        margin={"l": 50, "r": 10, "t": 30, "b": 40},
        xaxis_title="time (s)",
        yaxis_title="µV",
        showlegend=False,
        title={"text": title, "font": {"size": 13}},
    )
    return fig


def dipole_figure(fit, *, height: int = 480, length_mm: float = 30.0) -> go.Figure:
    """The dipole as an arrow inside a translucent template head and cortex."""
    scalp = template.scalp_surface()
    sr, st = scalp["rr"] * 1000, scalp["tris"]
    traces = [
        go.Mesh3d(
            x=sr[:, 0],
            y=sr[:, 1],
            z=sr[:, 2],
            i=st[:, 0],
            j=st[:, 1],
            k=st[:, 2],
            color="#e8c4a8",
            opacity=0.15,
            hoverinfo="skip",
            name="scalp",
        ),
    ]
    for hemi in template.HEMIS:
        rr, tris = _display_mesh(hemi, "pial")
        traces.append(
            go.Mesh3d(
                x=rr[:, 0],
                y=rr[:, 1],
                z=rr[:, 2],
                i=tris[:, 0],
                j=tris[:, 1],
                k=tris[:, 2],
                color="#bbbbbb",
                opacity=0.12,
                hoverinfo="skip",
                name=hemi,
            )
        )
    p, o = np.asarray(fit.pos_mm, float), np.asarray(fit.ori, float)
    tip = p + o * length_mm
    traces.append(
        go.Scatter3d(
            x=[p[0], tip[0]],
            y=[p[1], tip[1]],
            z=[p[2], tip[2]],
            mode="lines",
            line={"width": 10, "color": "#d62728"},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    traces.append(
        go.Cone(
            x=[tip[0]],
            y=[tip[1]],
            z=[tip[2]],
            u=[o[0]],
            v=[o[1]],
            w=[o[2]],
            sizemode="absolute",
            sizeref=10,
            anchor="tail",
            colorscale=[[0, "#d62728"], [1, "#d62728"]],
            showscale=False,
            hoverinfo="skip",
        )
    )
    traces.append(
        go.Scatter3d(
            x=[p[0]],
            y=[p[1]],
            z=[p[2]],
            mode="markers",
            marker={"size": 5, "color": "#d62728"},
            hovertext=[f"{fit.region}<br>{np.round(p, 1).tolist()} mm<br>GOF {fit.gof:.1f}%"],
            hoverinfo="text",
            showlegend=False,
        )
    )
    fig = go.Figure(traces)
    fig.update_layout(
        height=height,
        margin={"l": 0, "r": 0, "t": 30, "b": 0},
        showlegend=False,
        title={"text": f"dipole · GOF {fit.gof:.1f}% · {fit.region}", "font": {"size": 13}, "x": 0.01},
        scene=dict(_SCENE, camera={"eye": {"x": -1.5, "y": 0.8, "z": 0.5}}),
    )
    return fig


def payload_bytes(fig: go.Figure) -> int:
    """Size of the figure's JSON as sent to the browser."""
    return len(fig.to_json().encode())
