"""The Browse page in Streamlit's AppTest: renders, navigates, switches montage, marks bads, edits annotations."""

import json

import pytest

from backend.browse import annotations
from backend.io import load_recording
from tests.conftest import open_app

# Each test opens the app in Streamlit's AppTest: seconds to minutes. The fast loop leaves them out.
pytestmark = pytest.mark.slow

TIMEOUT = 90


@pytest.fixture
def app(physionet_file):
    at = open_app("pages/browse.py", recordings=[load_recording([physionet_file])], timeout=TIMEOUT)
    assert not at.exception, at.exception
    return at


def _caption(at) -> str:
    return next(c.value for c in at.caption if "s/page" in c.value)


def _view(at) -> dict:
    """The data the canvas trace view draws."""
    views = [json.loads(c.proto.json) for c in at.get("bidi_component") if c.proto.component_name == "eeg_trace_view"]
    return next(v for v in views if v.get("kind") != "overview")


def _rows(at) -> list[str]:
    return [r["name"] for r in _view(at)["rows"]]


def test_browse_page_renders_the_default_sample():
    at = open_app("pages/browse.py", timeout=TIMEOUT)
    assert not at.exception
    assert "0.0–10.0 s" in _caption(at)
    assert len(_rows(at)) == 32  # the EEGLAB tutorial's 32 channels


def test_next_previous_and_jump(app):
    app.button(key="browse_next").click().run(timeout=TIMEOUT)
    assert "10.0–20.0 s" in _caption(app)
    app.button(key="browse_next").click().run(timeout=TIMEOUT)
    app.button(key="browse_prev").click().run(timeout=TIMEOUT)
    assert "10.0–20.0 s" in _caption(app)
    app.number_input(key="browse_goto").set_value(100.0).run(timeout=TIMEOUT)
    assert "100.0–110.0 s" in _caption(app)
    assert (_view(app)["start"], _view(app)["end"]) == (100.0, 110.0)
    # Next annotation labelled T2 after 100 s, shown from one second before it.
    raw = app.session_state["recordings"][-1].raw
    t2 = annotations.next_onset(raw, "T2", 100.0)
    app.selectbox(key="browse_label").set_value("T2").run(timeout=TIMEOUT)
    app.button(key="browse_label_next").click().run(timeout=TIMEOUT)
    assert f"{t2 - 1:.1f}–" in _caption(app)
    assert not app.exception


def test_montage_timebase_and_filters_switch_live(app):
    app.selectbox(key="browse_montage").set_value("double_banana").run(timeout=TIMEOUT)
    assert not app.exception
    rows = _rows(app)
    assert rows[:2] == ["Fp1-F7", "F7-T7"] and len(rows) == 18
    app.selectbox(key="browse_timebase").set_value(30)
    app.selectbox(key="browse_hff").select_index(0)  # off
    app.selectbox(key="browse_notch").set_value(60.0)
    app.selectbox(key="browse_sensitivity").set_value("auto")
    app.run(timeout=TIMEOUT)
    caption = _caption(app)
    assert "30 s/page" in caption and "HFF off" in caption and "notch 60 Hz" in caption and "(auto)" in caption
    app.selectbox(key="browse_montage").set_value("transverse").run(timeout=TIMEOUT)
    assert any("A1, A2" in w.value for w in app.warning)  # missing electrodes named


def test_plotly_traces_on_request(app):
    app.toggle(key="browse_plotly").set_value(True).run(timeout=TIMEOUT)
    kinds = [json.loads(c.proto.json).get("kind") for c in app.get("bidi_component")]
    assert not app.exception and kinds == ["overview"]  # the canvas page view gives way to the chart
    charts = [json.loads(c.proto.spec) for c in app.get("plotly_chart")]
    traces = next(c for c in charts if "y_units_per_mm" in (c["layout"].get("meta") or {}))
    assert len(traces["data"]) == 64 and traces["layout"]["xaxis"]["range"] == [0.0, 10.0]
    app.button(key="browse_next").click().run(timeout=TIMEOUT)
    assert "10.0–20.0 s" in _caption(app)


def test_mark_bad_from_the_viewer(app):
    next(m for m in app.multiselect if m.label == "Bad channels").set_value(["Fp1"]).run(timeout=TIMEOUT)
    app.button(key="browse_save_bads").click().run(timeout=TIMEOUT)
    rec = app.session_state["recordings"][-1]
    assert rec.raw.info["bads"] == ["Fp1"] and rec.history[-1].name == "set_bads"
    assert "Fp1 (bad)" in _rows(app)
    app.toggle(key="browse_show_bads").set_value(False).run(timeout=TIMEOUT)
    assert "Fp1 (bad)" not in _rows(app)


def test_add_an_annotation_from_the_page(app):
    before = len(app.session_state["recordings"][-1].raw.annotations)
    form_inputs = [n for n in app.number_input if n.label == "Onset (s)"]
    form_inputs[0].set_value(33.0)
    next(t for t in app.text_input if t.label == "Label").set_value("seizure onset")
    next(b for b in app.button if b.label == "Add").click()
    app.run(timeout=TIMEOUT)
    assert not app.exception
    rec = app.session_state["recordings"][-1]
    assert len(rec.raw.annotations) == before + 1 and rec.history[-1].name == "add_annotation"
    assert any(
        r["description"] == "seizure onset" and r["onset"] == pytest.approx(33.0) for r in annotations.table(rec.raw)
    )


@pytest.mark.parametrize("relative", ["edf_biosemi/test.edf", "brainvision/test_CA_208.vhdr"])
def test_browse_page_renders_the_138_and_88_channel_recordings(shared_data, relative):
    primary = shared_data / relative
    files = list(primary.parent.glob(primary.stem + ".*")) if primary.suffix == ".vhdr" else [primary]
    rec = load_recording(files)
    at = open_app("pages/browse.py", recordings=[rec], timeout=TIMEOUT)
    assert not at.exception
    signal_channels = [t for t in rec.raw.get_channel_types() if t != "stim"]
    assert len(_rows(at)) == len(signal_channels)
    at.selectbox(key="browse_montage").set_value("average").run(timeout=TIMEOUT)
    assert not at.exception and _rows(at)[0].endswith("-avg")
