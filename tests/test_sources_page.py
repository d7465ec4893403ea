"""The Sources page renders, localises the bundled recording and fits a dipole."""

import pytest

import tests.sources_support as sources_support  # noqa: F401  (sets the cache folder)
from tests.conftest import finish_jobs, open_app

# Each test opens the app in Streamlit's AppTest: seconds to minutes. The fast loop leaves them out.
pytestmark = pytest.mark.slow


def test_sources_page_localises_and_fits_a_dipole():
    at = open_app("pages/sources.py", timeout=240)
    assert not at.exception
    at.selectbox(key="src_model").set_value("sphere")
    at.radio(key="src_what").set_value("Event average").run()  # shows the event's fields
    at.selectbox(key="src_event").set_value("square")
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) == 3  # cortex beside the scalp map, time course, butterfly
    assert any(
        "occipital" in m.value
        or "frontal" in m.value
        or "parietal" in m.value
        or "temporal" in m.value
        or "central" in m.value
        or "cingulate" in m.value
        for m in at.metric
    )
    at.button(key="dip_go").click().run()
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) == 4
    assert any("goodness of fit" in c.value for c in at.caption)


def test_component_dipole_is_of_the_component_the_components_page_shows():
    from backend.components.ica import for_recording
    from backend.sources import dipole

    at = open_app("pages/components.py", timeout=240)
    at.selectbox(key="ica_method").set_value("fastica")
    finish_jobs(at.button(key="fit_ica").click().run())  # the fit runs as a job on a Dask worker
    assert not at.exception and not at.error
    at.switch_page("pages/sources.py")
    at.run()
    at.selectbox(key="src_model").set_value("sphere")
    at.button[0].click().run()
    assert not at.exception and not at.error
    at.radio(key="dip_target").set_value("ICA component")
    at.number_input(key="dip_component").set_value(1)
    at.button(key="dip_go").click().run()
    assert not at.exception and not at.error
    assert any("ICA component 1 of the Components page (fastica, seed 97)" in c.value for c in at.caption)
    rec = at.session_state["recordings"][-1]
    expected = dipole.fit_component(for_recording(rec, "fastica").ica, 1, rec.raw.info, "sphere")
    fitted = at.session_state["dip_fit"][2]
    assert fitted.pos_mm.tolist() == expected.pos_mm.tolist() and fitted.gof == expected.gof


def _labels(at) -> set[str]:
    return {w.label for w in [*at.number_input, *at.selectbox]}


def test_only_the_fields_of_the_chosen_mode_are_shown():
    at = open_app("pages/sources.py", timeout=240)
    assert not at.exception
    labels = _labels(at)
    assert {"Window start (s)", "Window end (s)"} <= labels
    assert not labels & {"Event", "Epoch start (s)", "Epoch end (s)", "Noise stretch start (s)"}
    at.radio(key="src_what").set_value("Event average").run()
    labels = _labels(at)
    assert {"Event", "Epoch start (s)", "Epoch end (s)"} <= labels and "Window start (s)" not in labels
    assert "Noise stretch start (s)" not in labels
    at.selectbox(key="src_cov").set_value("stretch").run()
    assert {"Noise stretch start (s)", "Noise stretch end (s)"} <= _labels(at)


def test_epoch_is_set_checked_plotted_and_exported():
    at = open_app("pages/sources.py", timeout=240)
    at.selectbox(key="src_model").set_value("sphere")
    at.radio(key="src_what").set_value("Event average").run()
    at.selectbox(key="src_event").set_value("square")
    at.number_input(key="src_e0").set_value(0.1)
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["epoch must start before the event and end after it, got 0.1 to 0.5 s"]
    assert not at.get("plotly_chart")  # nothing localised
    at.number_input(key="src_e0").set_value(-0.1)
    at.number_input(key="src_e1").set_value(0.3)
    at.button[0].click().run()
    assert not at.exception and not at.error
    result = at.session_state["src_params"][1]
    assert dict(result)["epoch"] == (-0.1, 0.3)
    butterfly = at.get("plotly_chart")[2].proto.spec
    assert "Averaged response" in butterfly
    time = at.select_slider(key=f"src_time:{result}").value
    assert f'"{time:.3f} s"' in butterfly  # the chosen time is marked
    downloads = {b.proto.label: b for b in at.get("download_button")}
    assert set(downloads) == {"Download source estimate (.stc, both hemispheres zipped)", "Download peak table (CSV)"}
    assert len(at.dataframe[0].value) == 5
