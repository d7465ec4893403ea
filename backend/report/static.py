"""A Plotly figure (its JSON) drawn again with matplotlib, for the PDF: same data, no browser.

Covers what the app's figures use: scatter/scattergl (lines, markers, fills), bar,
box, heatmap, shapes and annotations on 2-D axes laid out by their domains, and
mesh3d/scatter3d on a 3-D axis. Anything else is listed under the figure as not drawn.
"""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import numpy as np

WIDTH_IN = 7.0  # the PDF's text width, near enough for A4 and Letter
DPI = 200
_TAGS = re.compile(r"<[^>]+>")


def decode(value: Any) -> Any:
    """Plotly's typed-array encoding (``{'dtype', 'bdata', 'shape'}``) as a NumPy array; others unchanged."""
    if isinstance(value, dict) and "bdata" in value:
        arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        if value.get("shape"):
            arr = arr.reshape([int(s) for s in str(value["shape"]).split(",")])
        return arr
    return value


def _array(value: Any) -> np.ndarray:
    value = decode(value)
    if value is None:
        return np.array([])
    arr = np.asarray(value, dtype=object) if not isinstance(value, np.ndarray) else value
    if arr.dtype == object:
        try:
            return np.array([np.nan if v is None else v for v in arr.ravel()], dtype=float).reshape(arr.shape)
        except (TypeError, ValueError):
            return arr
    return arr


def colour(text: Any, default: Any = "#1f77b4") -> Any:
    """A Plotly colour string as something matplotlib takes."""
    if not isinstance(text, str) or not text:
        return default
    m = re.match(r"rgba?\(([^)]*)\)", text.replace(" ", ""))
    if m:
        parts = [float(p) for p in m.group(1).split(",")]
        rgb = [min(max(p / 255.0, 0.0), 1.0) for p in parts[:3]]
        return (*rgb, parts[3] if len(parts) > 3 else 1.0)
    return text


