""" "Add to report" on Components, Sources and Classify adds an item of the right kind; each shows its validation line."""

import pytest

import tests.sources_support as sources_support  # noqa: F401  (sets the cache folder)
from backend.config import BUNDLED_SAMPLES
from tests.conftest import finish_jobs, open_app
from tests.test_report_validation import assert_stated_figures_come_from_results

# Each test opens the app in Streamlit's AppTest: seconds to minutes. The fast loop leaves them out.
pytestmark = pytest.mark.slow


def _validation_caption(at, method: str) -> str:
    shown = [c.value for c in at.caption if "benchmarks/" in c.value]
    assert len(shown) == 1, shown
    assert_stated_figures_come_from_results(shown[0], method)
    return shown[0]


def _items(at) -> list[dict]:
    return list(at.session_state["report_items"]) if "report_items" in at.session_state else []


def test_components_add_the_cards_and_the_removed_components():
    at = open_app("pages/components.py", timeout=300)
    at.selectbox(key="ica_method").set_value("fastica")
    finish_jobs(at.button(key="fit_ica").click().run())  # the fit runs as a job on a Dask worker
    assert not at.exception and not at.error
    assert "ICLabel" in _validation_caption(at, "iclabel")
    at.button(key="report_add_components_cards").click().run()
    at.button(key="report_add_components_removed").click().run()
    assert not at.exception and not at.error
    cards, removed = _items(at)
    assert cards["kind"] == removed["kind"] == "components"
    assert cards["analysis"]["method"] == "fastica" and cards["figure"]["data"]
    chosen = next(m.value for m in at.multiselect if m.label == "Components to remove")
    assert removed["title"] == f"Components chosen for removal ({len(chosen)})"
    assert removed["settings"].startswith("removed: " + ", ".join(f"IC{i}" for i in sorted(chosen)))


def test_sources_add_the_cortex_at_the_chosen_time():
    at = open_app("pages/sources.py", timeout=300)
    at.selectbox(key="src_model").set_value("sphere")
    finish_jobs(at.button[0].click().run())  # the localisation runs as a job on a Dask worker
    assert not at.exception and not at.error
    _validation_caption(at, "sources")
    at.button(key="report_add_sources_cortex").click().run()
    assert not at.exception and not at.error
    (item,) = _items(at)
    assert item["kind"] == "sources" and item["analysis"]["method"] == "eLORETA"
    time = next(v.value for v in at.select_slider if v.key.startswith("src_time:"))
    assert item["title"] == f"Sources at {time:.3f} s" and item["figure"]["data"]


def test_classify_adds_the_results_and_the_timeline():
    at = open_app(timeout=300)
    at.switch_page("pages/load.py").run()
    at.selectbox(key="sample_choice").set_value(next(k for k in BUNDLED_SAMPLES if "PhysioNet" in k)).run()
    at.button(key="open_sample").click().run()
    at.switch_page("pages/classify.py").run()
    at.multiselect(key="classify_pipelines").set_value(["mdm"])  # the fastest pipeline
    at.number_input(key="classify_folds").set_value(3).run()
    at.button(key="classify_run").click().run()
    finish_jobs(at)  # the cross-validation runs as a job on a Dask worker
    assert not at.exception and not at.error
    _validation_caption(at, "classify")
    at.button(key="classify_timeline_go").click().run()
    finish_jobs(at)
    at.button(key="report_add_classify_results").click().run()
    at.button(key="report_add_classify_timeline").click().run()
    assert not at.exception and not at.error
    results, timeline = _items(at)
    assert results["kind"] == timeline["kind"] == "classify"
    assert results["title"] == "Classification results" and "T1 vs T2" in results["settings"]
    assert results["caption"].startswith("MDM: ROC-AUC ") and " over 3 folds (95 % interval " in results["caption"]
    assert timeline["title"] == "Class probabilities over time" and timeline["figure"]["data"]
    assert timeline["settings"].startswith("out of fold")


def test_clean_run_with_the_denoiser_shows_its_line_and_adds_it():
    at = open_app("pages/clean.py", timeout=300)
    at.text_input(key=next(k.key for k in at.text_input if k.key.startswith("clean_text:"))).set_value(
        "bandpass:1,40;art"
    ).run()
    finish_jobs(at.button(key="clean_run").click().run())  # the denoiser runs as a job on a Dask worker
    assert not at.exception and not at.error
    assert "RRMSE_t" in _validation_caption(at, "art")
    at.button(key="report_add_clean_compare").click().run()
    (item,) = _items(at)
    assert item["kind"] == "clean" and item["analysis"]["steps"] == ["bandpass", "art"]
