"""The Classify page: cross-validation and the timeline on request, stale results, few trials, run-wise validation."""

import pytest

from backend import jobs
from backend.config import BUNDLED_SAMPLES
from backend.library import LOCAL_USER
from backend.library.api import Library
from tests.conftest import finish_jobs, open_app

# Each test opens the app in Streamlit's AppTest: seconds to minutes. The fast loop leaves them out.
pytestmark = pytest.mark.slow

STALE = "Settings changed — press Run cross-validation"


def _page(sample_label=None):
    at = open_app(timeout=300)
    if sample_label is not None:
        at.switch_page("pages/load.py").run()
        at.selectbox(key="sample_choice").set_value(sample_label).run()
        at.button(key="open_sample").click().run()
        assert not at.exception
    at.switch_page("pages/classify.py").run()
    return at


def _motor_imagery(window: str = "manual"):
    """The bundled motor-imagery run with MDM, 3 folds; the window and band set by hand (0–3 s, 8–32 Hz)
    unless ``window="auto"`` (the page's default: choosing them costs each cross-validation a 9-point inner CV)."""
    at = _page(next(k for k in BUNDLED_SAMPLES if "PhysioNet" in k))
    assert not at.exception, at.exception
    at.radio(key="classify_window_mode").set_value(window)
    at.multiselect(key="classify_pipelines").set_value(["mdm"])  # the fastest pipeline
    at.number_input(key="classify_folds").set_value(3).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at


def _run(at, key: str, timeout: float = 180):
    """Press ``key``: the work runs as a job on a Dask worker, shown with its progress until its result is stored."""
    at.button(key=key).click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("on a worker" in p.proto.text for p in at.get("progress"))
    return finish_jobs(at, timeout)


def _captions(at) -> str:
    return "\n".join(c.value for c in at.caption)


def test_cross_validation_waits_for_run_and_goes_stale_on_a_change():
    at = _motor_imagery(window="auto")
    assert at.multiselect(key="classify_events").value == ["T1", "T2"]
    assert not at.dataframe  # opening the page (and changing settings) computes nothing
    assert len(at.get("plotly_chart")) == 1  # the covariance map only
    _run(at, "classify_run")
    assert not at.error, [e.value for e in at.error]
    table = at.dataframe[0].value
    assert list(table["pipeline"]) == ["MDM"] and table["ROC-AUC"].between(0, 1).all()
    assert STALE not in _captions(at)
    assert "chosen by inner cross-validation on the training trials in " in _captions(at)
    # 8 vs 7 trials: the result is flagged, with the chance level for that count.
    few = [w.value for w in at.warning if w.value.startswith("Few trials: ")]
    assert len(few) == 1 and few[0].startswith("Few trials: 8 vs 7 (")  # T1 vs T2
    assert "in 5% of label permutations" in few[0]
    # A change marks the shown result stale instead of cross-validating again.
    at.number_input(key="classify_folds").set_value(4).run()
    assert STALE in _captions(at)
    assert list(at.dataframe[0].value["pipeline"]) == ["MDM"]
    assert at.session_state["classify_run:request"][1][4] == 3  # still the 3-fold result
    _run(at, "classify_run")
    assert STALE not in _captions(at)
    assert at.session_state["classify_run:request"][1][4] == 4


def test_timeline_on_request():
    at = _motor_imagery()
    _run(at, "classify_run")
    charts = len(at.get("plotly_chart"))  # comparison, ROC, folds, confusion, map
    assert charts == 5
    _run(at, "classify_timeline_go")
    assert not at.error, [e.value for e in at.error]
    assert len(at.get("plotly_chart")) == charts + 1
    assert "Out of fold: each window is predicted by the cross-validation fold model" in _captions(at)
    assert not at.get("download_button")  # a model trained on all trials only when asked for
    _run(at, "classify_train_all")  # a job on a Dask worker too
    assert not at.exception and len(at.get("download_button")) == 1  # ... and then it can be saved
    with Library() as lib:
        job = jobs.jobs(lib, LOCAL_USER)[0]
        assert (job.kind, job.status, job.params["pipeline"]) == ("classify_train", "done", "mdm")
        [model] = lib.results(LOCAL_USER, job.recording_id, kind="model")
        assert model.id == job.result_id and model.has_blob
    assert at.get("download_button")[0].proto.label == "Save model"
    at.select_slider(key="classify_step").set_value(1.0).run()
    assert "Settings changed — press Compute timeline" in _captions(at)
    assert len(at.get("plotly_chart")) == charts + 1  # the previous timeline stays
    again = _page()  # a new session (the tab closed and opened again): the stored model, not trained again
    assert not again.exception and [b.proto.label for b in again.get("download_button")] == ["Save model"]
    assert [j.kind for j in jobs.jobs(Library(), LOCAL_USER)].count("classify_train") == 1


