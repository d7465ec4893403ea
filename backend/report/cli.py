"""``python -m backend report PATH... --out report.html|report.pdf``: the recording report from the command line."""

from __future__ import annotations

from pathlib import Path

from backend.cli import add_command, print_json
from backend.errors import EEGError


def _hz(text: str) -> float | None:
    return None if text.lower() in ("off", "none", "0") else float(text)


def add_commands(sub) -> None:
    from backend.browse.montages import MONTAGES  # light: a table of names

    rep = add_command(sub, "report")
    rep.add_argument("paths", nargs="+", help="the recording's files (header and companions)")
    source = rep.add_mutually_exclusive_group()
    source.add_argument("--steps", help='pipeline applied first, e.g. "bandpass:1,40;reref:average"')
    source.add_argument("--recipe", help="a recipe or pipeline JSON saved by EEG Explorer, applied first")
    rep.add_argument(
        "--page", type=float, action="append", default=[], help="start (s) of a page of traces to add (repeatable)"
    )
    rep.add_argument("--duration", type=float, default=10.0, help="seconds per page (default 10)")
    rep.add_argument("--montage", default="referential", choices=[m for m in MONTAGES if m != "custom"])
    rep.add_argument("--lff", type=_hz, default=0.5, help="display low-frequency filter in Hz or 'off' (default 0.5)")
    rep.add_argument("--hff", type=_hz, default=70.0, help="display high-frequency filter in Hz or 'off' (default 70)")
    rep.add_argument("--notch", type=_hz, default=None, help="display notch in Hz or 'off' (default off)")
    rep.add_argument("--sensitivity", type=float, default=None, help="µV/mm (default: autoscale each page)")
    rep.add_argument("--reviewer", default="", help="the reviewer's name")
    rep.add_argument("--impression", default="", help="the reviewer's impression (free text)")
    rep.add_argument("--paper", choices=("A4", "Letter"), default="A4", help="PDF paper size (default A4)")
    rep.add_argument("--out", required=True, type=Path, help="report.html or report.pdf (references.bib beside it)")
    rep.set_defaults(func=_report)


def _report(args) -> int:
    from backend.browse.display import DisplayFilter
    from backend.clean.pipeline import load_pipeline, parse_pipeline, run_pipeline
    from backend.io import load_recording
    from backend.report.build import Report
    from backend.report.items import browse_item, display_line

    check_out(args.out)
    pipeline = []
    if args.steps is not None:
        pipeline = parse_pipeline(args.steps)
    elif args.recipe is not None:
        try:
            pipeline = load_pipeline(Path(args.recipe).read_text(encoding="utf-8", errors="replace"))
        except OSError as exc:
            raise EEGError(f"cannot read the recipe {args.recipe}: {exc.strerror}") from None
    recording = load_recording(args.paths, look_beside=True)
    if pipeline:
        recording = run_pipeline(recording, pipeline)
    filt = DisplayFilter(args.lff, args.hff, args.notch)
    items = [browse_item(recording, start, args.duration, args.montage, filt, args.sensitivity) for start in args.page]
    report = Report(
        recording,
        items,
        reviewer=args.reviewer,
        impression=args.impression,
        display=display_line(args.montage, filt, args.sensitivity, args.duration),
    )
    bib = write_out(report, args.out, args.paper)
    print_json({"out": str(args.out), "bytes": args.out.stat().st_size, "items": len(items), "bibtex": str(bib)})
    return 0


def check_out(out: Path) -> None:
    """Refuse an output name that is neither .html nor .pdf (before any work)."""
    if out.suffix.lower() not in (".html", ".pdf"):
        raise EEGError(f"--out must end in .html or .pdf, got {out.name!r}")


def write_out(report, out: Path, paper: str = "A4") -> Path:
    """Write ``report`` (anything with ``html()``, ``pdf(paper)`` and ``bibtex()``) as ``out``, and references.bib
    beside it; returns the BibTeX file's path."""
    check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".html":
        out.write_text(report.html(), encoding="utf-8")
    else:
        out.write_bytes(report.pdf(paper))
    bib = out.with_name("references.bib")
    bib.write_text(report.bibtex(), encoding="utf-8")
    return bib
