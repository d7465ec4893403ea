"""Report items (the figures a user chose) and the recording into one HTML file or a PDF.

HTML: one self-contained file (plotly.js embedded once, a Content-Security-Policy
that lets no request leave it), readable on a phone. PDF: fpdf2 (pure Python), the
figures drawn again by matplotlib from the same data (:mod:`backend.report.static`)
at 200 dpi, A4 or Letter, page numbers, the header on the first page. Every text a
user typed (captions, impression, names) is escaped: shown as text, never run.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import platform
from dataclasses import asdict, dataclass, field
from importlib import metadata
from typing import Any

from backend.errors import EEGError
from backend.recording import Recording
from backend.report import methods as methods_mod

KINDS = ("browse", "spectra", "clean", "components", "sources", "classify", "figure")
PAPERS = ("A4", "Letter")
MAX_ANNOTATION_ROWS = 500
MAX_CAPTION = 2000
PACKAGES = ("mne", "numpy", "scipy", "plotly", "scikit-learn", "pyriemann", "mne-icalabel", "torch", "fpdf2")


@dataclass
class Item:
    """One figure added to the report.

    ``figure`` is Plotly's JSON of the figure (``json.loads(fig.to_json())``) as displayed;
    ``settings`` the line printed under it (montage, filters, sensitivity, timebase…);
    ``analysis`` what the methods text needs to know of it (``{'method': 'eLORETA'}``).
    """

    kind: str
    title: str
    figure: dict[str, Any] | None = None
    caption: str = ""
    settings: str = ""
    analysis: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise EEGError(f"a report item's kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        self.caption = str(self.caption or "")[:MAX_CAPTION]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def validation(self) -> str | None:
        """How the method behind this figure was validated, from ``benchmarks/results`` (or ``None``)."""
        from backend.report.validation import for_item

        return for_item(self.kind, self.analysis)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Item:
        return cls(**{k: d[k] for k in ("kind", "title", "figure", "caption", "settings", "analysis") if k in d})


def item_from_figure(kind: str, title: str, fig, settings: str = "", caption: str = "", **analysis) -> Item:
    """An item of a Plotly figure (its JSON is stored: small, and the same in any process)."""
    return Item(kind, title, json.loads(fig.to_json()), caption, settings, dict(analysis))


def versions() -> dict[str, str]:
    """Python and the installed versions of the packages the report's methods rely on."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def software() -> tuple[str, str]:
    """The report's "Software" row: EEG Explorer and the versions it ran with."""
    return "Software", "EEG Explorer; " + ", ".join(f"{k} {v}" for k, v in versions().items())


def header(recording: Recording, display: str = "") -> list[tuple[str, str]]:
    """The first page's rows: recording, montage and display, history in plain words."""
    s = recording.summary()
    minutes, seconds = divmod(s["duration_s"], 60)
    hours, minutes = divmod(int(minutes), 60)
    rows = [
        ("Recording", s["file"]),
        ("Format", s["format"]),
        ("Channels", f"{s['n_channels']} ({', '.join(f'{n} {t}' for t, n in s['channel_types'].items())})"),
        ("Sampling rate", f"{s['sfreq']:g} Hz"),
        ("Duration", f"{hours:d}:{minutes:02d}:{seconds:06.3f} ({s['duration_s']:g} s)"),
        ("Date", s["start"]),
        ("Bad channels", ", ".join(s["bads"]) or "none"),
        ("Montage and display", display or "as recorded"),
    ]
    return rows


def history_lines(recording: Recording) -> list[str]:
    """The processing history in plain words, one line a step."""
    return [methods_mod.step_sentence(step, recording)[0] for step in recording.history]


def annotation_rows(recording: Recording, limit: int = MAX_ANNOTATION_ROWS) -> tuple[list[tuple[str, str, str]], int]:
    """``(onset s, duration s, description)`` rows (at most ``limit``) and how many were left out."""
    ann = recording.raw.annotations
    rows = [(f"{o:.3f}", f"{d:.3f}", str(t)) for o, d, t in zip(ann.onset, ann.duration, ann.description)]
    return rows[:limit], max(0, len(rows) - limit)


@dataclass
class Report:
    """Everything a report shows; :meth:`html` and :meth:`pdf` render it."""

    recording: Recording
    items: list[Item] = field(default_factory=list)
    reviewer: str = ""
    impression: str = ""
    display: str = ""
    title: str = "EEG report"
    generated: str = field(default_factory=lambda: dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"))

    def methods(self) -> tuple[str, list[str]]:
        analyses = [(it.kind, it.analysis) for it in self.items]
        return methods_mod.methods(self.recording, analyses)

    def bibtex(self) -> str:
        return methods_mod.bibtex(self.methods()[1])

    def html(self) -> str:
        from backend.report.html import render

        return render(self)

    def pdf(self, paper: str = "A4") -> bytes:
        from backend.report.pdf import render

        if paper not in PAPERS:
            raise EEGError(f"paper must be {' or '.join(PAPERS)}, got {paper!r}")
        return render(self, paper)


def escape(text: Any) -> str:
    """User text as HTML text (never markup)."""
    return html.escape(str(text or ""), quote=True)
