"""The Study page in Streamlit's test harness: a folder's recordings, a run on a LocalCluster, the tables."""

from __future__ import annotations

import shutil

import pytest
from streamlit.testing.v1 import AppTest

from backend import engine
from tests.conftest import open_app

# Each test opens the app in Streamlit's AppTest: seconds to minutes. The fast loop leaves them out.
pytestmark = pytest.mark.slow

TIMEOUT_S = 240


@pytest.fixture
def page(monkeypatch):
    monkeypatch.delenv(engine.SCHEDULER_ENV, raising=False)
    at = open_app("pages/study.py", timeout=TIMEOUT_S)
    yield at
    for job in at.session_state["study_jobs"].values() if "study_jobs" in at.session_state else ():
        job.cancel.cancel()
    engine.close_client()


@pytest.fixture
def folder(tmp_path, physionet_file):
    """Two subjects, each a copy of the bundled PhysioNet run (2 min, 64 channels, T1/T2 events)."""
    root = tmp_path / "mi"
    (root / "nested").mkdir(parents=True)
    shutil.copy(physionet_file, root / "S01R04.edf")
    shutil.copy(physionet_file, root / "nested" / "S02R04.edf")  # folders are searched recursively
    (root / "notes.txt").write_text("not a recording")
    return root


def _finish(at: AppTest, stage: str) -> None:
    """Wait for a stage's thread, then rerun the page as its progress fragment would."""
    job = at.session_state["study_jobs"][stage]
    from ui import jobs

    assert jobs.wait(job, TIMEOUT_S), f"{stage} did not finish"
    job.raise_bug()
    at.run()
    assert not at.exception, at.exception


def test_missing_folder_is_refused_in_one_line(page, tmp_path):
    at = page
    at.text_input(key="study_root").set_value(str(tmp_path / "nowhere")).run()
    assert not at.exception
    assert [e.value for e in at.error] == [f"{tmp_path / 'nowhere'} does not exist on this server."]
    assert not at.button  # nothing to run


def test_folder_is_listed_with_its_labels_before_anything_runs(page, folder):
    at = page
    at.text_input(key="study_root").set_value(str(folder)).run()
    assert not at.exception and not at.error
    assert at.radio(key="study_kind").value == "folder"
    found = at.dataframe[0].value
    assert list(found["subject"]) == ["01", "02"] and list(found["run"]) == ["04", "04"]
    assert list(found["file"]) == ["S01R04.edf", "nested/S02R04.edf"]
    assert "2 recording(s) of 2 subject(s) found" in " ".join(c.value for c in at.caption)
    assert not (folder / "derivatives").exists()  # listing writes nothing
    # A pattern that reads two files as one recording is one line, not a table.
    at.text_input(key="study_pattern").set_value("S*R{subject}.edf").run()
    assert not at.exception
    assert len(at.error) == 1 and "add {run} or {session}" in at.error[0].value
    # A malformed scheduler address is one line too, and Run is off.
    at.text_input(key="study_pattern").set_value("S{subject}R{run}.edf").run()
    at.text_input(key="study_scheduler").set_value("localhost 8786").run()
    assert [e.value for e in at.error] == ["scheduler address 'localhost 8786' is not of the form tcp://HOST:PORT"]
    assert at.button(key="study_run").disabled
    # A band set by hand that is not two numbers is one line too, and Classify is off.
    at.text_input(key="study_scheduler").set_value("").run()
    at.radio(key="study_window_mode").set_value("manual").run()
    at.text_input(key="study_band").set_value("8,a").run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "the band (two frequencies in Hz, like 8,30) must be comma-separated numbers, got '8,a'"
    ]
    assert at.button(key="study_classify").disabled


