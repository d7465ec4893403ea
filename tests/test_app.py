"""The app starts on a bundled sample and every page renders without an exception."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

PAGES = ["pages/load.py", "pages/browse.py", "pages/clean.py", "pages/components.py", "pages/sources.py", "pages/classify.py"]


def _app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def test_app_opens_on_a_bundled_recording():
    at = _app()
    assert any("eeglab_data.set" in m.value for m in at.sidebar.markdown)
    assert any("32 channels" in c.value for c in at.sidebar.caption)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(page):
    at = _app()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert at.title and at.title[0].value


def test_load_page_opens_the_other_sample_and_shows_its_summary():
    at = _app()
    at.selectbox(key="sample_choice").select_index(1).run()
    at.button(key="open_sample").click().run()
    assert not at.exception
    assert at.session_state["recordings"][-1].name == "S001R04.edf"
    assert any("T1 ×8" in c.value for c in at.caption)
