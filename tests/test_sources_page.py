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
    at.radio(key="src_what").set_value("Event average")
    at.selectbox(key="src_event").set_value("square")
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) == 2  # cortex beside the scalp map, time course
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
    assert len(at.get("plotly_chart")) == 3
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
