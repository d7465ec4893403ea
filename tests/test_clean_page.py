"""The Clean page in Streamlit's test harness: builds, runs a pipeline, compares, teaches."""

import pytest

from tests.conftest import open_app

# Each test opens the app in Streamlit's AppTest: seconds to minutes. The fast loop leaves them out.
pytestmark = pytest.mark.slow


@pytest.fixture
def page():
    at = open_app("pages/clean.py", timeout=180)
    assert not at.exception
    return at


def test_page_builds_and_runs_a_typed_pipeline(page):
    at = page
    at.text_input(key=next(k.key for k in at.text_input if k.key.startswith("clean_text:"))).set_value(
        "bandpass:1,40;reref:average"
    ).run()
    assert not at.exception and not at.error
    assert [s["name"] for s in at.session_state["clean_pipeline"]] == ["bandpass", "reref"]
    at.button(key="clean_run").click().run()
    assert not at.exception and not at.error
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
    at.text_input(key=next(k.key for k in at.text_input if k.key.startswith("clean_text:"))).set_value(
        "bandpass:1,40;nope"
    ).run()
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
    at.text_input(key=next(k.key for k in at.text_input if k.key.startswith("clean_text:"))).set_value(
        "notch:60;reref:average"
    ).run()
    at.button(key="clean_run").click().run()
    at.session_state["recordings"] = [physionet_recording]  # the user opens another upload
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
    at.text_input(key=next(k.key for k in at.text_input if k.key.startswith("clean_text:"))).set_value(
        "bandpass:1,none;art"
    ).run()
    listed = [m.value for m in at.markdown if m.value[:3] in ("1. ", "2. ")]
    assert listed == ["1. Low cut 1 Hz", "2. Transformer denoiser"]