def test_library_recordings_are_chosen_by_tag(folder, monkeypatch):
    from backend.library import LOCAL_USER
    from backend.library.api import Library

    with Library() as lib:  # the test's own data folder (EEG_EXPLORER_HOME), as the page's
        lib.add(LOCAL_USER, [folder / "S01R04.edf"], tags=["motor"])
        lib.add(LOCAL_USER, [folder / "nested" / "S02R04.edf"], tags=["motor"])
        lib.add(LOCAL_USER, [folder / "S01R04.edf"], tags=["rest"])  # the same file again, another entry
    monkeypatch.delenv(engine.SCHEDULER_ENV, raising=False)
    at = open_app("pages/study.py", timeout=TIMEOUT_S)
    at.radio(key="study_source").set_value("library").run()
    assert not at.exception
    assert at.selectbox(key="study_library_tag").options == ["All my recordings", "motor", "rest"]
    # All three: two entries of the same file read as the same subject and run, said in one line.
    assert [e.value for e in at.error] == [
        "S01R04.edf and S01R04.edf both read as sub-01_run-04 with the pattern 'S{subject}R{run}.edf'; "
        "add {run} or {session} to tell them apart"
    ]
    at.selectbox(key="study_library_tag").set_value("motor").run()
    found = at.dataframe[0].value
    assert not at.exception and not at.error and list(found["subject"]) == ["01", "02"]
    assert "2 recording(s) of 2 subject(s) found" in " ".join(c.value for c in at.caption)


@pytest.mark.slow
def test_run_quality_open_on_browse_and_group(page, folder):
    at = page
    at.text_input(key="study_root").set_value(str(folder)).run()
    steps_key = next(t.key for t in at.text_input if t.key.startswith("study_steps:"))
    at.text_input(key=steps_key).set_value("bandpass:1,40;reref:average").run()
    assert not at.exception and not at.error
    at.button(key="study_run").click().run()
    assert not at.exception
    _finish(at, "clean")
    job = at.session_state["study_jobs"]["clean"]
    assert job.info["workers"] >= 1 and job.info["dashboard"].startswith("http://127.0.0.1:")
    assert sorted(r["status"] for r in job.rows) == ["done", "done"]
    deriv = folder / "derivatives" / "eeg-explorer"
    assert len(list(deriv.rglob("*_desc-clean_eeg.fif"))) == 2

    # The quality table, its figures and downloads.
    quality = next(d.value for d in at.dataframe if "outlier" in d.value.columns)
    assert list(quality["subject"]) == ["01", "02"] and set(quality["status"]) == {"done"}
    assert quality["duration_s"].iloc[0] == pytest.approx(125.0, abs=0.1)
    assert len(at.get("plotly_chart")) >= 3
    assert {b.label for b in at.get("download_button")} >= {"Quality table (CSV)", "Quality table (TSV)"}

    # A rerun skips both recordings.
    at.button(key="study_run").click().run()
    _finish(at, "clean")
    assert [r["status"] for r in at.session_state["study_jobs"]["clean"].rows] == ["skipped", "skipped"]

    # Group classification and grand averages on the same cluster.
    at.selectbox(key="study_classifier").set_value("ts-lr").run()
    at.button(key="study_classify").click().run()
    _finish(at, "classify")
    result = at.session_state["study_jobs"]["classify"].result
    assert [r["status"] for r in result["subjects"]] == ["done", "done"] and result["n_subjects"] == 2
    assert 0.0 <= result["roc_auc_mean"] <= 1.0
    assert any(c.value.startswith("Mean ROC-AUC over 2 subject(s)") for c in at.caption)
    [shown] = [d.value for d in at.dataframe if "95 % interval" in d.value.columns]  # each subject's over folds
    assert all(shown["95 % interval"].str.match(r"^\d\.\d\d–\d\.\d\d$"))
    at.button(key="study_averages").click().run()
    _finish(at, "averages")
    averages = at.session_state["study_jobs"]["averages"].result
    assert set(averages["grand"]["erp"]) == {"T1", "T2"} and averages["subjects"][0]["channel"] == "Cz"

    # Selecting a row opens that recording on Browse.
    at.session_state["study_quality"] = {"selection": {"rows": [1], "columns": []}}
    at.run()
    at.button(key="study_open").click().run()
    assert not at.exception
    assert at.session_state["recordings"][-1].name.startswith("S02R04")
