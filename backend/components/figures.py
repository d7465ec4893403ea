"""Plotly views of ICA components: card grid, EEGLAB-style properties, removal preview.

The variance removed by a removal is drawn by :mod:`backend.viz.removal`, as on the Clean page."""

from __future__ import annotations

import mne
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from backend.browse import annotations as notes
from backend.components import CLASS_NAMES
from backend.components.ica import ICLABEL_CLASSES, Decomposition
from backend.errors import EEGError
from backend.viz.topomap import head_shapes, sensor_xy, topomap_figure, topomap_traces

# Under each card's bars, where a full name does not fit.
CLASS_ABBREVIATIONS = {
    "brain": "Br",
    "muscle": "Mu",
    "eye": "Ey",
    "heart": "He",
    "line_noise": "LN",
    "channel_noise": "CN",
    "other": "Ot",
}
CLASS_COLORS = {
    "brain": "#2ca02c",
    "muscle": "#d62728",
    "eye": "#1f77b4",
    "heart": "#e377c2",
    "line_noise": "#ff7f0e",
    "channel_noise": "#8c564b",
    "other": "#7f7f7f",
}
SORT_KEYS = ("variance", "index", *ICLABEL_CLASSES)
MAX_TRACE_POINTS = 20_000
CARD_GRID = 40  # topomap pixels per side in the card grid (the full view uses the default 64)


def card_order(dec: Decomposition, sort_by: str = "variance", classes=None) -> list[int]:
    """Component indices to show: those whose top class is in ``classes``, sorted.

    Parameters
    ----------
    sort_by : str
        'variance' (largest first), 'index', or a class name (most probable first).
    classes : iterable of str | None
        Keep components whose most probable class is one of these (None: all).
    """
    if sort_by not in SORT_KEYS:
        raise EEGError(f"cannot sort components by {sort_by!r}; use one of {', '.join(SORT_KEYS)}")
    labels = dec.labels
    keep = [i for i in range(dec.n_components) if classes is None or labels[i] in set(classes)]
    if sort_by == "variance":
        variance = dec.variance
        return sorted(keep, key=lambda i: -variance[i])
    if sort_by == "index":
        return keep
    column = dec.probabilities[:, ICLABEL_CLASSES.index(sort_by)]
    return sorted(keep, key=lambda i: -column[i])


def _scalp(dec: Decomposition):
    """Scalp positions and names of the ICA's channels that have a position."""
    info = dec.prepared.info
    picks = [info["ch_names"].index(n) for n in dec.ica.ch_names]
    xy, names = sensor_xy(info, picks)
    rows = [dec.ica.ch_names.index(n) for n in names]
    return xy, names, rows


def card_title(dec: Decomposition, i: int, sep: str = " · ") -> str:
    """'IC3 · Eye 97% · 12.1% var': number, top ICLabel class and variance explained."""
    p = dec.probabilities[i]
    top = ICLABEL_CLASSES[int(p.argmax())]
    return f"IC{i} · {CLASS_NAMES[top]} {p.max():.0%}{sep}{dec.variance[i]:.1%} var"


