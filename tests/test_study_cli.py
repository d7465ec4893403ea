"""``python -m backend study ...``: listing, bad input refused in one line, the group numbers on PhysioNet."""

from __future__ import annotations

import json

import pytest

from backend import engine
from backend.cli import main
from backend.study import figures, quality
from tests.study_support import make_folder


def _json(capsys):
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_list_shows_the_table_before_anything_runs(tmp_path, physionet_file, capsys):
    make_folder(tmp_path, physionet_file)
    assert main(["study", "list", str(tmp_path), "--pattern", "S{subject}R{run}.edf", "--json"]) == 0
    rows = _json(capsys)["recordings"]
    assert [(r["subject"], r["run"], r["file"]) for r in rows] == [
        ("01", "01", "S01R01.edf"),
        ("02", "01", "S02R01.edf"),
    ]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--pattern", "X{subject}.edf", "--steps", "bandpass:1,40"], "no recordings found"),
        (["--recipe", "missing.json"], "cannot read the recipe"),
        (["--steps", "bandpass:1,40;frobnicate"], "unknown step 'frobnicate'"),
        (["--steps", "bandpass:1,40", "--scheduler", "tcp://127.0.0.1:9"], "cannot reach the Dask scheduler"),
    ],
)
def test_bad_input_is_one_line_and_status_2(tmp_path, physionet_file, capsys, extra, message):
    make_folder(tmp_path / "data", physionet_file, subjects=("01",))
    status = main(["study", "run", str(tmp_path / "data"), "--out", str(tmp_path / "deriv"), *extra])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("error: ") and message in err and err.count("\n") == 1


def test_unreadable_recipe_and_empty_derivatives(tmp_path, capsys):
    recipe = tmp_path / "r.json"
    recipe.write_text("{not json")
    (tmp_path / "data").mkdir()
    assert main(["study", "run", str(tmp_path / "data"), "--recipe", str(recipe), "--out", str(tmp_path / "d")]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert main(["study", "qc", str(tmp_path / "data")]) == 2
    assert "no study results" in capsys.readouterr().err


def test_figures_mark_outliers():
    rows = [{"subject": f"{i:02d}", "status": "done", "asr_s": v} for i, v in enumerate([1.0, 1.2, 0.9, 1.1, 9.0])]
    rows.append({"subject": "09", "status": "failed", "error": "broken"})
    flagged = quality.flag_outliers(rows)
    assert [r["outlier"] for r in flagged] == [False, False, False, False, True, False]
    assert flagged[4]["outlier_reason"].startswith("asr_s 9s is high for the cohort")
    fig = figures.quality_figure(flagged, "asr_s")
    assert list(fig.data[1].marker.color).count(figures.OUTLIER_COLOR) == 1
    result = {
        "pipeline": "mdm",
        "subjects": [
            {"subject": "1", "status": "done", "roc_auc": 0.8, "roc_auc_std": 0.1},
            {"subject": "2", "status": "done", "roc_auc": 0.6, "roc_auc_std": 0.1},
        ],
        "roc_auc_mean": 0.7,
        "roc_auc_ci95": [0.5, 0.9],
        "loso": None,
    }
    assert len(figures.classification_figure(result).data) == 1


@pytest.mark.slow
def test_run_qc_and_classify_on_physionet(shared_data, tmp_path, capsys, monkeypatch):
    """Two real PhysioNet subjects (runs 4, 8, 12): a study run, its quality table, the group classification."""
    monkeypatch.delenv(engine.SCHEDULER_ENV, raising=False)
    root = shared_data / "eegbci_physionet"
    source = [str(root), "--pattern", "S{subject}R{run}.edf", "--subjects", "1,2"]
    try:
        deriv = tmp_path / "deriv"
        assert (
            main(
                [
                    "study",
                    "run",
                    *source,
                    "--steps",
                    "bandpass:1,40;reref:average",
                    "--out",
                    str(deriv),
                    "--workers",
                    "2",
                    "--json",
                ]
            )
            == 0
        )
        assert _json(capsys)["counts"]["done"] == 6
        assert main(["study", "qc", str(deriv), "--json", "--out", str(tmp_path / "q.csv")]) == 0
        recordings = _json(capsys)["recordings"]
        assert len(recordings) == 6 and {r["status"] for r in recordings} == {"done"}
        assert (tmp_path / "q.csv").read_text().count("\n") == 7
        assert (
            main(["study", "classify", *source, "--events", "T1,T2", "--pipeline", "ts-lr", "--workers", "2", "--json"])
            == 0
        )
        result = _json(capsys)
        assert [s["subject"] for s in result["subjects"]] == ["001", "002"]
        assert all(0.6 < s["roc_auc"] <= 1 for s in result["subjects"])
        assert result["roc_auc_mean"] == pytest.approx(sum(s["roc_auc"] for s in result["subjects"]) / 2)
    finally:
        engine.close_client()
