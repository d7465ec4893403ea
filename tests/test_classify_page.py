"""The Classify page renders, cross-validates and draws a timeline on the bundled samples."""

from pathlib import Path

import pytest

from backend.classify.pipelines import BEST, PIPELINES
from backend.config import BUNDLED_SAMPLES
from tests.conftest import open_app

# Each test opens the app in Streamlit's AppTest: seconds to minutes. The fast loop leaves them out.
pytestmark = pytest.mark.slow

APP = Path(__file__).resolve().parent.parent / "app.py"


def _page(sample_label=None):
    at = open_app(timeout=300)
    if sample_label is not None:
        at.switch_page("pages/load.py").run()
        at.selectbox(key="sample_choice").set_value(sample_label).run()
        at.button(key="open_sample").click().run()
        assert not at.exception
    at.switch_page("pages/classify.py").run()
    return at


def test_page_on_motor_imagery_sample():
    label = next(k for k in BUNDLED_SAMPLES if "PhysioNet" in k)
    at = _page(label)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.multiselect(key="classify_events").value == ["T1", "T2"]
    table = at.dataframe[0].value
    assert list(table["pipeline"]) == [PIPELINES[BEST].label, "CSP+LDA"]  # the recommended one and the classic
    assert table["ROC-AUC"].between(0, 1).all()
    assert len(at.get("plotly_chart")) >= 6  # comparison, ROC, folds, confusion, timeline, map


def test_page_on_default_sample_and_bad_window():
    at = _page()
    assert not at.exception, at.exception
    at.slider(key="classify_window").set_value((2.0, 2.1)).run()
    assert not at.exception
    assert any("too short" in e.value for e in at.error)
