"""The Sources page renders, localises the bundled recording and fits a dipole."""

import pytest

import tests.sources_support as sources_support  # noqa: F401  (sets the cache folder)
from backend import jobs
from backend.library import LOCAL_USER
from backend.library.api import Library
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
    # The localisation runs as a job on a Dask worker; the page shows its progress, then the result.
    [job] = jobs.jobs(Library(), LOCAL_USER)
    assert job.kind == "sources" and dict(job.params["params"])["event"] == "square"
    assert any("Source localisation on a worker" in p.proto.text for p in at.get("progress"))
    finish_jobs(at)
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
    # The dipole is fitted by a job on a Dask worker too: progress, then the fit.
    assert [j.kind for j in jobs.jobs(Library(), LOCAL_USER)] == ["dipole", "sources"]
    assert any("Dipole fit on a worker" in p.proto.text for p in at.get("progress"))
    finish_jobs(at)
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) == 4
    assert any("goodness of fit" in c.value for c in at.caption)
    # A new session (the tab closed and opened again) shows the stored localisation and dipole, not refitted.
    again = open_app("pages/sources.py", timeout=240)
    assert not again.exception and not again.error
    assert len(again.get("plotly_chart")) == 4 and any("goodness of fit" in c.value for c in again.caption)
    assert [j.status for j in jobs.jobs(Library(), LOCAL_USER)] == ["done", "done"]


def test_component_dipole_is_of_the_component_the_components_page_shows():
    from backend.components.job import decomposition as job_decomposition
    from backend.sources import dipole

    at = open_app("pages/components.py", timeout=240)
    at.selectbox(key="ica_method").set_value("fastica")
    finish_jobs(at.button(key="fit_ica").click().run())  # the fit runs as a job on a Dask worker
    assert not at.exception and not at.error
    at.switch_page("pages/sources.py")
    at.run()
    at.selectbox(key="src_model").set_value("sphere")
    finish_jobs(at.button[0].click().run())
    assert not at.exception and not at.error
    at.radio(key="dip_target").set_value("ICA component")
    at.number_input(key="dip_component").set_value(1)
    finish_jobs(at.button(key="dip_go").click().run())  # a job on a Dask worker, on the job's stored fit
    assert not at.exception and not at.error
    assert [j.kind for j in jobs.jobs(Library(), LOCAL_USER)] == ["dipole", "sources", "ica"]
    assert any("ICA component 1 of the Components page (fastica, seed 97)" in c.value for c in at.caption)
    rec = at.session_state["recordings"][-1]
    # The components the Components page showed: the fit its job stored (never a refit here).
    with Library() as lib:
        [entry] = lib.list(LOCAL_USER)
        [saved] = lib.results(LOCAL_USER, entry.id, kind="ica_fit")
        shown = job_decomposition(rec, saved.payload, lib.result_blob(LOCAL_USER, saved.id))
    expected = dipole.fit_component(shown.ica, 1, rec.raw.info, "sphere")
    fitted = at.session_state["dip_fit"][2]
    # Fitted on a worker: the same fit up to the optimiser's rounding in another process (measured 0.01 mm).
    assert fitted.pos_mm == pytest.approx(expected.pos_mm, abs=0.1) and fitted.gof == pytest.approx(
        expected.gof, abs=0.1
    )


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
    finish_jobs(at.button[0].click().run())
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


def test_a_localisation_job_shows_its_result_to_a_user_coming_back():
    at = open_app("pages/sources.py", timeout=240)
    at.selectbox(key="src_model").set_value("sphere")
    at.button[0].click().run()  # a 10-s window; the tab is closed while the job runs
    [job] = jobs.jobs(Library(), LOCAL_USER)
    assert jobs.wait(Library(), LOCAL_USER, job.id, 240).status == "done"
    [stored] = Library().results(LOCAL_USER, job.recording_id, kind="source_estimate")
    assert stored.has_blob and len(stored.payload["peaks"]) == 5 and stored.payload["model"] == "sphere"
    again = open_app("pages/sources.py", timeout=240)  # a new session: the stored estimate, drawn here
    assert not again.exception and not again.error
    assert dict(again.session_state["src_params"][1])["model"] == "sphere"
    assert len(again.get("plotly_chart")) == 3 and len(again.dataframe[0].value) == 5
    assert [j.status for j in jobs.jobs(Library(), LOCAL_USER)] == ["done"]  # nothing localised again
