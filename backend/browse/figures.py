"""What the Browse page draws: the trace page and the overview strip (as data for the
page's canvas views, and the trace page also as a Plotly figure), spectra and band-power
scalp maps (Plotly).

Rows are stacked on a y axis measured in screen millimetres (:func:`page_geometry`, shared
by both trace views), so a sensitivity in µV/mm means what it means on a clinical station.
The canvas view is the default because Streamlit mounts a new chart for every new Plotly
figure: 0.6–0.8 s of browser CPU per 64-row page without a GPU, against about 0.1 s. The
Plotly view is SVG by default (WebGL is software-rendered without a GPU: 2–3 s a page);
its hover shows the value in µV from ``customdata``.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

import mne
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from backend.browse.display import BANDS_HZ, Page
from backend.browse.montages import side
from backend.channels import standard_label
from backend.viz.topomap import head_shapes, sensor_xy, square_axes, topomap_traces

PX_PER_MM = 96 / 25.4  # a 96-dpi screen; the page lets users set their own
COLORS = {"left": "#1f4e9c", "right": "#b0262b", "mid": "#222222", "bad": "#b8b8b8"}
LABEL_COLORS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
_MARGIN = {"l": 90, "r": 90, "t": 36, "b": 36}
_NICE = (1, 2, 5)
Y_UNITS_PER_MM = 40


def _nice(value: float) -> float:
    """The largest 1-2-5 number not above ``value``."""
    magnitude = 10 ** np.floor(np.log10(max(value, 1e-12)))
    return max(m * magnitude for m in _NICE if m * magnitude <= value + 1e-12)


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def label_color(label: str, all_labels) -> str:
    return LABEL_COLORS[list(all_labels).index(label) % len(LABEL_COLORS)] if label in all_labels else LABEL_COLORS[0]


def page_height(n_rows: int, row_px: int = 20) -> int:
    """A figure height giving each row about ``row_px`` pixels."""
    return int(np.clip(n_rows * row_px, 280, 3000) + _MARGIN["t"] + _MARGIN["b"])


# What the page shows around the traces while they are on screen (navigation, overview
# strip, caption): the figure gets the rest of the window.
FIT_CHROME_PX = 220
FIT_WINDOW_PX = 1000


def fit_height(window_px: int = FIT_WINDOW_PX) -> int:
    """A figure height that fits all rows, whatever their number, in a ``window_px``-high window."""
    return int(max(280 + _MARGIN["t"] + _MARGIN["b"], window_px - FIT_CHROME_PX))


_VENDOR_PREFIX = re.compile(r"^(POL|EEG)\s+", re.IGNORECASE)


def clean_name(label: str) -> str:
    """A channel label as a reader expects it (the raw one goes on hover).

    ``'EEG Fp1-Ref'`` -> ``'Fp1'``, ``'POL X1'`` -> ``'X1'``, ``'$A1'`` -> ``'A1 (aux)'`` (Nihon Kohden's
    ``$`` inputs are auxiliary channels, not the ear electrodes); montage rows (``'Fp1-F7'``,
    ``'Cz-avg'``) are left as they are.
    """
    core = _VENDOR_PREFIX.sub("", label.strip())
    if core.startswith("$") and len(core) > 1:
        return f"{core[1:]} (aux)"
    if core != label or re.search(r"-ref$", label, re.IGNORECASE) or label.endswith("."):
        return standard_label(label) or core
    return label


@dataclass(frozen=True)
class PageGeometry:
    """Where each row of a page sits, in the units both trace views draw in.

    Rows are stacked on a y axis measured in screen millimetres (``Y_UNITS_PER_MM``
    units a millimetre, a tenth of a pixel), from 0 at the top down to ``-plot_mm``.

    Attributes
    ----------
    height : int
        Figure height in pixels (margins included).
    plot_mm, row_mm : float
        Height of the trace area and of one row, in screen millimetres.
    offsets_mm : ndarray
        Centre line of each row (negative, top row first).
    ys : ndarray, int16, shape (n_rows, n_points)
        The traces in y units: half the bytes of float32.
    bar_uv : float
        The scale bar's height in µV: a round number close to one row.
    ticks : ndarray
        Time-axis tick positions (s).
    clip_units : float or None
        Half a row in y units when traces are clipped at their row's band, else None.
    """

    height: int
    plot_mm: float
    row_mm: float
    offsets_mm: np.ndarray
    ys: np.ndarray
    bar_uv: float
    ticks: np.ndarray
    clip_units: float | None = None


def _plot_mm(height: int, px_per_mm: float) -> float:
    """Height of the trace area (the figure less its top and bottom margins), in screen mm."""
    return (height - _MARGIN["t"] - _MARGIN["b"]) / px_per_mm


def row_height_mm(n_rows: int, *, height: int | None = None, px_per_mm: float = PX_PER_MM) -> float:
    """Screen millimetres each of ``n_rows`` rows gets (what autoscaling needs before the layout)."""
    n = max(1, n_rows)
    return _plot_mm(height or page_height(n), px_per_mm) / n


def page_geometry(
    page: Page, sensitivity: float, *, px_per_mm: float = PX_PER_MM, height: int | None = None, clip: bool = True
) -> PageGeometry:
    """Lay one page out at ``sensitivity`` µV per screen millimetre.

    With ``clip`` (the default, as on clinical review stations) each trace is cut at its
    row's band, half a row above and below its centre line, so one large artifact does not
    cross the other rows.
    """
    n = max(1, len(page.labels))
    height = height or page_height(n)
    plot_mm = _plot_mm(height, px_per_mm)
    row_mm = plot_mm / n
    offsets = -(np.arange(n) + 0.5) * row_mm
    scale = 1e6 / sensitivity * Y_UNITS_PER_MM  # volts -> y units
    rel = page.values * scale
    clip_units = row_mm / 2 * Y_UNITS_PER_MM if clip else None
    if clip_units is not None:
        rel = np.clip(rel, -clip_units, clip_units)
    ys = np.clip(rel + (offsets * Y_UNITS_PER_MM)[:, None], -32767, 32767).astype(np.int16)
    step = 1 if page.duration <= 20 else 5
    ticks = np.arange(np.ceil(page.start / step) * step, page.start + page.duration + 1e-9, step)
    return PageGeometry(height, plot_mm, row_mm, offsets, ys, _nice(sensitivity * row_mm), ticks, clip_units)


def _row_color(label: str, bad: bool) -> str:
    return COLORS["bad"] if bad else COLORS[side(label)]


def _row_name(label: str, bad: bool) -> str:
    return clean_name(label) + (" (bad)" if bad else "")


def _raw_name(label: str) -> str:
    """The recorded name, where the row shows a cleaned one ('' otherwise)."""
    return label if clean_name(label) != label else ""


def page_figure(
    page: Page,
    sensitivity: float,
    *,
    px_per_mm: float = PX_PER_MM,
    height: int | None = None,
    annotations=(),
    events=(),
    all_labels=(),
    title: str = "",
    webgl: bool = False,
    clip: bool = True,
    select: bool = False,
) -> go.Figure:
    """The stacked traces of one page.

    Parameters
    ----------
    page : Page
        From :func:`backend.browse.display.read_page`.
    sensitivity : float
        µV per screen millimetre.
    px_per_mm : float
        The screen's pixels per millimetre.
    height : int, optional
        Figure height in pixels (default about 20 px a row).
    annotations : list of dict
        Rows of :func:`backend.browse.annotations.in_window`: shaded spans with labels.
    events : list of dict
        Stim-channel events ``{'time', 'value', 'channel'}``: drawn as markers.
    all_labels : sequence of str
        Every annotation label of the recording, so each keeps its colour from page to page.
    webgl : bool
        Draw traces with WebGL (``scattergl``) instead of SVG: faster where the browser has a GPU.
    clip : bool
        Cut each trace at its row's band (:func:`page_geometry`); hover still reads the true value.
    select : bool
        Dragging selects a time span (to annotate it) instead of zooming.
    """
    geo = page_geometry(page, sensitivity, px_per_mm=px_per_mm, height=height, clip=clip)
    n, height, plot_mm, row_mm, offsets, ys = (
        len(page.labels),
        geo.height,
        geo.plot_mm,
        geo.row_mm,
        geo.offsets_mm,
        geo.ys,
    )
    micro = (page.values * 1e6).astype(np.float32)
    traces = []
    for i, label in enumerate(page.labels):
        traces.append(
            {
                "type": "scattergl" if webgl else "scatter",
                "x0": page.x0,
                "dx": page.dx,
                "y": ys[i],
                "customdata": micro[i],
                "name": _row_name(label, page.bad_rows[i]) + (f" [{raw}]" if (raw := _raw_name(label)) else ""),
                "mode": "lines",
                "showlegend": False,
                "line": {"color": _row_color(label, page.bad_rows[i]), "width": 1},
                "hovertemplate": "%{x:.3f} s<br>%{customdata:.1f} µV<extra>%{fullData.name}</extra>",
            }
        )
    end = page.start + page.duration
    shapes, notes = [], []
    for ann in annotations:
        color = label_color(ann["description"], all_labels)
        x0, x1 = max(ann["onset"], page.start), min(ann["onset"] + ann["duration"], end)
        if ann["duration"] > 0:
            shapes.append(
                {
                    "type": "rect",
                    "xref": "x",
                    "yref": "paper",
                    "x0": x0,
                    "x1": x1,
                    "y0": 0,
                    "y1": 1,
                    "fillcolor": color,
                    "opacity": 0.15,
                    "line": {"width": 0},
                    "layer": "below",
                }
            )
        else:
            shapes.append(
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": x0,
                    "x1": x0,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": color, "width": 1.5},
                }
            )
        notes.append(
            {
                "x": x0,
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "yanchor": "bottom",
                "xanchor": "left",
                "text": ann["description"],
                "showarrow": False,
                "font": {"size": 11, "color": color},
            }
        )
    for ev in events:
        if page.start <= ev["time"] <= end:
            shapes.append(
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": ev["time"],
                    "x1": ev["time"],
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": "#555", "width": 1, "dash": "dot"},
                }
            )
            notes.append(
                {
                    "x": ev["time"],
                    "y": 0,
                    "xref": "x",
                    "yref": "paper",
                    "yanchor": "top",
                    "text": f"▲{ev['value']}",
                    "showarrow": False,
                    "font": {"size": 10, "color": "#555"},
                }
            )
    # Scale bar in the right margin: a round number of µV close to one row height.
    bar_uv = geo.bar_uv
    bar = bar_uv / sensitivity * Y_UNITS_PER_MM
    y_bottom = (offsets[-1] - row_mm / 2) * Y_UNITS_PER_MM
    shapes.append(
        {
            "type": "line",
            "xref": "paper",
            "yref": "y",
            "x0": 1.02,
            "x1": 1.02,
            "y0": y_bottom,
            "y1": y_bottom + bar,
            "line": {"color": "black", "width": 3},
        }
    )
    notes.append(
        {
            "x": 1.03,
            "y": y_bottom + bar / 2,
            "xref": "paper",
            "yref": "y",
            "xanchor": "left",
            "text": f"{bar_uv:g} µV",
            "showarrow": False,
            "font": {"size": 11},
        }
    )
    ticks = geo.ticks
    layout = {
        "height": height,
        "margin": _MARGIN,
        "title": {"text": title, "font": {"size": 13}, "x": 0.01, "y": 0.995},
        "plot_bgcolor": "white",
        "hovermode": "closest",
        "dragmode": "select" if select else "zoom",
        "selectdirection": "h",
        "shapes": shapes,
        "annotations": notes,
        "xaxis": {
            "range": [page.start, end],
            "tickvals": ticks,
            "ticktext": [_clock(t) for t in ticks],
            "showgrid": True,
            "gridcolor": "#e6e6e6",
            "zeroline": False,
        },
        "yaxis": {
            "range": [-plot_mm * Y_UNITS_PER_MM, 0],
            "tickvals": offsets * Y_UNITS_PER_MM,
            "ticktext": [clean_name(label) for label in page.labels],
            "showgrid": False,
            "zeroline": False,
            "fixedrange": True,
            "tickfont": {"size": 10 if n <= 40 else 8},
        },
        "meta": {"sensitivity_uv_mm": sensitivity, "row_mm": row_mm, "y_units_per_mm": Y_UNITS_PER_MM},
    }
    # Built from plain dicts whose schema the tests check once (go.Figure(fig.to_dict()));
    # validating 64 traces on every page turn would cost more than the rest of the page.
    return go.Figure(data=traces, layout=layout, _validate=False)


def annotated_page_figure(raw: mne.io.BaseRaw, page: Page, sensitivity: float, title: str = "") -> go.Figure:
    """:func:`page_figure` with the recording's annotations and stim events on the page (CLI, report)."""
    from backend.browse import annotations

    return page_figure(
        page,
        sensitivity,
        events=annotations.stim_events(raw),
        annotations=annotations.in_window(raw, page.start, page.start + page.duration),
        all_labels=annotations.labels(raw),
        title=title,
    )


