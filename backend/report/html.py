"""The report as one self-contained HTML file: plotly.js embedded once, nothing fetched."""

from __future__ import annotations

import json
from typing import Any

from backend.report.build import Item, Report, annotation_rows, escape, header, history_lines, software

# Nothing may leave the file: no fetch, image, font or frame from anywhere but the page itself.
CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; worker-src blob:"
)

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:12px;
color:#1b1b1b;line-height:1.45}
h1{font-size:1.5rem;margin:.2em 0} h2{font-size:1.15rem;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;font-size:.9rem} td,th{border-bottom:1px solid #eee;padding:3px 6px;
text-align:left;vertical-align:top} th{background:#f6f6f6}
.kv td:first-child{width:13em;color:#555}
.scroll{max-height:22em;overflow:auto}
figure{margin:1.2em 0;padding:0} .plot{width:100%} figcaption{font-size:.9rem}
.validation{color:#555;font-size:.85rem;font-style:italic}
.settings{color:#555;font-size:.85rem;font-family:ui-monospace,monospace;white-space:pre-wrap}
.impression{white-space:pre-wrap;border-left:3px solid #4a7;padding-left:.8em}
#methods{white-space:pre-wrap} pre{white-space:pre-wrap;font-size:.8rem;background:#f6f6f6;padding:.6em}
button{font:inherit;padding:.3em .8em}
@media (max-width:600px){body{padding:6px}.kv td:first-child{width:auto}}
@media print{button{display:none}}
"""


def _json(obj: Any) -> str:
    """JSON safe inside a <script> element (no '</script>' or '<!--' can close it)."""
    return (
        json.dumps(obj, separators=(",", ":")).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    )


def _figure(figure: dict) -> dict:
    """The figure as the report draws it: sized by the page, SVG traces (no WebGL needed, prints well)."""
    data = [dict(t, type="scatter") if t.get("type") == "scattergl" else t for t in figure.get("data", [])]
    layout = dict(figure.get("layout", {}) or {})
    layout.pop("width", None)
    layout["autosize"] = True
    layout.pop("template", None)  # the default look, and a much smaller file
    out = {"data": data, "layout": layout}
    if figure.get("frames"):
        out["frames"] = figure["frames"]
    return out


def head(title: str, heading: str) -> list[str]:
    """The page's head (CSP, style, plotly.js once) and its first heading."""
    from plotly.offline import get_plotlyjs

    return [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{escape(title)}</title><style>{STYLE}</style>",
        f"<script>{get_plotlyjs()}</script></head><body>",
        f"<h1>{escape(heading)}</h1>",
    ]


def key_values(rows: list[tuple[str, str]]) -> list[str]:
    return ["<table class='kv'>", *(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in rows), "</table>"]


def table(columns: list[str], rows: list[list[str]], scroll: bool = True) -> list[str]:
    """A table of text cells (every cell escaped)."""
    return [
        "<div class='scroll'>" if scroll else "<div>",
        "<table><tr>" + "".join(f"<th>{escape(c)}</th>" for c in columns) + "</tr>",
        *("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows),
        "</table></div>",
    ]


def figures(
    items: list[Item], empty: str = "No figures were added to this report.", start: int = 1
) -> tuple[list[str], list[str]]:
    """Each item's figure, settings, caption and validation line (numbered from ``start``); the scripts drawing them."""
    parts: list[str] = [] if items else [f"<p>{escape(empty)}</p>"]
    scripts = []
    for n, item in enumerate(items, start):
        parts.append(f"<figure><h3>{n}. {escape(item.title)}</h3>")
        if item.figure:
            parts.append(f"<div class='plot' id='fig{n}'></div>")
            scripts.append(f"draw('fig{n}',{_json(_figure(item.figure))});")
        if item.settings:
            parts.append(f"<div class='settings'>{escape(item.settings)}</div>")
        if item.caption:
            parts.append(f"<figcaption>{escape(item.caption)}</figcaption>")
        if validated := item.validation():
            parts.append(f"<p class='validation'>{escape(validated)}</p>")
        parts.append("</figure>")
    return parts, scripts


def methods_and_end(text: str, keys: list[str], bib: str, scripts: list[str]) -> list[str]:
    """Methods (with a copy button), references, BibTeX, and the script that draws the figures."""
    return [
        "<h2>Methods</h2>",
        "<button type='button' id='copy-methods'>Copy methods</button>",
        f"<p id='methods'>{escape(text)}</p>",
        "<h2>References</h2><ol>",
        *(f"<li>{escape(line.split('] ', 1)[1])}</li>" for line in _refs(keys)),
        "</ol>",
        "<details><summary>BibTeX</summary>",
        f"<a download='references.bib' href='data:application/x-bibtex;charset=utf-8,{_uri(bib)}'>Save references.bib</a>",
        f"<pre id='bibtex'>{escape(bib)}</pre></details>",
        "<script>",
        "function draw(id,f){Plotly.newPlot(id,f.data,f.layout,{responsive:true,displaylogo:false})"
        ".then(function(){if(f.frames)Plotly.addFrames(id,f.frames);});}",
        *scripts,
        "document.getElementById('copy-methods').addEventListener('click',function(){",
        "var t=document.getElementById('methods').textContent;",
        "if(navigator.clipboard){navigator.clipboard.writeText(t);}else{var r=document.createRange();",
        "r.selectNodeContents(document.getElementById('methods'));var s=getSelection();s.removeAllRanges();",
        "s.addRange(r);document.execCommand('copy');}this.textContent='Copied';});",
        "</script></body></html>",
    ]


def render(report: Report) -> str:
    rec = report.recording
    text, keys = report.methods()
    parts = [
        *head(f"{report.title} · {rec.name}", report.title),
        *key_values(
            [
                *header(rec, report.display),
                ("Reviewer", report.reviewer or "—"),
                ("Generated", report.generated),
                software(),
            ]
        ),
        "<h2>Processing history</h2><ol>",
        *(f"<li>{escape(line)}</li>" for line in history_lines(rec)),
        "</ol>",
    ]
    rows, left_out = annotation_rows(rec)
    parts.append("<h2>Annotations</h2>")
    if rows:
        parts += table(["Onset (s)", "Duration (s)", "Description"], [list(r) for r in rows])
        if left_out:
            parts.append(f"<p>… and {left_out} more (the recording's file holds them all).</p>")
    else:
        parts.append("<p>None.</p>")
    parts += ["<h2>Impression</h2>", f"<p class='impression'>{escape(report.impression) or '—'}</p>"]
    parts.append("<h2>Figures</h2>")
    drawn, scripts = figures(report.items)
    parts += drawn
    parts += methods_and_end(text, keys, report.bibtex(), scripts)
    return "\n".join(parts)


def _refs(keys: list[str]) -> list[str]:
    from backend.report.methods import reference_list

    return reference_list(keys)


def _uri(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")
