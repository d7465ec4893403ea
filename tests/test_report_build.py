"""The report as HTML (in Chromium, network off) and PDF (its text), the CLI, the page, and bad input."""

import io
import json
import subprocess
import sys

import pytest

from backend.report.build import Item, Report
from backend.report.methods import step_sentence
from tests.conftest import ROOT, open_app
from tests.report_support import HOSTILE, sample_report


@pytest.fixture(scope="module")
def report(physionet_recording):
    return sample_report(physionet_recording)


def test_html_is_one_file_escaping_user_text(report):
    text = report.html()
    assert text.count("Plotly") > 0 and text.count("<script>") == 2  # plotly.js once, then the drawing script
    assert HOSTILE not in text and "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in text
    assert "http://" not in text.split("<script>")[0] and "Content-Security-Policy" in text
    assert len(text) < 20e6


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_pdf_text_holds_header_annotations_and_methods(report, paper):
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(io.BytesIO(report.pdf(paper)))
    width_mm = float(reader.pages[0].mediabox.width) / 72 * 25.4
    assert abs(width_mm - (210 if paper == "A4" else 215.9)) < 1
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    first = " ".join(reader.pages[0].extract_text().split())
    summary = report.recording.summary()
    for field in ("S001R04.edf", "EDF", "64", "160 Hz", summary["start"], "Dr. Ada Example"):
        assert field in first, field
    assert "page 1 of" in first and "spike?" in text and "12.500" in text
    for step in report.recording.history:
        sentence = " ".join(step_sentence(step, report.recording)[0].split())
        assert sentence[:60] in text, sentence
    assert "window.__pwned" in text  # the hostile caption printed as text
    assert sum(len(p.images) for p in reader.pages) == len(report.items)  # each figure drawn


def test_report_with_nothing_added(physionet_recording):
    empty = Report(physionet_recording)
    assert "No figures were added" in empty.html()
    assert empty.pdf()[:5] == b"%PDF-"


def test_bad_items_are_refused():
    from backend.errors import EEGError

    with pytest.raises(EEGError, match="kind must be one of"):
        Item("nope", "x")
    assert len(Item("figure", "x", caption="c" * 10_000).caption) == 2000


@pytest.mark.slow
def test_cli_writes_html_pdf_and_bibtex(physionet_file, tmp_path):
    out = tmp_path / "r.pdf"
    cmd = [sys.executable, "-m", "backend", "report", str(physionet_file), "--steps", "bandpass:1,40"]
    done = subprocess.run([*cmd, "--page", "5", "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.splitlines()[-1])
    assert summary["items"] == 1 and out.read_bytes()[:5] == b"%PDF-"
    assert "@article{gramfort2013," in (tmp_path / "references.bib").read_text()
    bad = subprocess.run([*cmd, "--out", str(tmp_path / "r.docx")], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and bad.stderr.startswith("error: --out must end in .html or .pdf")


def test_page_lists_added_items_and_reorders():
    at = open_app("pages/report.py", timeout=180)
    assert not at.exception and "Nothing added yet" in at.info[0].value
    at.session_state["report_items"] = [
        Item("figure", "first", {"data": [], "layout": {}}).to_dict(),
        Item("figure", "second", {"data": [], "layout": {}}).to_dict(),
    ]
    at.run()
    at.button(key="report_down_0").click().run()
    assert [i["title"] for i in at.session_state["report_items"]] == ["second", "first"]
    at.button(key="report_remove_1").click().run()
    assert [i["title"] for i in at.session_state["report_items"]] == ["second"]
    assert not at.exception and any("read with MNE-Python" in c.value for c in at.code)
