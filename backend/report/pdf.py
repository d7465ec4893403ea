"""The report as a PDF with fpdf2: A4 or Letter, page numbers, the header on the first page.

Figures are drawn again by matplotlib from the items' data (:mod:`backend.report.static`)
as 200-dpi PNG images; text uses the DejaVu Sans font that ships with matplotlib, so
every character (µ, λ², →) prints and nothing is downloaded.
"""

from __future__ import annotations

import io
from pathlib import Path

from backend.report.build import Report, annotation_rows, header, history_lines, versions


def _fonts() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _document(paper: str, title: str):
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


def _heading(pdf, text: str, size: int = 12) -> None:
    pdf.ln(2)
    pdf.set_font("dejavu", "B", size)
    pdf.set_x(pdf.l_margin)
    pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", size=9)


def _para(pdf, text: str, height: float = 4.6) -> None:
    pdf.set_x(pdf.l_margin)
    pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def render(report: Report, paper: str = "A4") -> bytes:
    from backend.report.methods import reference_list
    from backend.report.static import render_png

    rec = report.recording
    pdf = _document(paper, f"{report.title} — {rec.name}")
    pdf.add_page()
    pdf.set_font("dejavu", "B", 16)
    pdf.multi_cell(0, 8, report.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", size=9)
    rows = [
        *header(rec, report.display),
        ("Reviewer", report.reviewer or "—"),
        ("Generated", report.generated),
        ("Software", "EEG Explorer; " + ", ".join(f"{k} {v}" for k, v in versions().items())),
    ]
    with pdf.table(col_widths=(30, 90), first_row_as_headings=False, line_height=4.6, padding=0.8) as table:
        for key, value in rows:
            table.row((key, str(value)))
    _heading(pdf, "Processing history")
    for n, line in enumerate(history_lines(rec), 1):
        _para(pdf, f"{n}. {line}")
    _heading(pdf, "Annotations")
    ann, left_out = annotation_rows(rec)
    if ann:
        with pdf.table(col_widths=(20, 20, 60), line_height=4.4, padding=0.6) as table:
            table.row(("Onset (s)", "Duration (s)", "Description"))
            for row in ann:
                table.row(row)
        if left_out:
            _para(pdf, f"… and {left_out} more (the recording's file holds them all).")
    else:
        _para(pdf, "None.")
    _heading(pdf, "Impression")
    _para(pdf, report.impression or "—")
    _heading(pdf, "Figures")
    if not report.items:
        _para(pdf, "No figures were added to this report.")
    for n, item in enumerate(report.items, 1):
        if item.figure:
            png, aspect, skipped = render_png(item.figure)
            height = pdf.epw * aspect
            if pdf.get_y() + height + 16 > pdf.page_break_trigger:
                pdf.add_page()
        _heading(pdf, f"{n}. {item.title}", 10)
        if item.figure:
            pdf.image(io.BytesIO(png), w=pdf.epw, h=height)
            if skipped:
                _para(pdf, f"(not drawn in the PDF: {', '.join(skipped)}; see the HTML report)")
        if item.settings:
            pdf.set_font("dejavumono", size=7.5)
            _para(pdf, item.settings, 3.8)
            pdf.set_font("dejavu", size=9)
        if item.caption:
            _para(pdf, item.caption)
        if validated := item.validation():
            pdf.set_font("dejavu", size=8)
            _para(pdf, validated, 4.0)
            pdf.set_font("dejavu", size=9)
    text, keys = report.methods()
    _heading(pdf, "Methods")
    _para(pdf, text)
    _heading(pdf, "References")
    for line in reference_list(keys):
        _para(pdf, line, 4.2)
    return bytes(pdf.output())
