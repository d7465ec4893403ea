"""The report as a PDF with fpdf2: A4 or Letter, page numbers, the header on the first page.

Figures are drawn again by matplotlib from the items' data (:mod:`backend.report.static`)
as 200-dpi PNG images; text uses the DejaVu Sans font that ships with matplotlib, so
every character (µ, λ², →) prints and nothing is downloaded.
"""

from __future__ import annotations

import io
from pathlib import Path

from backend.report.build import Item, Report, annotation_rows, header, history_lines, software


def _fonts() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def document(paper: str, title: str):
    from fpdf import FPDF

    class _PDF(FPDF):
        def footer(self):
            self.set_y(-12)
            self.set_font("dejavu", size=8)
            self.set_text_color(110)
            self.cell(0, 8, f"{title} · page {self.page_no()} of {{nb}}", align="C")
            self.set_text_color(0)

    pdf = _PDF(format=paper, unit="mm")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=18)
    fonts = _fonts()
    pdf.add_font("dejavu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("dejavu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.add_font("dejavumono", "", str(fonts / "DejaVuSansMono.ttf"))
    pdf.set_title(title)
    pdf.set_creator("EEG Explorer")
    return pdf


def heading(pdf, text: str, size: int = 12) -> None:
    pdf.ln(2)
    pdf.set_font("dejavu", "B", size)
    pdf.set_x(pdf.l_margin)
    pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", size=9)


def para(pdf, text: str, height: float = 4.6) -> None:
    pdf.set_x(pdf.l_margin)
    pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def key_values(pdf, rows: list[tuple[str, str]]) -> None:
    with pdf.table(col_widths=(30, 90), first_row_as_headings=False, line_height=4.6, padding=0.8) as table:
        for key, value in rows:
            table.row((key, str(value)))


def table(pdf, columns: list[str], rows: list[list[str]], widths: tuple[float, ...], size: float = 9) -> None:
    """A table with a heading row (text cells)."""
    pdf.set_font("dejavu", size=size)
    with pdf.table(col_widths=widths, line_height=size / 2, padding=0.6) as t:
        t.row(columns)
        for row in rows:
            t.row([str(c) for c in row])
    pdf.set_font("dejavu", size=9)


def figures(pdf, items: list[Item], empty: str = "No figures were added to this report.", start: int = 1) -> None:
    """Each item's figure (drawn again by matplotlib), settings, caption and validation line, numbered from ``start``."""
    from backend.report.static import render_png

    if not items:
        para(pdf, empty)
    for n, item in enumerate(items, start):
        if item.figure:
            png, aspect, skipped = render_png(item.figure)
            height = pdf.epw * aspect
            if pdf.get_y() + height + 16 > pdf.page_break_trigger:
                pdf.add_page()
        heading(pdf, f"{n}. {item.title}", 10)
        if item.figure:
            pdf.image(io.BytesIO(png), w=pdf.epw, h=height)
            if skipped:
                para(pdf, f"(not drawn in the PDF: {', '.join(skipped)}; see the HTML report)")
        if item.settings:
            pdf.set_font("dejavumono", size=7.5)
            para(pdf, item.settings, 3.8)
            pdf.set_font("dejavu", size=9)
        if item.caption:
            para(pdf, item.caption)
        if validated := item.validation():
            pdf.set_font("dejavu", size=8)
            para(pdf, validated, 4.0)
            pdf.set_font("dejavu", size=9)


def methods(pdf, text: str, keys: list[str]) -> None:
    from backend.report.methods import reference_list

    heading(pdf, "Methods")
    para(pdf, text)
    heading(pdf, "References")
    for line in reference_list(keys):
        para(pdf, line, 4.2)


def title_page(pdf, title: str) -> None:
    pdf.add_page()
    pdf.set_font("dejavu", "B", 16)
    pdf.multi_cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", size=9)


def render(report: Report, paper: str = "A4") -> bytes:
    rec = report.recording
    pdf = document(paper, f"{report.title} — {rec.name}")
    title_page(pdf, report.title)
    key_values(
        pdf,
        [
            *header(rec, report.display),
            ("Reviewer", report.reviewer or "—"),
            ("Generated", report.generated),
            software(),
        ],
    )
    heading(pdf, "Processing history")
    for n, line in enumerate(history_lines(rec), 1):
        para(pdf, f"{n}. {line}")
    heading(pdf, "Annotations")
    ann, left_out = annotation_rows(rec)
    if ann:
        table(pdf, ["Onset (s)", "Duration (s)", "Description"], [list(r) for r in ann], (20, 20, 60), 8.8)
        if left_out:
            para(pdf, f"… and {left_out} more (the recording's file holds them all).")
    else:
        para(pdf, "None.")
    heading(pdf, "Impression")
    para(pdf, report.impression or "—")
    heading(pdf, "Figures")
    figures(pdf, report.items)
    methods(pdf, *report.methods())
    return bytes(pdf.output())
