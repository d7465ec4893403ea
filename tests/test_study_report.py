"""``python -m backend study report DERIV``: the study report as HTML and PDF, its group results, and bad input."""

from __future__ import annotations

import io
import json

import pytest

from backend.classify.validate import interval_text
from backend.cli import main
from backend.recording import Step
from backend.report.methods import step_sentence
from backend.study import run
from tests.study_support import make_cleaned_study


@pytest.fixture(scope="module")
def deriv(tmp_path_factory, physionet_file):
    return make_cleaned_study(tmp_path_factory.mktemp("study"), physionet_file)


def _report(args, capsys) -> dict:
    assert main(["study", "report", *args]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def _pdf_text(path) -> str:
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
    return " ".join(" ".join(p.extract_text().split()) for p in reader.pages)


def test_pdf_holds_the_summary_a_flagged_row_and_the_methods(deriv, tmp_path, capsys):
    out = tmp_path / "study.pdf"
    summary = _report([str(deriv), "--out", str(out), "--paper", "Letter"], capsys)
    assert summary["recordings"] == 5 and summary["flagged"] == 1 and not summary["classification"]
    text = _pdf_text(out)
    assert "Study report" in text and "Recordings 5 (5 done)" in text and "Flagged recordings 1 of 5" in text
    assert "S05R01.edf" in text and "duration_s 12.006s is low for the cohort" in text  # the short one, flagged
    assert "Each of 5 recordings of 5 subjects was processed with the same recipe" in text
    sentence = step_sentence(Step("bandpass", {"l_freq": 1.0, "h_freq": 40.0}))[0]
    assert " ".join(sentence.split())[:60] in text
    assert "No group classification or grand averages are stored" in text
    assert "@article{gramfort2013," in (tmp_path / "references.bib").read_text()


def test_html_is_one_file_with_a_figure_per_metric(deriv, tmp_path, capsys):
    out = tmp_path / "study.html"
    _report([str(deriv), "--out", str(out)], capsys)
    page = out.read_text()
    assert "Content-Security-Policy" in page and page.count("<script>") == 2
    # duration, bad channels, line noise, > 100 µV: the metrics of this recipe (no ASR or ICA)
    assert page.count("draw('fig") == 4
    assert "duration_s 12.006s is low for the cohort" in page


@pytest.mark.parametrize(
    "args, message",
    [
        (["{tmp}/missing", "--out", "{tmp}/r.html"], "is not a folder"),
        (["{tmp}", "--out", "{tmp}/r.html"], "no study results"),
        (["{tmp}", "--out", "{tmp}/r.docx"], "--out must end in .html or .pdf"),
    ],
)
def test_bad_deriv_is_one_line_and_status_2(tmp_path, capsys, args, message):
    status = main(["study", "report", *(a.format(tmp=tmp_path) for a in args)])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("error: ") and message in err and err.count("\n") == 1


@pytest.mark.slow
def test_a_stored_group_classification_is_reported(tmp_path, physionet_file, capsys):
    deriv = make_cleaned_study(tmp_path, physionet_file, seconds=(124.0, 123.0, 122.0, 121.0, 20.0))
    source = ["study", "classify", str(tmp_path / "source"), "--pattern", "S{subject}R{run}.edf"]
    assert main([*source, "--pipeline", "csp-lda", "--folds", "2", "--workers", "1", "--save", str(deriv)]) == 0
    stored = run.stored_group(deriv, "classification")
    assert stored and stored["n_subjects"] >= 4
    capsys.readouterr()
    out = tmp_path / "study.pdf"
    assert _report([str(deriv), "--out", str(out)], capsys)["classification"]
    text = _pdf_text(out)
    low, high = stored["roc_auc_ci95"]
    assert f"{stored['roc_auc_mean']:.3f} (95 % CI {low:.3f}–{high:.3f}" in text
    assert "sub-01" in text and "Group classification" in text
    # Each subject's mean over folds with its 95 % interval (corrected resampled t; 2 folds: wide).
    first = next(r for r in stored["subjects"] if r["status"] == "done")
    assert 0 <= first["roc_auc_ci95"][0] <= first["roc_auc"] <= first["roc_auc_ci95"][1] <= 1
    assert f"{first['roc_auc']:.3f} ({interval_text(first['roc_auc_ci95'])})" in text
    assert "within-subject stratified 2-fold cross-validation" in text


@pytest.mark.slow
def test_study_page_offers_the_report(deriv):
    from tests.conftest import open_app

    source = deriv.parent / "source"
    at = open_app("pages/study.py", timeout=240)
    at.text_input(key="study_root").set_value(str(source)).run()
    at.text_input(key=f"study_out:{source}").set_value(str(deriv)).run()
    assert not at.exception and not at.error
    labels = {b.label for b in at.get("download_button")}
    assert {"Study report (HTML)", "Study report (PDF)"} <= labels
