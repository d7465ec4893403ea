"""CLI commands of the browse stage: ``page`` (one page of traces) and ``annotations`` (CSV export)."""

from __future__ import annotations

import time
from pathlib import Path

from backend.browse import annotations as annotation_table
from backend.browse import display, figures
from backend.browse.montages import MONTAGES, build_montage, parse_pairs
from backend.cli import add_command, print_json
from backend.errors import EEGError
from backend.io import load_recording


def _hz(text: str) -> float | None:
    return None if text.lower() in ("off", "none", "0") else float(text)


def add_commands(sub) -> None:
    page = add_command(sub, "page")
    page.add_argument("paths", nargs="+", help="the recording's files (header and companions)")
    page.add_argument("--start", type=float, default=0.0, help="page start in seconds (default 0)")
    page.add_argument("--duration", type=float, default=10.0, help="seconds per page (default 10)")
    page.add_argument("--montage", default="referential", choices=list(MONTAGES))
    page.add_argument("--pairs", default="", help="custom montage pairs, e.g. 'Fp1-F7, F7-T7'")
    page.add_argument("--lff", type=_hz, default=0.5, help="low-frequency filter in Hz or 'off' (default 0.5)")
    page.add_argument("--hff", type=_hz, default=70.0, help="high-frequency filter in Hz or 'off' (default 70)")
    page.add_argument("--notch", type=_hz, default=None, help="notch in Hz (50 or 60) or 'off' (default off)")
    page.add_argument("--sensitivity", type=float, default=None, help="µV/mm (default: autoscale)")
    page.add_argument("--points", type=int, default=2400, help="points a row after min-max downsampling")
    page.add_argument("--html", type=Path, help="write the interactive figure here (self-contained, offline)")
    page.set_defaults(func=_page)

    notes = add_command(sub, "annotations")
    notes.add_argument("paths", nargs="+")
    notes.add_argument("--csv", type=Path, help="write onset,duration,description here (else print as JSON)")
    notes.set_defaults(func=_annotations)


def _page(args) -> int:
    rec = load_recording(args.paths, look_beside=True)
    raw = rec.raw
    t0 = time.perf_counter()
    pairs = parse_pairs(args.pairs, raw.ch_names) if args.montage == "custom" else ()
    montage = build_montage(raw.info, args.montage, pairs)
    filt = display.DisplayFilter(args.lff, args.hff, args.notch)
    page = display.read_page(raw, montage, args.start, args.duration, filt, args.points)
    row_mm = figures.row_height_mm(len(page.labels))
    sensitivity = args.sensitivity or display.autoscale(page.values, row_mm)
    if sensitivity <= 0:
        raise EEGError("the sensitivity must be a positive number of µV/mm")
    fig = figures.annotated_page_figure(raw, page, sensitivity, title=f"{rec.name} · {MONTAGES[args.montage]}")
    build_ms = (time.perf_counter() - t0) * 1e3
    if args.html:
        args.html.parent.mkdir(parents=True, exist_ok=True)
        fig.write_html(args.html, include_plotlyjs=True)
    print_json(
        {
            "file": rec.name,
            "montage": args.montage,
            "rows": page.labels,
            "missing": montage.missing,
            "dropped": montage.dropped,
            "start_s": page.start,
            "duration_s": page.duration,
            "sensitivity_uv_mm": sensitivity,
            "filters": page.filter_text,
            "points_per_row": int(page.values.shape[1]),
            "build_ms": round(build_ms, 1),
            "payload_bytes": len(fig.to_json()),
            **({"html": str(args.html)} if args.html else {}),
        }
    )
    return 0


def _annotations(args) -> int:
    raw = load_recording(args.paths, look_beside=True).raw
    if args.csv:
        args.csv.write_text(annotation_table.to_csv(raw))
        print(args.csv)
    else:
        print_json(annotation_table.table(raw))
    return 0