def page_view_data(
    page: Page,
    sensitivity: float,
    *,
    px_per_mm: float = PX_PER_MM,
    height: int | None = None,
    annotations=(),
    events=(),
    all_labels=(),
    title: str = "",
    clip: bool = True,
) -> dict:
    """The same page as :func:`page_figure`, as data for the canvas trace view.

    A page turn that rebuilds a 64-row Plotly figure costs the browser 0.6–0.8 s of CPU
    (measured in headless Chromium without a GPU: Streamlit mounts a new chart for every
    new figure); drawing these rows on a canvas costs a few milliseconds. Values travel as
    little-endian int16 in y units (base64), with what the view needs to turn them back
    into µV for its hover read-out (which says "clipped" at a clipped row's band). Parameters
    as for :func:`page_figure`.
    """
    geo = page_geometry(page, sensitivity, px_per_mm=px_per_mm, height=height, clip=clip)
    end = page.start + page.duration
    spans = [
        {
            "x0": max(a["onset"], page.start),
            "x1": min(a["onset"] + a["duration"], end),
            "label": a["description"],
            "color": label_color(a["description"], all_labels),
        }
        for a in annotations
    ]
    marks = [{"t": ev["time"], "label": f"▲{ev['value']}"} for ev in events if page.start <= ev["time"] <= end]
    return {
        "title": title,
        "height": geo.height,
        "margin": _MARGIN,
        "start": page.start,
        "end": end,
        "x0": page.x0,
        "dx": page.dx,
        "n_points": int(geo.ys.shape[1]) if geo.ys.ndim == 2 else 0,
        "rows": [
            {"name": _row_name(label, bad), "raw": _raw_name(label), "color": _row_color(label, bad)}
            for label, bad in zip(page.labels, page.bad_rows)
        ],
        "y_units_per_mm": Y_UNITS_PER_MM,
        "plot_mm": geo.plot_mm,
        "offsets_mm": geo.offsets_mm.tolist(),
        "uv_per_unit": sensitivity / Y_UNITS_PER_MM,
        "ys": base64.b64encode(geo.ys.astype("<i2").tobytes()).decode("ascii"),
        "ticks": [[float(t), _clock(t)] for t in geo.ticks],
        "annotations": spans,
        "events": marks,
        "bar": {"uv": geo.bar_uv, "mm": geo.bar_uv / sensitivity},
        "clip_units": geo.clip_units,
        "sensitivity_uv_mm": sensitivity,
    }


