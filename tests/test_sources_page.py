"""The Sources page renders, localises the bundled recording and fits a dipole."""

import tests.sources_support as sources_support  # noqa: F401  (sets the cache folder)
from streamlit.testing.v1 import AppTest


def test_sources_page_localises_and_fits_a_dipole():
    at = AppTest.from_file("../app.py", default_timeout=240)
    at.run()
    at.switch_page("pages/sources.py")
    at.run()
    assert not at.exception
    at.selectbox(key="src_model").set_value("sphere")
    at.radio(key="src_what").set_value("Event average")
    at.selectbox(key="src_event").set_value("square")
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) == 2  # cortex beside the scalp map, time course
    assert any("occipital" in m.value or "frontal" in m.value or "parietal" in m.value or "temporal" in m.value
               or "central" in m.value or "cingulate" in m.value for m in at.metric)
    at.button(key="dip_go").click().run()
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) == 3
    assert any("goodness of fit" in c.value for c in at.caption)
