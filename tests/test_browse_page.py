"""The Browse page in Streamlit's AppTest: renders, navigates, switches montage, marks bads, edits annotations."""

import json

import pytest

from backend.browse import annotations, figures
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
    """The line naming what the page shows: under the canvas (so it changes with a page turned in the
    browser), or the page's caption under Plotly traces."""
    views = [json.loads(c.proto.json) for c in at.get("bidi_component") if c.proto.component_name == "eeg_trace_view"]
    drawn = [v["caption"] for v in views if v.get("kind") != "overview"]
    return drawn[0] if drawn else next(c.value for c in at.caption if "s/page" in c.value)


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
    # The go-to and annotation-label boxes carry visible labels.
    assert app.number_input(key="browse_goto").proto.label_visibility.value == 0  # VISIBLE
    assert app.selectbox(key="browse_label").proto.label_visibility.value == 0
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


def test_traces_clip_and_fit_the_window_by_default(app):
    view = _view(app)
    assert view["clip_units"] is not None and view["height"] == figures.fit_height(figures.FIT_WINDOW_PX)
    app.toggle(key="browse_clip").set_value(False).run(timeout=TIMEOUT)
    assert _view(app)["clip_units"] is None
    app.radio(key="browse_fit").set_value("fixed").run(timeout=TIMEOUT)
    assert _view(app)["height"] == figures.page_height(64, 20)  # 20 px a row, as before
    app.radio(key="browse_fit").set_value("fit").run(timeout=TIMEOUT)
    app.number_input(key="browse_window_px").set_value(800).run(timeout=TIMEOUT)
    assert _view(app)["height"] == figures.fit_height(800) and not app.exception


def test_a_newly_opened_recording_starts_at_zero(app, eeglab_recording):
    app.button(key="browse_next").click().run(timeout=TIMEOUT)
    app.button(key="browse_next").click().run(timeout=TIMEOUT)
    assert "20.0–30.0 s" in _caption(app)
    app.session_state["recordings"] = [eeglab_recording]  # what opening a Library entry does
    app.run(timeout=TIMEOUT)
    assert "0.0–10.0 s" in _caption(app) and _view(app)["start"] == 0.0
    assert app.number_input(key="browse_goto").value == 0.0
    # A step on the same recording keeps the page.
    app.button(key="browse_next").click().run(timeout=TIMEOUT)
    bads = [eeglab_recording.raw.ch_names[0]]
    next(m for m in app.multiselect if m.label == "Bad channels").set_value(bads).run(timeout=TIMEOUT)
    app.button(key="browse_save_bads").click().run(timeout=TIMEOUT)
    assert app.session_state["recordings"][-1].raw.info["bads"] == bads
    assert "10.0–20.0 s" in _caption(app)


def test_hff_box_offers_only_what_applies_at_128_hz():
    at = open_app("pages/browse.py", timeout=TIMEOUT)  # the EEGLAB tutorial: 128 Hz
    hff = at.selectbox(key="browse_hff")
    assert None in hff.options or "off" in hff.options
    assert "70 Hz" not in hff.options and "40 Hz" in hff.options and hff.value == 40.0
    assert "57.6 Hz" in hff.help and "70" in hff.help
    notch = at.selectbox(key="browse_notch")
    assert "60 Hz" not in notch.options and notch.index == 0 and notch.options[0] == "off"  # "off" shown, not blank
    assert "HFF 40 Hz" in _caption(at) and "above 0.45" not in _caption(at)


def test_each_montage_keeps_its_channel_choice_and_says_what_it_hides(shared_data):
    at = open_app(
        "pages/browse.py",
        recordings=[load_recording([shared_data / "clinical_nihonkohden" / "MB0400FU.EDF"])],
        timeout=TIMEOUT,
    )
    everything = _rows(at)
    assert {"E", "A1", "A2", "A1 (aux)"} <= set(everything)
    assert not [c for c in at.caption if c.value.startswith("Channels ")]  # nothing hidden
    at.selectbox(key="browse_montage").set_value("double_banana").run(timeout=TIMEOUT)
    note = next(c.value for c in at.caption if c.value.startswith("Channels "))
    assert "not in this montage: E, A2, A1" in note
    at.multiselect(key="browse_regions:double_banana").unselect("temporal").run(timeout=TIMEOUT)
    assert "T3-T5" not in _rows(at)
    assert "hidden by the channel types and regions chosen for it: T3-T5, T5-O1, T4-T6, T6-O2" in next(
        c.value for c in at.caption if c.value.startswith("Channels ")
    )
    at.selectbox(key="browse_montage").set_value("referential").run(timeout=TIMEOUT)
    assert _rows(at) == everything  # as recorded shows every channel again
    assert not [c for c in at.caption if c.value.startswith("Channels ")]
    at.selectbox(key="browse_montage").set_value("double_banana").run(timeout=TIMEOUT)
    assert "T3-T5" not in _rows(at)  # the double banana's own choice is kept
    assert "temporal" not in at.multiselect(key="browse_regions:double_banana").value


def test_annotate_a_span_dragged_on_the_plotly_traces(app):
    app.toggle(key="browse_plotly").set_value(True).run(timeout=TIMEOUT)
    chart = next(
        c for c in app.get("plotly_chart") if "y_units_per_mm" in (json.loads(c.proto.spec)["layout"].get("meta") or {})
    )
    spec = json.loads(chart.proto.spec)
    assert spec["layout"]["dragmode"] == "select" and list(chart.proto.selection_mode) == [1]  # box
    # What the chart's box selection sets (Streamlit reports it as session state of the chart's key).
    app.session_state["browse_span"] = (12.0, 2.5)
    app.run(timeout=TIMEOUT)
    app.text_input(key="browse_span_label").set_value("spike")
    next(b for b in app.button if b.label == "Save annotation").click().run(timeout=TIMEOUT)
    assert not app.exception
    rec = app.session_state["recordings"][-1]
    assert rec.history[-1].name == "add_annotation"
    assert any(
        r["description"] == "spike" and (r["onset"], r["duration"]) == pytest.approx((12.0, 2.5))
        for r in annotations.table(rec.raw)
    )
    assert "browse_span" not in app.session_state
