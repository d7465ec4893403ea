"""Results autosaved to the Library (issue #16) in Streamlit's AppTest, on a private data folder.

A "new session" is a new AppTest on the same data folder: what a reload of the tab
or a restart of the server sees.
"""

from __future__ import annotations

import os

from streamlit.testing.v1 import AppTest

from backend.library import LOCAL_USER
from backend.library.api import Library
from tests.conftest import finish_jobs, open_app

TIMEOUT = 180


def _library() -> Library:
    return Library(os.environ["EEG_EXPLORER_HOME"])


def _ok(at: AppTest) -> AppTest:
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    return at


def test_the_impression_is_saved_as_typed_and_a_new_session_finds_it():
    at = open_app("pages/report.py", timeout=TIMEOUT)
    at.text_input(key="report_reviewer").set_value("Dr. A. Reader")
    at.text_area(key="report_impression").set_value("Normal awake EEG; no epileptiform discharges.")
    _ok(at.run())
    # The unchanged bundled sample joined the Library with its first result.
    [entry] = _library().list(LOCAL_USER)
    assert _library().impression(LOCAL_USER, entry.id) == "Normal awake EEG; no epileptiform discharges."

    again = _ok(open_app("pages/report.py", timeout=TIMEOUT))
    assert again.text_area(key="report_impression").value == "Normal awake EEG; no epileptiform discharges."
    assert again.text_input(key="report_reviewer").value == "Dr. A. Reader"

    again.text_area(key="report_impression").set_value("")  # cleared: nothing saved any more
    _ok(again.run())
    assert _library().impression(LOCAL_USER, entry.id) == ""


def _fit_fastica(at: AppTest) -> AppTest:
    """Fit a 5-component FastICA on the Components page (a few seconds on the bundled sample)."""
    at.selectbox(key="ica_method").set_value("fastica")
    at.radio(key="ica_amount").set_value("Count")
    at.run()
    at.number_input(key="ica_count").set_value(5)
    at.button(key="fit_ica").click()
    return _ok(finish_jobs(at.run()))  # the fit runs as a job on a Dask worker


def test_an_ica_fit_is_saved_with_its_labels_and_a_new_session_sees_it():
    at = _fit_fastica(open_app("pages/components.py", timeout=TIMEOUT))
    [entry] = _library().list(LOCAL_USER)
    [saved] = _library().results(LOCAL_USER, entry.id, kind="ica")
    p = saved.payload
    assert (p["method"], p["n_components"], p["requested"]) == ("fastica", 5, 5)
    assert len(p["labels"]) == 5 and len(p["top_probability"]) == 5

    next(m for m in at.multiselect if m.label == "Components to remove").set_value([0, 3])
    _ok(at.run())
    assert _library().results(LOCAL_USER, entry.id, kind="ica")[0].payload["chosen"] == [0, 3]

    again = _ok(open_app("pages/components.py", timeout=TIMEOUT))
    assert any("fastica ICA, 5 components; components 0, 3 chosen for removal" in c.value for c in again.caption)
    # Fitting the same ICA again opens with the saved choice rather than the rule's.
    _fit_fastica(again)
    assert next(m for m in again.multiselect if m.label == "Components to remove").value == [0, 3]