def overview_view_data(
    times,
    values,
    unit: str,
    page_start: float,
    page_duration: float,
    duration: float,
    annotations=(),
    all_labels=(),
    height: int = 120,
) -> dict:
    """The whole recording as a strip of bars with the shown page marked, for the canvas view.

    ``times``/``values`` from :func:`backend.browse.display.overview`, already in ``unit``;
    annotations are marked by their onset. Drawn on a canvas like the page itself, so a page
    turn redraws it instead of mounting a new chart.
    """
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    top = float(np.percentile(finite, 99.5)) if finite.size else 1.0  # one huge artifact must not flatten the rest
    step = max(1, int(_nice(duration / 8)))
    ticks = np.arange(0, duration + 1e-9, step)
    return {
        "kind": "overview",
        "height": height,
        "margin": {"l": _MARGIN["l"], "r": _MARGIN["r"], "t": 14, "b": 22},
        "duration": float(duration),
        "page": [float(page_start), float(page_start + page_duration)],
        "times": np.asarray(times, dtype=float).round(3).tolist(),
        "values": [float(v) if np.isfinite(v) else None for v in values.round(6)],
        "top": top,
        "top_label": f"{top:.3g}",
        "unit": unit,
        "ticks": [[float(t), f"{t:g}" if duration < 600 else _clock(t)] for t in ticks],
        "marks": [{"t": float(a["onset"]), "color": label_color(a["description"], all_labels)} for a in annotations],
    }


