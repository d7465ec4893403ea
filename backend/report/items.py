"""Report items built by the backend from settings alone (the CLI's pages; the same as the Browse page shows)."""

from __future__ import annotations

from backend.browse import display, figures
from backend.browse.montages import MONTAGES, build_montage
from backend.errors import EEGError
from backend.recording import Recording
from backend.report.build import Item, item_from_figure

REVIEW_FILTER = display.DisplayFilter(0.5, 70.0, None)  # the CLI's and the Browse page's default display filters


def _hz(value: float | None) -> str:
    return "off" if value is None else f"{value:g} Hz"


def display_line(
    montage: str, filt: display.DisplayFilter, sensitivity: float | None = None, timebase: float | None = None
) -> str:
    """The settings printed under a page: montage, display filters, sensitivity and timebase."""
    parts = [
        f"montage: {MONTAGES.get(montage, montage)}",
        f"LFF {_hz(filt.low)}, HFF {_hz(filt.high)}, notch {_hz(filt.notch)}",
    ]
    if sensitivity is not None:
        parts.append(f"sensitivity {sensitivity:g} µV/mm")
    if timebase is not None:
        parts.append(f"timebase {timebase:g} s/page")
    return " · ".join(parts)


def browse_item(
    recording: Recording,
    start: float,
    duration: float = 10.0,
    montage: str = "referential",
    filt: display.DisplayFilter = REVIEW_FILTER,
    sensitivity: float | None = None,
    n_points: int = 2000,
) -> Item:
    """One page of traces as the Browse page draws it, with its settings line."""
    raw = recording.raw
    if not 0 <= start < recording.duration_s:
        raise EEGError(f"page start must be between 0 and {recording.duration_s:g} s, got {start:g}")
    built = build_montage(raw.info, montage, ())
    page = display.read_page(raw, built, start, duration, filt, n_points)
    if sensitivity is None:
        sensitivity = display.autoscale(page.values, figures.row_height_mm(len(page.labels)))
    span = f"{page.start:g}–{page.start + page.duration:g} s"
    fig = figures.annotated_page_figure(
        raw, page, sensitivity, f"{recording.name} · {MONTAGES.get(montage, montage)} · {span}"
    )
    settings = display_line(montage, filt, sensitivity, duration)
    return item_from_figure("browse", f"Traces from {page.start:g} s", fig, settings)
