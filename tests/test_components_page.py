"""The Components page renders, fits, previews and applies a removal without an exception."""

from __future__ import annotations

import pytest

from backend import jobs
from backend.library import LOCAL_USER
from backend.library.api import Library
from backend.recording import Recording
from tests.conftest import finish_jobs, open_app

# Each test opens the app in Streamlit's AppTest: seconds to minutes. The fast loop leaves them out.
pytestmark = pytest.mark.slow


def test_components_page_fits_previews_and_applies():
    at = open_app("pages/components.py", timeout=180)
    assert not at.exception
    assert any("Fit ICA" in i.value for i in at.info)  # nothing fitted before the user asks
    assert not any("stored ICA" in i.value for i in at.info)  # this file carries none
    assert at.columns and all(len(c.children) for c in at.columns)  # no empty settings column

    at.selectbox(key="ica_method").set_value("fastica")
    at.button(key="fit_ica").click()
    at.run()
    assert not at.exception and not at.error
    # The fit runs as a job on a Dask worker; the page shows its progress until the result is stored.
    [job] = jobs.jobs(Library(), LOCAL_USER)
    assert job.kind == "ica" and job.params["method"] == "fastica"
    assert any("on a worker" in p.proto.text for p in at.get("progress"))
    finish_jobs(at)
    assert not at.error and jobs.get(Library(), LOCAL_USER, job.id).status == "done"
    assert any("components" in m.value and "Brain" in m.value for m in at.markdown)
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Components removed"]) >= 1  # the rule picks the blink component at least

    at.selectbox(key="erp_event").set_value("square")
    at.run()
    assert not at.exception and not at.error

    at.button(key="apply_removal").click()
    at.run()
    assert not at.exception and not at.error
    current: Recording = at.session_state["recordings"][-1]
    assert current.history[-1].name == "ica_remove"
    removed = current.history[-1].report["components_removed"]
    assert removed
    # The page shows what was removed, in words, and the fit's removed cards; not a bare "press Fit ICA".
    words = f"Removed ICA component{'s' * (len(removed) > 1)} "
    assert [s.value for s in at.success] == [current.history[-1].label()]  # as the history (sidebar) says it
    assert at.success[0].value.startswith(words) and at.success[0].value.endswith("(FastICA, all components)")
    assert len(at.get("plotly_chart")) == 2  # the removed cards and the variance they took
    assert any("decompose the cleaned recording" in i.value for i in at.info)


def test_components_page_shows_a_stored_fit_to_a_user_coming_back():
    at = open_app("pages/components.py", timeout=180)
    at.selectbox(key="ica_method").set_value("fastica")
    at.radio(key="ica_amount").set_value("Count")
    at.run()
    at.number_input(key="ica_count").set_value(6)
    at.button(key="fit_ica").click()
    at.run()
    finish_jobs(at)
    assert [j.status for j in jobs.jobs(Library(), LOCAL_USER)] == ["done"]
    # A new session (the tab closed and opened again) reopens the recording and shows the stored fit.
    again = open_app("pages/components.py", timeout=180)
    assert not again.exception and not again.error
    assert any(m.value.startswith("**6 components** (fastica, seed") for m in again.markdown)
    assert "Jobs" in [m.value.strip("*") for m in again.sidebar.markdown]


def test_components_page_shows_a_stored_ica(shared_data):
    from backend.io import load_recording

    folder = shared_data / "eeglab_sample"
    rec = load_recording([folder / "eeglab_data_epochs_ica.set", folder / "eeglab_data_epochs_ica.fdt"])
    at = open_app("pages/components.py", recordings=[rec], timeout=180)
    assert at.radio(key="ica_source").value == "Stored in the file"
    at.button(key="fit_ica").click()
    at.run()
    assert not at.exception and not at.error
    assert any(f"{rec.ica.n_components_} components** (stored in the file)" in m.value for m in at.markdown)