def psd_figure(freqs, psd, names, bands=None, title: str = "") -> go.Figure:
    """Welch spectra (µV²/Hz, log scale), one line per channel, with the bands shaded."""
    bands = BANDS_HZ if bands is None else bands
    fig = go.Figure()
    for name, row in zip(names, psd):
        fig.add_trace(
            go.Scatter(
                x=freqs,
                y=row * 1e12,
                mode="lines",
                name=name,
                line={"width": 1},
                hovertemplate=name + ": %{x:.1f} Hz, %{y:.3g} µV²/Hz<extra></extra>",
            )
        )
    shades = ("#f0f0ff", "#f0fff0", "#fff8e6", "#fff0f0", "#f5f0ff")
    for (band, (lo, hi)), shade in zip(bands.items(), shades):
        if lo < freqs[-1]:
            fig.add_vrect(
                x0=lo,
                x1=min(hi, freqs[-1]),
                fillcolor=shade,
                opacity=1,
                layer="below",
                line_width=0,
                annotation_text=band,
                annotation_position="top left",
            )
    fig.update_layout(
        title=title,
        height=380,
        margin={"l": 60, "r": 20, "t": 40, "b": 40},
        plot_bgcolor="white",
        xaxis={"title": "frequency (Hz)"},
        # Decades only: Plotly's default log axis also labels the 2s and 5s between them.
        yaxis={"title": "PSD (µV²/Hz)", "type": "log", "dtick": 1, "exponentformat": "power", "showexponent": "all"},
        showlegend=len(names) <= 20,
    )
    return fig