def test_leave_one_run_out_explained_then_offered(shared_data):
    at = _motor_imagery()
    _run(at, "classify_run")  # k-fold on this recording alone: a job
    assert "Leave one run out needs two or more runs" in _captions(at)
    at.radio(key="classify_scheme").set_value("runs").run()
    assert at.button(key="classify_run").disabled
    extra = shared_data / "eegbci_physionet" / "S001" / "S001R08.edf"
    at.file_uploader(key="classify_runs").set_value([(extra.name, extra.read_bytes(), "application/octet-stream")])
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Leave one run out needs" not in _captions(at)
    assert STALE in _captions(at) and list(at.dataframe[0].value["pipeline"]) == ["MDM"]  # the job's, still shown
    assert "The added runs are not in your library, so a worker cannot open them" in _captions(at)
    assert not at.button(key="classify_run").disabled
    at.button(key="classify_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.session_state["classify_run:request"][1][3] == "runs"
    assert list(at.dataframe[0].value["pipeline"]) == ["MDM"]
    assert [j.kind for j in jobs.jobs(Library(), LOCAL_USER)] == ["classify_cv"]  # the runs: in the server, at once


def test_a_user_coming_back_sees_the_stored_cross_validation_and_timeline():
    at = _motor_imagery()
    _run(at, "classify_run")
    _run(at, "classify_timeline_go")
    assert [(j.kind, j.status) for j in jobs.jobs(Library(), LOCAL_USER)] == [
        ("classify_timeline", "done"),
        ("classify_cv", "done"),
    ]
    # A new session (the tab closed and opened again) reopens the recording and shows both, not refitted.
    again = _page()
    assert not again.exception and not again.error, [e.value for e in again.error]
    assert list(again.dataframe[0].value["pipeline"]) == ["MDM"]
    assert [w.value for w in again.warning if w.value.startswith("Few trials: 8 vs 7 (")]
    assert len(again.get("plotly_chart")) == 6  # comparison, ROC, folds, confusion, timeline, map
    assert "Out of fold: each window" in _captions(again)
    assert STALE in _captions(again)  # the widgets are at their defaults; shown: the stored 3-fold MDM
    assert len(jobs.jobs(Library(), LOCAL_USER)) == 2  # nothing ran again


def test_a_failing_cross_validation_job_shows_its_one_line():
    at = _motor_imagery()
    at.number_input(key="classify_folds").set_value(10).run()  # more folds than the 7 trials of T2
    at.button(key="classify_run").click().run()
    finish_jobs(at)
    [job] = jobs.jobs(Library(), LOCAL_USER)
    assert job.status == "failed"
    line = "10-fold cross-validation needs 2 ≤ folds ≤ the smallest class (7 trials)"
    assert job.error == line
    assert [e.value for e in at.error] == [f"Cross-validation failed: {line}"]
    assert not at.dataframe


def test_page_on_default_sample_and_bad_window():
    at = _page()
    assert not at.exception, at.exception
    assert at.radio(key="classify_window_mode").value == "auto"  # the default: chosen by inner CV
    assert not [s for s in at.slider if s.key == "classify_window"]  # manual fields only when manual
    at.radio(key="classify_window_mode").set_value("manual").run()
    at.slider(key="classify_window").set_value((2.0, 2.1)).run()
    assert not at.exception
    assert any("too short" in e.value for e in at.error)


def test_cross_validation_shows_its_interval_and_a_permutation_test_on_request(monkeypatch):
    from backend.classify import chance

    monkeypatch.setattr(chance, "DEFAULT_PERMUTATIONS", 10)  # the page's 100 take minutes on a shared machine
    at = _motor_imagery()
    _run(at, "classify_run")
    [line] = [c.value for c in at.caption if c.value.startswith("MDM: ROC-AUC ")]
    assert " over 3 folds (95 % interval " in line and "corrected resampled t" in line
    about = [c.value for c in at.caption if c.value.startswith("Shuffles the labels 10 times")]
    assert len(about) == 1 and "About " in about[0] and "× 10)" in about[0]  # how long, before starting
    charts = len(at.get("plotly_chart"))
    _run(at, "classify_permutation_go", timeout=600)  # ten cross-validations
    assert not at.error, [e.value for e in at.error]
    [job] = [j for j in jobs.jobs(Library(), LOCAL_USER) if j.kind == "classify_permutation"]
    assert job.status == "done" and job.params["permutations"] == 10 and job.params["pipeline"] == "mdm"
    [result] = [c.value for c in at.caption if c.value.startswith("Permutation test (10 label shuffles): p = ")]
    assert "chance level (95th percentile of the null) ROC-AUC " in result
    assert len(at.get("plotly_chart")) == charts + 1  # the null's histogram
    with Library() as lib:
        [stored] = lib.results(LOCAL_USER, job.recording_id, kind="classify_permutation")
    assert len(stored.payload["null"]) == 10 and 0 < stored.payload["p_value"] <= 1


def test_a_permutation_test_in_the_server_with_added_runs(shared_data, monkeypatch):
    from backend.classify import chance

    monkeypatch.setattr(chance, "DEFAULT_PERMUTATIONS", 5)
    at = _motor_imagery()
    extra = shared_data / "eegbci_physionet" / "S001" / "S001R08.edf"
    at.file_uploader(key="classify_runs").set_value([(extra.name, extra.read_bytes(), "application/octet-stream")])
    at.radio(key="classify_scheme").set_value("runs").run()
    at.button(key="classify_run").click().run()
    at.button(key="classify_permutation_go").click().run()  # runs added beside the recording: in the server, at once
    assert not at.exception and not at.error, [e.value for e in at.error]
    [line] = [c.value for c in at.caption if c.value.startswith("Permutation test (5 label shuffles): p = ")]
    assert not jobs.jobs(Library(), LOCAL_USER)
    with Library() as lib:
        [entry] = lib.list(LOCAL_USER)
        saved = {r.name: r.payload for r in lib.results(LOCAL_USER, entry.id, kind="classification")}
    assert saved["permutation test"]["scheme"] == "runs" and len(saved["permutation test"]["null"]) == 5
    assert saved["cross-validation"]["results"][0]["roc_auc_ci95"][1] <= 1