def card_grid(dec: Decomposition, order=None, columns: int = 5) -> go.Figure:
    """One figure of component cards: scalp map, ICLabel probability bars, variance explained.

    Parameters
    ----------
    order : list of int | None
        Components to draw, in this order (see :func:`card_order`); None: all.
    columns : int
        Cards per row.
    """
    order = list(range(dec.n_components)) if order is None else [int(i) for i in order]
    if not order:
        raise EEGError("no component matches the chosen classes")
    columns = max(1, min(int(columns), len(order)))
    n_rows = -(-len(order) // columns)
    height = 250 * n_rows + 70
    fig = make_subplots(
        rows=2 * n_rows,
        cols=columns,
        row_heights=[0.75, 0.25] * n_rows,
        vertical_spacing=min(36 / (height - 80), 0.9 / (2 * n_rows)),
        horizontal_spacing=0.02,
        subplot_titles=[
            t
            for r in range(n_rows)
            for t in [
                card_title(dec, order[r * columns + c], "<br>") if r * columns + c < len(order) else ""
                for c in range(columns)
            ]
            + [""] * columns
        ],
    )
    xy, names, rows = _scalp(dec)
    patterns, probs = dec.patterns, dec.probabilities
    short = [CLASS_NAMES[c] for c in ICLABEL_CLASSES]
    abbreviated = [CLASS_ABBREVIATIONS[c] for c in ICLABEL_CLASSES]
    colors = [CLASS_COLORS[c] for c in ICLABEL_CLASSES]
    traces, shapes, axes = [], [], {}
    for k, comp in enumerate(order):
        # make_subplots numbers axes row-major; set them in one layout update (per-cell
        # updates through plotly's row/col lookup cost more than the maps themselves)
        map_n = 2 * (k // columns) * columns + k % columns + 1
        bar_n = map_n + columns
        mx, my, bx, by = (
            f"{a}{n if n > 1 else ''}" for a, n in (("x", map_n), ("y", map_n), ("x", bar_n), ("y", bar_n))
        )
        for trace in topomap_traces(patterns[rows, comp], xy, names, showscale=False, grid=CARD_GRID, marker_size=3):
            trace.update(xaxis=mx, yaxis=my)
            if isinstance(trace, go.Scatter):
                trace.update(hoverinfo="skip")
            traces.append(trace)
        shapes += [{**s, "xref": mx, "yref": my, "line": {"color": "#444", "width": 1}} for s in head_shapes()]
        axes[mx.replace("x", "xaxis")] = {"visible": False, "range": [-1.25, 1.25]}
        axes[my.replace("y", "yaxis")] = {"visible": False, "range": [-1.25, 1.25], "scaleanchor": mx}
        traces.append(
            go.Bar(
                x=short,
                y=probs[comp],
                marker_color=colors,
                showlegend=False,
                xaxis=bx,
                yaxis=by,
                hovertemplate=f"IC{comp} · %{{x}}: %{{y:.0%}}<extra></extra>",
            )
        )
        # each bar named under it (a short name; the full one on hover and in the legend)
        axes[bx.replace("x", "xaxis")] = {"tickvals": short, "ticktext": abbreviated, "tickfont": {"size": 9}}
        axes[by.replace("y", "yaxis")] = {"range": [0, 1], "showticklabels": False, "gridcolor": "#eee"}
    for cls, color in zip(short, colors):  # the bars' colour key, once
        traces.append(
            go.Bar(
                x=[None],
                y=[None],
                name=cls,
                marker_color=color,
                showlegend=True,
                xaxis=f"x{columns + 1}",
                yaxis=f"y{columns + 1}",
            )
        )
    fig.add_traces(traces)
    fig.update_layout(axes)
    fig.update_layout(
        shapes=shapes,
        height=height,
        plot_bgcolor="white",
        bargap=0.15,
        margin={"l": 10, "r": 10, "t": 70, "b": 10},
        # above the first row's card titles
        legend={"orientation": "h", "y": 1.0 + 28 / (height - 80), "yanchor": "bottom", "x": 0, "font": {"size": 11}},
    )
    fig.update_annotations(font_size=11)
    return fig


def topomap(dec: Decomposition, i: int) -> go.Figure:
    """The component's scalp pattern, large (arbitrary units: the sign of a component is arbitrary)."""
    _check_index(dec, i)
    info = dec.prepared.info
    picks = [info["ch_names"].index(n) for n in dec.ica.ch_names]
    pattern = dec.patterns[:, i]
    pattern = pattern / (np.abs(pattern).max() or 1.0)  # only the shape and relative sign mean something
    return topomap_figure(pattern, info, picks, title=card_title(dec, i), unit="a.u.", height=380)


def _check_index(dec: Decomposition, i: int) -> None:
    if not 0 <= int(i) < dec.n_components:
        raise EEGError(f"component number must be between 0 and {dec.n_components - 1}, got {i}")


def activation(dec: Decomposition, i: int, start_s: float = 0.0, window_s: float = 10.0) -> go.Figure:
    """The component's time course, with a range slider to scroll through the recording."""
    from tsdownsample import MinMaxLTTBDownsampler

    _check_index(dec, i)
    y = dec.sources[i]
    t = dec.prepared.times
    if y.size > MAX_TRACE_POINTS:  # keep peaks (blinks) visible while sending few points
        idx = MinMaxLTTBDownsampler().downsample(t, y, n_out=MAX_TRACE_POINTS)
        t, y = t[idx], y[idx]
    fig = go.Figure(
        go.Scattergl(
            x=t,
            y=y,
            mode="lines",
            line={"width": 1, "color": "#1f4e79"},
            hovertemplate="%{x:.2f} s: %{y:.3g}<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"IC{i} activation",
        height=300,
        margin={"l": 50, "r": 10, "t": 40, "b": 10},
        xaxis={"title": "time (s)", "range": [start_s, start_s + window_s], "rangeslider": {"visible": True}},
        yaxis={"title": "activation (a.u.)"},
        plot_bgcolor="white",
    )
    return fig


def spectrum(dec: Decomposition, i: int) -> go.Figure:
    """Log power spectrum of the activation (Welch, 2 s windows), up to 100 Hz or Nyquist."""
    _check_index(dec, i)
    sfreq = dec.prepared.info["sfreq"]
    n_fft = int(min(2 * sfreq, dec.sources.shape[1]))
    with mne.utils.use_log_level("error"):
        psd, freqs = mne.time_frequency.psd_array_welch(
            dec.sources[i], sfreq, fmin=1.0, fmax=min(100.0, sfreq / 2), n_fft=n_fft
        )
    fig = go.Figure(
        go.Scatter(
            x=freqs,
            y=10 * np.log10(np.maximum(psd, 1e-30)),
            mode="lines",
            line={"color": "#1f4e79"},
            hovertemplate="%{x:.1f} Hz: %{y:.1f} dB<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"IC{i} power spectrum",
        height=300,
        margin={"l": 50, "r": 10, "t": 40, "b": 10},
        xaxis={"title": "frequency (Hz)"},
        yaxis={"title": "power (dB, a.u.)"},
        plot_bgcolor="white",
    )
    return fig


def event_types(dec: Decomposition) -> list[str]:
    """Annotation descriptions usable for an ERP image (not EEGLAB's 'boundary' or BAD spans)."""
    found = {str(d) for d in dec.prepared.annotations.description}
    return sorted(d for d in found if d.lower() != "boundary" and not d.upper().startswith(("BAD", "EDGE")))


def trials(
    dec: Decomposition, i: int, event: str | None = None, tmin: float = -0.2, tmax: float = 0.8, segment_s: float = 1.0
) -> tuple[np.ndarray, np.ndarray, str]:
    """The activation cut into trials: around each ``event``, or consecutive segments.

    Returns
    -------
    data : ndarray, shape (n_trials, n_times)
    times : ndarray, shape (n_times,)
        Seconds from the event (or from the segment's start).
    what : str
        A description of the rows for the figure.
    """
    _check_index(dec, i)
    sfreq = dec.prepared.info["sfreq"]
    y = dec.sources[i]
    if event is None:
        n = int(round(segment_s * sfreq))
        if n < 2 or y.size < 2 * n:
            raise EEGError("segments must be shorter than half the recording and at least 2 samples long")
        count = y.size // n
        return y[: count * n].reshape(count, n), np.arange(n) / sfreq, f"{count} consecutive {segment_s:g} s segments"
    if event not in event_types(dec):
        raise EEGError(f"no event {event!r} in this recording; events: {', '.join(event_types(dec)) or 'none'}")
    if not tmin < tmax:
        raise EEGError(f"the window must start before it ends, got {tmin} to {tmax} s")
    onsets = notes.onsets(dec.prepared)[dec.prepared.annotations.description == event]
    first, last = int(round(tmin * sfreq)), int(round(tmax * sfreq))
    starts = np.round(onsets * sfreq).astype(int) + first
    starts = starts[(starts >= 0) & (starts + last - first <= y.size)]
    if starts.size == 0:
        raise EEGError(f"no {event!r} event has a full {tmin:g} to {tmax:g} s window inside the recording")
    data = np.stack([y[s : s + last - first] for s in starts])
    return data, np.arange(first, last) / sfreq, f"{len(starts)} '{event}' trials"


def erp_image(
    dec: Decomposition,
    i: int,
    event: str | None = None,
    tmin: float = -0.2,
    tmax: float = 0.8,
    segment_s: float = 1.0,
    smooth: int = 1,
) -> go.Figure:
    """Trials × time image of the activation with its average below (EEGLAB's ERP image).

    ``smooth`` averages that many neighbouring trials (a moving average, as EEGLAB's).
    """
    data, times, what = trials(dec, i, event, tmin, tmax, segment_s)
    smooth = max(1, min(int(smooth), len(data)))
    if smooth > 1:
        kernel = np.ones(smooth) / smooth
        data = np.apply_along_axis(lambda col: np.convolve(col, kernel, mode="valid"), 0, data)
    lim = float(np.percentile(np.abs(data), 99)) or 1.0
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.75, 0.25], vertical_spacing=0.04)
    fig.add_trace(
        go.Heatmap(
            x=times,
            y=np.arange(1, len(data) + 1),
            z=data,
            colorscale="RdBu_r",
            zmin=-lim,
            zmax=lim,
            colorbar={"title": {"text": "a.u."}, "thickness": 10, "len": 0.7, "y": 0.62},
            hovertemplate="trial %{y}, %{x:.3f} s: %{z:.3g}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=times,
            y=data.mean(axis=0),
            mode="lines",
            line={"color": "black"},
            showlegend=False,
            hovertemplate="%{x:.3f} s: %{y:.3g}<extra></extra>",
        ),
        row=2,
        col=1,
    )
    fig.update_yaxes(title_text="trial", row=1, col=1)
    fig.update_yaxes(title_text="mean", row=2, col=1)
    fig.update_xaxes(title_text="time from event (s)" if event else "time in segment (s)", row=2, col=1)
    fig.update_layout(
        title=f"IC{i} ERP image: {what}" + (f", smoothed over {smooth}" if smooth > 1 else ""),
        height=380,
        margin={"l": 50, "r": 10, "t": 40, "b": 10},
        plot_bgcolor="white",
    )
    return fig


def overlay(
    before: mne.io.BaseRaw, after: mne.io.BaseRaw, names, start_s: float = 0.0, window_s: float = 10.0
) -> go.Figure:
    """Traces before (grey) and after (colour) the removal, overlaid channel by channel."""
    sfreq = before.info["sfreq"]
    start = int(np.clip(start_s * sfreq, 0, max(0, before.n_times - 1)))
    stop = int(min(before.n_times, start + max(1, int(window_s * sfreq))))
    b = before.get_data(picks=list(names), start=start, stop=stop) * 1e6
    a = after.get_data(picks=list(names), start=start, stop=stop) * 1e6
    centre = np.median(b, axis=1, keepdims=True)  # each trace about its own baseline
    b, a = b - centre, a - centre
    spacing = float(np.percentile(np.abs(a), 99)) * 2.5 or 1.0
    t = before.times[start:stop]
    fig = go.Figure()
    for k, name in enumerate(names):
        offset = -k * spacing
        fig.add_trace(
            go.Scattergl(
                x=t,
                y=b[k] + offset,
                mode="lines",
                line={"color": "#bbbbbb", "width": 1},
                name="before",
                legendgroup="before",
                showlegend=k == 0,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scattergl(
                x=t,
                y=a[k] + offset,
                mode="lines",
                line={"color": "#1f4e79", "width": 1},
                name="after",
                legendgroup="after",
                showlegend=k == 0,
                customdata=a[k],
                hovertemplate=f"{name} %{{x:.2f}} s: %{{customdata:.1f}} µV<extra></extra>",
            )
        )
    fig.update_layout(
        title=f"Before and after removal ({spacing:.0f} µV between traces)",
        height=max(300, 22 * len(names) + 80),
        margin={"l": 60, "r": 10, "t": 70, "b": 30},
        plot_bgcolor="white",
        yaxis={"tickvals": [-k * spacing for k in range(len(names))], "ticktext": list(names), "showgrid": False},
        xaxis={"title": "time (s)"},
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right"},
    )
    return fig