def band_topomaps_figure(powers: dict, info: mne.Info, picks, title: str = "") -> go.Figure:
    """One scalp map per band of absolute power (µV²), each with its own colour range and colour scale."""
    xy, placed = sensor_xy(info, picks)
    names = [info["ch_names"][p] for p in picks]
    fig = make_subplots(rows=1, cols=len(powers), subplot_titles=list(powers), horizontal_spacing=0.02)
    for k, values in enumerate(powers.values(), start=1):
        by_name = dict(zip(names, np.asarray(values) * 1e12))
        traces = topomap_traces(
            [by_name[n] for n in placed],
            xy,
            placed,
            colorscale="Viridis",
            zmid=None,
            unit="µV²",
            showscale=True,
            marker_size=4,
        )
        suffix = "" if k == 1 else str(k)
        x0, x1 = fig.layout[f"xaxis{suffix}"].domain
        for trace in traces:
            if trace.type == "heatmap":  # its colour scale, horizontal under its own map
                trace.update(
                    colorbar={
                        "orientation": "h",
                        "x": (x0 + x1) / 2,
                        "xanchor": "center",
                        "len": (x1 - x0) * 0.85,
                        "y": -0.02,
                        "yanchor": "top",
                        "thickness": 10,
                        "title": {"text": "µV²", "side": "right"},
                        "tickfont": {"size": 9},
                        "nticks": 4,
                    }
                )
            fig.add_trace(trace, row=1, col=k)
        for shape in head_shapes():
            fig.add_shape({**shape, "xref": f"x{suffix}", "yref": f"y{suffix}"})
        square_axes(fig, row=1, col=k)
        fig.update_yaxes(scaleanchor=f"x{suffix}", row=1, col=k)
    fig.update_layout(
        title=title, height=360, margin={"l": 10, "r": 10, "t": 60, "b": 70}, plot_bgcolor="white", showlegend=False
    )
    return fig