def _text(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("text", "")
    return _TAGS.sub(" ", str(value or "")).replace("&nbsp;", " ").strip()


def _cmap(scale: Any):
    from matplotlib.colors import LinearSegmentedColormap

    if isinstance(scale, list) and scale and isinstance(scale[0], list | tuple):
        stops = [(float(p), colour(c)) for p, c in scale]
        return LinearSegmentedColormap.from_list("plotly", stops)
    return {"RdBu": "RdBu", "Viridis": "viridis", "Hot": "hot", "Reds": "Reds", "Blues": "Blues"}.get(
        str(scale), "viridis"
    )


def _axis_name(ref: str, kind: str) -> str:
    return kind + "axis" + ref[1:]  # "x2" -> "xaxis2"


def _domain(layout: dict, name: str) -> tuple[float, float]:
    low, high = layout.get(name, {}).get("domain", (0.0, 1.0))
    return float(low), float(high)


def _style_axis(ax, layout: dict, xname: str, yname: str) -> None:
    for name, which in ((xname, "x"), (yname, "y")):
        spec = layout.get(name, {})
        rng = spec.get("range")
        if rng is not None and len(rng) == 2 and all(isinstance(v, int | float) for v in rng):
            (ax.set_xlim if which == "x" else ax.set_ylim)(*rng)
        if spec.get("autorange") == "reversed":
            (ax.invert_xaxis if which == "x" else ax.invert_yaxis)()
        ticks = decode(spec.get("tickvals"))
        if ticks is not None:
            (ax.set_xticks if which == "x" else ax.set_yticks)(list(np.asarray(ticks, dtype=float)))
            labels = decode(spec.get("ticktext"))
            if labels is not None:
                (ax.set_xticklabels if which == "x" else ax.set_yticklabels)([_text(t) for t in labels])
        if spec.get("showticklabels") is False or spec.get("visible") is False:
            (ax.xaxis if which == "x" else ax.yaxis).set_ticklabels([])
        if spec.get("visible") is False:
            (ax.xaxis if which == "x" else ax.yaxis).set_visible(False)
        title = _text(spec.get("title", ""))
        if title:
            (ax.set_xlabel if which == "x" else ax.set_ylabel)(title)
        if spec.get("type") == "log":
            (ax.set_xscale if which == "x" else ax.set_yscale)("log")
        if spec.get("scaleanchor") and which == "y":
            ax.set_aspect("equal", adjustable="box")


def _scatter(ax, t: dict) -> None:
    x, y = _array(t.get("x")), _array(t.get("y"))
    if y.size and not x.size:
        x = float(t.get("x0", 0.0)) + float(t.get("dx", 1.0)) * np.arange(y.size)
    if x.dtype == object or y.dtype == object or not x.size:
        return
    mode = t.get("mode", "lines+markers" if x.size < 20 else "lines")
    line = t.get("line", {}) or {}
    c = colour(line.get("color") or (t.get("marker", {}) or {}).get("color"), None)
    if isinstance(c, dict | list) or (isinstance(c, np.ndarray)):
        c = None
    alpha = float(t.get("opacity", 1.0))
    if t.get("fill") in ("toself", "tonexty", "tozeroy"):
        ax.fill(x, y, color=colour(t.get("fillcolor"), c or "#cccccc"), alpha=alpha, lw=0)
    if "lines" in mode:
        ax.plot(x, y, color=c, lw=max(0.3, float(line.get("width", 1.5)) * 0.5), alpha=alpha)
    if "markers" in mode:
        marker = t.get("marker", {}) or {}
        mc = decode(marker.get("color"))
        kw = {"c": mc} if isinstance(mc, np.ndarray | list) and len(mc) == x.size else {"color": c}
        size = marker.get("size", 6)
        ax.scatter(x, y, s=(float(size) if isinstance(size, int | float) else 6.0) ** 2 / 4, alpha=alpha, lw=0, **kw)
    if "text" in mode and t.get("text") is not None:
        for xi, yi, s in zip(x, y, decode(t.get("text")), strict=False):
            ax.annotate(_text(s), (xi, yi), fontsize=6)


def _heatmap(ax, t: dict) -> None:
    z = _array(t.get("z"))
    if z.ndim != 2 or z.dtype == object:
        return
    x, y = _array(t.get("x")), _array(t.get("y"))
    extent = None
    if x.size == z.shape[1] and y.size == z.shape[0] and x.dtype != object and y.dtype != object:
        extent = (x[0], x[-1], y[0], y[-1])
    ax.imshow(
        z,
        origin="lower",
        aspect="auto",
        extent=extent,
        cmap=_cmap(t.get("colorscale")),
        vmin=t.get("zmin"),
        vmax=t.get("zmax"),
        interpolation="nearest",
    )


def _bar(ax, t: dict) -> None:
    x, y = _array(t.get("x")), _array(t.get("y"))
    colour_ = colour((t.get("marker", {}) or {}).get("color"), None)
    colour_ = colour_ if isinstance(colour_, str | tuple) else None
    if t.get("orientation") == "h":
        x, y = y, x
    labels = [str(v) for v in x] if x.dtype == object or x.dtype.kind in "US" else None
    pos = np.arange(len(x)) if labels else x
    width = t.get("width")
    size = {} if not isinstance(width, int | float) else {"height" if t.get("orientation") == "h" else "width": width}
    (ax.barh if t.get("orientation") == "h" else ax.bar)(pos, y.astype(float), color=colour_, **size)
    error = t.get("error_y") or {}
    if error.get("array") is not None and t.get("orientation") != "h":
        up = _array(error["array"]).astype(float)
        down = up if error.get("symmetric", True) or error.get("arrayminus") is None else _array(error["arrayminus"])
        ax.errorbar(pos, y.astype(float), yerr=[down.astype(float), up], fmt="none", ecolor="black", lw=0.8)
    if labels:
        (ax.set_yticks if t.get("orientation") == "h" else ax.set_xticks)(pos, labels, fontsize=6)


def _mesh(ax, t: dict) -> None:
    x, y, z = (_array(t.get(k)) for k in "xyz")
    if t["type"] == "scatter3d":
        ax.scatter(x, y, z, s=4)
        return
    i, j, k = (_array(t.get(k)).astype(int) for k in "ijk")
    if not i.size:
        return
    faces = np.stack([i, j, k], axis=1)
    intensity = _array(t.get("intensity"))
    surf = ax.plot_trisurf(x, y, z, triangles=faces, linewidth=0, antialiased=False, color="#d9d9d9", shade=True)
    if intensity.size == x.size and intensity.dtype != object:
        surf.set_array(intensity[faces].mean(axis=1))
        surf.set_cmap(_cmap(t.get("colorscale")))
        if t.get("cmin") is not None and t.get("cmax") is not None:
            surf.set_clim(t["cmin"], t["cmax"])
    ax.set_axis_off()


def _place(fig, layout: dict, xname: str, yname: str, projection: str | None = None):
    (x0, x1), (y0, y1) = _domain(layout, xname), _domain(layout, yname)
    left, bottom, width, height = 0.08, 0.08, 0.9, 0.82
    rect = [left + x0 * width, bottom + y0 * height, (x1 - x0) * width * 0.97, (y1 - y0) * height * 0.94]
    return fig.add_axes(rect, projection=projection)


def render_png(figure: dict, dpi: int = DPI) -> tuple[bytes, float, list[str]]:
    """Draw ``figure`` (Plotly JSON) with matplotlib.

    Returns
    -------
    png : bytes
        The image at ``dpi`` dots per inch.
    aspect : float
        Height over width.
    skipped : list of str
        Trace types that were not drawn.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    layout = figure.get("layout", {}) or {}
    height_px = float(layout.get("height") or 450)
    width_px = float(layout.get("width") or 1000)
    h_in = min(max(WIDTH_IN * height_px / width_px, 2.0), 9.0)
    fig = Figure(figsize=(WIDTH_IN, h_in), dpi=dpi)
    with matplotlib.rc_context({"font.size": 7, "axes.titlesize": 8, "axes.linewidth": 0.5}):
        axes: dict[tuple[str, str], Any] = {}
        skipped = []
        for t in figure.get("data", []):
            kind = t.get("type", "scatter")
            if kind in ("mesh3d", "scatter3d"):
                key = (t.get("scene", "scene"), "3d")
                if key not in axes:
                    scene = layout.get(key[0], {}) or {}
                    dom = scene.get("domain", {}) or {}
                    (x0, x1), (y0, y1) = dom.get("x", (0, 1)), dom.get("y", (0, 1))
                    axes[key] = fig.add_axes((x0, y0, x1 - x0, y1 - y0), projection="3d")
                _mesh(axes[key], t)
                continue
            xname, yname = _axis_name(t.get("xaxis", "x"), "x"), _axis_name(t.get("yaxis", "y"), "y")
            if (xname, yname) not in axes:
                axes[(xname, yname)] = _place(fig, layout, xname, yname)
            ax = axes[(xname, yname)]
            draw = {"scatter": _scatter, "scattergl": _scatter, "heatmap": _heatmap, "bar": _bar}.get(kind)
            if kind == "box":
                y = _array(t.get("y"))
                if y.dtype != object and y.size:
                    ax.boxplot(y[~np.isnan(y)], positions=[len(ax.containers)], widths=0.5)
            elif draw is None:
                skipped.append(kind)
            else:
                draw(ax, t)
        for (xname, yname), ax in axes.items():
            if yname != "3d":
                _style_axis(ax, layout, xname, yname)
        _shapes(fig, axes, layout)
        title = _text(layout.get("title", ""))
        if title:
            fig.suptitle(title, fontsize=8)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue(), h_in / WIDTH_IN, sorted(set(skipped))


def _shapes(fig, axes: dict, layout: dict) -> None:
    from matplotlib.patches import Rectangle

    for s in layout.get("shapes", []) or []:
        xref, yref = s.get("xref", "x"), s.get("yref", "y")
        xname = _axis_name(xref, "x") if xref != "paper" else None
        yname = _axis_name(yref.split(" ")[0], "y") if not yref.startswith("paper") else None
        ax = next((a for (xn, yn), a in axes.items() if (xname in (None, xn)) and (yname in (None, yn))), None)
        if ax is None or s.get("type", "rect") not in ("rect", "line"):
            continue
        try:
            x0, x1, y0, y1 = (float(s[k]) for k in ("x0", "x1", "y0", "y1"))
        except (KeyError, TypeError, ValueError):
            continue
        # "x domain" / "y domain" (add_hline, add_vline): that coordinate spans the axes, 0 to 1.
        if yname is None or yref.endswith(" domain"):
            transform = ax.get_xaxis_transform()
        elif xref.endswith(" domain"):
            transform = ax.get_yaxis_transform()
        else:
            transform = ax.transData
        if s.get("type", "rect") == "rect":
            patch = Rectangle(
                (x0, y0),
                x1 - x0,
                y1 - y0,
                transform=transform,
                facecolor=colour(s.get("fillcolor"), "#dddddd"),
                alpha=float(s.get("opacity", 0.3)),
                lw=0,
            )
            ax.add_patch(patch)
        else:
            line = s.get("line", {}) or {}
            ax.plot([x0, x1], [y0, y1], transform=transform, color=colour(line.get("color"), "#555555"), lw=0.6)
    for a in layout.get("annotations", []) or []:
        text = _text(a.get("text", ""))
        if not text or a.get("x") is None or a.get("y") is None:
            continue
        if a.get("xref") == "paper" and a.get("yref") == "paper":
            fig.text(0.08 + 0.9 * float(a["x"]), 0.08 + 0.82 * float(a["y"]), text, fontsize=6)
            continue
        xname = _axis_name(a.get("xref", "x"), "x") if a.get("xref", "x") != "paper" else None
        ax = next((ax for (xn, _), ax in axes.items() if xname in (None, xn)), None)
        if ax is not None:
            try:
                ax.text(float(a["x"]), float(a["y"]), text, fontsize=6, transform=ax.transData)
            except (TypeError, ValueError):
                pass
