"""The Clean page in Streamlit's test harness: builds, runs a pipeline, compares, teaches."""

import pytest

from backend import jobs
from backend.library import LOCAL_USER
from backend.library.api import Library
from tests.conftest import finish_jobs, open_app
from ui import library

# Each test opens the app in Streamlit's AppTest: seconds to minutes. The fast loop leaves them out.
pytestmark = pytest.mark.slow


@pytest.fixture
def page():
    at = open_app("pages/clean.py", timeout=180)
    assert not at.exception
    return at


def _type(at, text: str):
    """Type a pipeline into the page's text field (the CLI's --steps)."""
    field = next(k.key for k in at.text_input if k.key.startswith("clean_text:"))
    return at.text_input(key=field).set_value(text).run()


def _run_typed(at, text: str):
    """Type a pipeline and press Run pipeline."""
    return _type(at, text).button(key="clean_run").click().run()


def test_page_builds_and_runs_a_typed_pipeline(page):
    at = page
    _type(at, "bandpass:1,40;reref:average")
    assert not at.exception and not at.error
    assert [s["name"] for s in at.session_state["clean_pipeline"]] == ["bandpass", "reref"]
    at.button(key="clean_run").click().run()
    assert not at.exception and not at.error
    # Four minutes of data: the pipeline runs as a job on a Dask worker; the page shows its progress.
    [job] = jobs.jobs(Library(), LOCAL_USER)
    assert job.kind == "clean" and [s["name"] for s in job.params["pipeline"]] == ["bandpass", "reref"]
    shown = any("Clean pipeline on a worker" in p.proto.text for p in at.get("progress"))
    assert shown or jobs.get(Library(), LOCAL_USER, job.id).status != "running"  # unless it already ended
    finish_jobs(at)
    assert not at.error and jobs.get(Library(), LOCAL_USER, job.id).message == jobs.APPLIED
    history = [s.name for s in at.session_state["recordings"][-1].history]
    assert history[-2:] == ["bandpass", "reref"]
    # The before/after tab now has its figures and the table of changes.
    assert len(at.get("plotly_chart")) >= 3
    table = at.dataframe[0].value
    assert list(table["step"]) == ["Band-pass filter", "Re-reference"]  # one row per step, in people's words
    assert list(table["parameters"]) == ["1–40 Hz", "average"]  # the settings alone: no step name again
    assert list(table["changed"]) == ["kept 1–40 Hz", "reference: average"]


def test_malformed_typed_pipeline_shows_one_line(page):
    at = page
    _type(at, "bandpass:1,40;nope")
    assert not at.exception
    assert any("unknown step 'nope'" in e.value for e in at.error)
    assert at.session_state["clean_pipeline"] == []


def test_teaching_mode_scores_band_pass(page):
    at = page
    at.multiselect(key="teach_kinds").set_value(["muscle"]).run()
    at.radio(key="teach_method").set_value("band-pass 1–40 Hz").run()
    at.button(key="teach_run").click().run()
    assert not at.exception and not at.error
    removed = at.metric[0].value
    assert removed.endswith("%") and float(removed[:-1]) > 0  # band-pass removes part of a muscle burst
    assert len(at.get("plotly_chart")) >= 2


def test_last_pipeline_reapplied_to_another_recording_in_one_click(page, physionet_recording):
    at = page
    _run_typed(at, "notch:60;reref:average")
    finish_jobs(at)
    # The user opens another upload, outside the library: the pipeline runs in the server.
    at.session_state["recordings"] = [physionet_recording]
    for key in (library.ENTRY, library.NOTES, library.SAVED, library.BUNDLED):
        if key in at.session_state:
            del at.session_state[key]
    at.run()
    at.button(key="clean_reapply").click().run()
    assert not at.exception and not at.error
    current = at.session_state["recordings"][-1]
    assert current.name == physionet_recording.name
    assert [s.name for s in current.history[1:]] == ["notch", "reref"]


def test_steps_read_in_peoples_words_and_annotations_are_not_cleaning_steps(page):
    at = page
    picker = at.selectbox(key="clean_step_choice")
    shown = list(picker.options)  # as the page formats them
    assert "Transformer denoiser" in shown and "ICA + ICLabel removal" in shown and "Band-pass filter" in shown
    assert not [o for o in shown if "_" in o or "annotation" in o.lower()]
    picker.set_value("bandpass").run()
    assert {n.label for n in at.number_input} >= {"Low cut (Hz)", "High cut (Hz)"}
    _type(at, "bandpass:1,none;art")
    listed = [m.value for m in at.markdown if m.value[:3] in ("1. ", "2. ")]
    assert listed == ["1. Low cut 1 Hz", "2. Transformer denoiser"]


def test_a_pipeline_job_left_running_shows_its_result_in_a_new_session(page):
    at = page
    _run_typed(at, "notch:60")
    [job] = jobs.jobs(Library(), LOCAL_USER)
    assert jobs.wait(Library(), LOCAL_USER, job.id, 180).status == "done"  # the tab was closed meanwhile
    again = open_app("pages/clean.py", timeout=180)  # a new session: the recording as last saved, then the job's result
    assert not again.exception and not again.error
    current = again.session_state["recordings"][-1]
    assert [s.name for s in current.history] == ["load", "notch"]
    assert list(again.dataframe[0].value["step"]) == ["Notch filter"]  # the before/after tab, as after a run here
    assert "Jobs" in [m.value.strip("*") for m in again.sidebar.markdown]
    # Taken up once: the state is saved, and a third session opens it as saved without taking the result again.
    third = open_app("pages/clean.py", timeout=180)
    assert [s.name for s in third.session_state["recordings"][-1].history] == ["load", "notch"]
    assert jobs.get(Library(), LOCAL_USER, job.id).message == jobs.APPLIED


def test_a_failing_pipeline_job_shows_one_line(page):
    at = page
    _run_typed(at, "bandpass:1,200")
    finish_jobs(at)
    [job] = jobs.jobs(Library(), LOCAL_USER)
    assert job.status == "failed"
    assert job.error == "the high cut-off (Hz) must be above 0 and below 64, got 200"
    assert [e.value for e in at.error] == [f"Clean pipeline failed: {job.error}"]
    assert [s.name for s in at.session_state["recordings"][-1].history] == ["load"]
