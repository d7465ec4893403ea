"""Jobs on the Dask workers in the app (:mod:`backend.jobs`): the sidebar's list, and a page's job.

A page submits a heavy stage for the open recording (which joins the Library first, as a
bundled sample does at its first change) and shows its progress from a fragment; the user
may leave: the job goes on, its result is stored in the Library, and the page shows it when
the user comes back. Every page's sidebar lists the user's recent jobs.

``EEG_EXPLORER_JOBS=server`` runs the stages in the app server's process instead, as before
jobs existed (for comparison in ``benchmarks/e2e_load.py``); a recording outside the Library
is also worked on in the server (it has no Library entry for a worker to open).
"""

from __future__ import annotations

import os
import time

import streamlit as st

from backend import jobs
from backend.errors import EEGError
from backend.library.api import Result
from backend.recording import Recording
from ui import library, session
from ui.cache import cached

JOBS_ENV = "EEG_EXPLORER_JOBS"
SHOWN = 5  # jobs listed in the sidebar
ICON = {
    "running": ":material/progress_activity:",
    "done": ":material/check_circle:",
    "failed": ":material/error:",
    "cancelled": ":material/cancel:",
}


def on_workers() -> bool:
    """Whether heavy stages run as jobs on the Dask workers (the default) rather than in the server."""
    return os.environ.get(JOBS_ENV, "dask").strip().lower() != "server"


def _mine(recording_id=None, kind: str | None = None, limit: int = SHOWN) -> list[jobs.Job]:
    try:
        return jobs.jobs(library.get(), library.owner(), recording_id, kind, limit)
    except EEGError:
        return []


def _cancel(job_id: int) -> None:
    try:
        jobs.cancel(library.get(), library.owner(), job_id)
    except EEGError as err:
        st.session_state[library.SAVE_ERROR] = f"Could not cancel: {err}"


# --- the sidebar ---------------------------------------------------------------------------------


def sidebar() -> None:
    """The user's recent jobs, on every page; redrawn every 2 s while one runs."""
    found = _mine()
    if not found:
        return
    with st.sidebar:
        st.markdown("**Jobs**")
        if any(j.running for j in found):
            _live_list()
        else:
            _draw_list(found)


@st.fragment(run_every=2.0)
def _live_list() -> None:
    _draw_list(_mine())


def _draw_list(found: list[jobs.Job]) -> None:
    for job in found:
        what = f"{job.label} · {job.recording_name}"
        if job.running:
            st.progress(job.progress, text=f"{what}: {job.message}")
            st.button("Cancel", key=f"sidebar_cancel_{job.id}", on_click=_cancel, args=(job.id,))
        elif job.status == "failed":
            st.caption(f"{ICON['failed']} {what}: {job.error}")
        else:
            st.caption(f"{ICON[job.status]} {what}: {job.status}")


# --- a page's job --------------------------------------------------------------------------------


def submit(rec: Recording, kind: str, params: dict) -> jobs.Job:
    """Send ``kind`` for the open recording to the workers; the recording joins the Library first."""
    found = library.join()
    if found is None:
        raise EEGError("this recording is not in your library, so it cannot be worked on as a job")
    params = dict(params, steps_key=rec.steps_key)
    return jobs.submit(library.get(), library.owner(), kind, found.id, params, session=session.session_id())


def latest(rec: Recording, kind: str, name: str | None = None) -> jobs.Job | None:
    """The newest job of ``kind`` on the open recording in its present state (and result ``name``), or None."""
    found = library.entry()
    if found is None:
        return None
    for job in _mine(found.id, kind, limit=20):
        if job.params.get("steps_key") == rec.steps_key and name in (None, job.params.get("name")):
            return job
    return None


def wait_here(job: jobs.Job) -> None:
    """Show a job that has not stored its result: progress (and Cancel) while it runs, else its end."""
    if job.running:
        _progress(job.id)
    elif job.status == "failed":
        st.error(f"{job.label} failed: {job.error}", icon=":material/error:")
    elif job.status == "cancelled":
        st.info(f"{job.label} was cancelled.", icon=":material/cancel:")


def in_library() -> bool:
    """Whether the open recording is in the Library (a bundled sample joins it when a job starts): a worker can open it."""
    return library.entry() is not None or library.BUNDLED in st.session_state


def in_server() -> bool:
    """Whether the open recording's heavy results are computed in this process: jobs off, or outside the Library."""
    return not on_workers() or library.entry() is None


def start(rec: Recording, kind: str, name: str, params: dict) -> None:
    """Send ``kind`` for the open recording unless its result ``name`` is stored or its job is running.

    A job that cannot be sent (no cluster, the recording gone) is one line on the page.
    """
    if library.latest_result(jobs.KINDS[kind].result_kind, name) is not None:
        return
    job = latest(rec, kind, name)
    if job is None or not job.running:  # none yet, failed, cancelled, or done with its result deleted since
        with session.user_errors():
            submit(rec, kind, dict(params, name=name))


def stored(rec: Recording, kind: str, name: str, hint: str) -> Result | None:
    """The stored result ``name`` of a ``kind`` job; else None, with its progress, its end or ``hint`` shown."""
    saved = library.latest_result(jobs.KINDS[kind].result_kind, name)
    if saved is not None:
        return saved
    job = latest(rec, kind, name)
    if job is None or job.status == "done":  # none, or its result was deleted since
        st.info(hint, icon=":material/info:")
    else:
        wait_here(job)
    return None


@st.fragment(run_every=1.0)
def _progress(job_id: int) -> None:
    job = jobs.get(library.get(), library.owner(), job_id)
    if not job.running:
        st.rerun(scope="app")
    elapsed = time.time() - job.created_at.timestamp()
    st.progress(job.progress, text=f"{job.label} on a worker: {job.message} ({elapsed:.0f} s)")
    st.caption("You can leave this page: the job goes on, and its result is stored in your library.")
    st.button("Cancel", key=f"page_cancel_{job_id}", on_click=_cancel, args=(job_id,))


# --- Components ----------------------------------------------------------------------------------


def start_ica(rec: Recording, settings: tuple) -> None:
    """Fit ICA + ICLabel with ``settings`` (method, n_components, seed) for the open recording.

    As a job on a worker when the recording is (or joins) the Library and jobs are on;
    a fit already stored or running is not started again. Otherwise the page fits in the
    server when it shows the components.
    """
    from backend.components.job import result_name

    st.session_state[session.SHOWN_COMPONENTS] = (rec.key, settings)
    method, n_components, seed = settings
    if method == "stored" or not on_workers() or not in_library():
        return
    name = result_name(rec.steps_key, method, n_components, seed)
    start(rec, "ica", name, {"method": method, "n_components": n_components, "seed": seed})


def last_ica(rec: Recording) -> tuple | None:
    """The settings of this recording's last ICA job (a user coming back), or None."""
    job = latest(rec, "ica") if on_workers() else None
    if job is None:
        return None
    return (job.params["method"], job.params["n_components"], job.params["seed"])


def ica_decomposition(rec: Recording, settings: tuple):
    """The components the Components page shows; None while its job runs (progress shown) or after it failed.

    A stored ICA, and every fit when jobs are off or the recording is outside the Library,
    come from this process (:func:`ui.session.decomposition`).
    """
    from backend.components.job import result_name

    method, n_components, seed = settings
    if method == "stored":
        return session.decomposition(rec, *settings)
    if in_server():
        with st.spinner(f"Fitting ICA ({method}) and labelling components with ICLabel…"):
            dec = session.decomposition(rec, *settings)
            _ = dec.probabilities
        return dec
    name = result_name(rec.steps_key, method, n_components, seed)
    saved = stored(rec, "ica", name, "Press **Fit ICA** to fit these settings.")
    return None if saved is None else rebuilt(rec, "ica", saved)


def shown_decomposition(rec: Recording, settings: tuple):
    """The decomposition the Components page shows for ``settings``, without drawing anything: the
    job's stored fit when there is one (another page must not refit it, nor differ from it), else
    this process's (:func:`ui.session.decomposition`)."""
    from backend.components.job import result_name

    method, n_components, seed = settings
    if method != "stored" and not in_server():
        saved = library.latest_result(
            jobs.KINDS["ica"].result_kind, result_name(rec.steps_key, method, n_components, seed)
        )
        if saved is not None:
            return rebuilt(rec, "ica", saved)
    return session.decomposition(rec, *settings)


# How a page gets back what a kind of job stored: "module:function" called as fn(recording, payload, blob).
REBUILD = {
    "ica": "backend.components.job:decomposition",
    "sources": "backend.sources.job:source_result",
}


def rebuilt(rec: Recording, kind: str, saved: Result):
    """What a ``kind`` job's stored result stands for (:data:`REBUILD`), rebuilt once per result version.

    Keyed on the database and the result's write time as well as its id and version: an id
    can come back after a deletion, and another Library (another data folder) has its own ids.
    """
    return _rebuilt(rec, kind, saved.id, saved.version, saved.updated_at.isoformat(), library.get().url)


@cached(max_entries=6)
def _rebuilt(rec: Recording, kind: str, result_id: int, version: int, written: str, database: str):
    found = library.get().results(library.owner(), library.entry().id, kind=jobs.KINDS[kind].result_kind)
    saved = next(r for r in found if r.id == result_id)
    return jobs.stage(REBUILD[kind])(rec, saved.payload, library.get().result_blob(library.owner(), result_id))


# --- Classify ------------------------------------------------------------------------------------

CV_HINT = "Press **Run cross-validation** to cross-validate these settings."
TIMELINE_HINT = "Press **Compute timeline** to compute it for these settings."


def classify_on_workers(runs: list[Recording]) -> bool:
    """Whether Classify's cross-validation and timeline run as jobs: jobs on, the recording in the
    Library and no runs added beside it (uploads outside the Library, which a worker cannot open)."""
    return on_workers() and len(runs) == 1 and in_library()


def _cv_params(settings: tuple) -> dict:
    from backend.classify.job import cv_params

    _, task, pipelines, scheme, folds = settings
    return cv_params(task, pipelines, scheme, folds)


def start_cv(rec: Recording, settings: tuple) -> None:
    """Cross-validate ``settings`` (runs, task, pipelines, scheme, folds) for the open recording as a job."""
    from backend.classify.job import result_name

    params = _cv_params(settings)
    start(rec, "classify_cv", result_name(rec.steps_key, params), params)


def cv_scores(rec: Recording, settings: tuple):
    """The stored cross-validation of ``settings``: (CVResult list, ChanceLevel); None while its job runs or after it failed."""
    from backend.classify.job import chance, result_name, scores

    params = _cv_params(settings)
    saved = stored(rec, "classify_cv", result_name(rec.steps_key, params), CV_HINT)
    return None if saved is None else (scores(saved.payload), chance(saved.payload))


def last_cv(rec: Recording) -> tuple | None:
    """The settings of this recording's last cross-validation job (a user coming back), or None."""
    from backend.classify.job import task_from

    job = latest(rec, "classify_cv")
    if job is None:
        return None
    p = job.params
    return ([rec], task_from(p), tuple(p["pipelines"]), p["scheme"], int(p["folds"]))


def _timeline_params(shown: tuple) -> dict:
    from backend.classify.job import timeline_params

    (_, _, task, pipeline, scheme, folds), step = shown
    return timeline_params(task, pipeline, scheme, folds, step)


def start_timeline(rec: Recording, shown: tuple) -> None:
    """The out-of-fold timeline of ``shown`` (("folds", runs, task, pipeline, scheme, folds), step) as a job."""
    from backend.classify.job import result_name

    if shown[0][0] != "folds":  # an uploaded model is applied in the server
        return
    params = _timeline_params(shown)
    start(rec, "classify_timeline", result_name(rec.steps_key, params), params)


def stored_timeline(rec: Recording, shown: tuple):
    """The stored timeline of ``shown``; None while its job runs or after it failed."""
    from backend.classify.job import result_name, stored_timeline

    params = _timeline_params(shown)
    saved = stored(rec, "classify_timeline", result_name(rec.steps_key, params), TIMELINE_HINT)
    return None if saved is None else stored_timeline(saved.payload)


def last_timeline(rec: Recording) -> tuple | None:
    """The settings of this recording's last timeline job, as the page requests them, or None."""
    from backend.classify.job import task_from

    job = latest(rec, "classify_timeline")
    if job is None:
        return None
    p = job.params
    return (("folds", [rec], task_from(p), p["pipeline"], p["scheme"], int(p["folds"])), float(p["step"]))


PERMUTATION_HINT = "Press **Permutation test** to run it for these settings."


def _permutation_job(rec: Recording, settings: tuple) -> tuple[dict, str]:
    """The job parameters of a permutation test's ``settings`` (runs, task, pipeline, scheme, folds, shuffles),
    and the name of its stored result."""
    from backend.classify.job import permutation_params, result_name

    params = permutation_params(*settings[1:])
    return params, result_name(rec.steps_key, params)


def start_permutation(rec: Recording, settings: tuple) -> None:
    """The permutation test of ``settings`` as a job."""
    params, name = _permutation_job(rec, settings)
    start(rec, "classify_permutation", name, params)


def stored_permutation(rec: Recording, settings: tuple):
    """The stored permutation test of ``settings`` (a :class:`PermutationTest`); None while its job runs or after it failed."""
    from backend.classify.job import stored_permutation

    saved = stored(rec, "classify_permutation", _permutation_job(rec, settings)[1], PERMUTATION_HINT)
    return None if saved is None else stored_permutation(saved.payload)


def last_permutation(rec: Recording) -> tuple | None:
    """The settings of this recording's last permutation-test job, as the page requests them, or None."""
    from backend.classify.job import task_from

    job = latest(rec, "classify_permutation")
    if job is None:
        return None
    p = job.params
    return ([rec], task_from(p), p["pipeline"], p["scheme"], int(p["folds"]), int(p["permutations"]))


TRAIN_HINT = "Press **Train on all trials** to train it again."


def start_training(rec: Recording, task, pipeline: str) -> None:
    """Train ``pipeline`` on all trials of ``task`` in the open recording as a job (a model to save)."""
    from backend.classify.job import result_name, train_params

    params = train_params(task, pipeline)
    start(rec, "classify_train", result_name(rec.steps_key, params), params)


def trained_model(rec: Recording, task, pipeline: str) -> bytes | None:
    """The model file a training job stored; None while it runs (progress shown) or after it failed."""
    from backend.classify.job import result_name, train_params

    saved = stored(rec, "classify_train", result_name(rec.steps_key, train_params(task, pipeline)), TRAIN_HINT)
    return None if saved is None else library.result_blob(saved)


def last_training(rec: Recording) -> tuple | None:
    """(task, pipeline) of this recording's last training job (a user coming back), or None."""
    from backend.classify.job import task_from

    job = latest(rec, "classify_train")
    if job is None:
        return None
    return task_from(job.params), job.params["pipeline"]


# --- Sources -------------------------------------------------------------------------------------


def start_sources(rec: Recording, params: tuple) -> None:
    """Localise with the page's ``params`` (sorted pairs) as a job, where jobs are possible (else the page does)."""
    from backend.sources.job import result_name

    if on_workers() and in_library():
        start(rec, "sources", result_name(rec.steps_key, params), {"params": pairs(params)})


def last_sources(rec: Recording) -> tuple | None:
    """The page's parameters of this recording's last localisation job (a user coming back), or None."""
    job = latest(rec, "sources") if on_workers() else None
    if job is None:
        return None
    return tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in job.params["params"])


def localisation(rec: Recording, params: tuple):
    """The Sources page's result from its job's stored estimate; None while the job runs or after it failed."""
    from backend.sources.job import result_name

    saved = stored(rec, "sources", result_name(rec.steps_key, params), "Press **Localise** to localise these settings.")
    return None if saved is None else rebuilt(rec, "sources", saved)


def pairs(params: tuple) -> list:
    """The page's sorted ``(name, value)`` parameters as JSON pairs (tuples as lists), as a job takes them."""
    return [[k, list(v) if isinstance(v, tuple) else v] for k, v in params]


DIPOLE_HINT = "Press **Fit dipole** to fit it again."


def start_dipole(rec: Recording, request: dict) -> None:
    """Fit the dipole ``request`` asks for (:func:`backend.sources.job.dipole`) as a job, unless stored or running."""
    from backend.sources.job import dipole_name

    start(rec, "dipole", dipole_name(rec.steps_key, request), request)


def dipole(rec: Recording, request: dict):
    """The stored fit of ``request`` (a DipoleFit); None while its job runs (progress shown) or after it failed."""
    from backend.sources.job import dipole_fit, dipole_name

    saved = stored(rec, "dipole", dipole_name(rec.steps_key, request), DIPOLE_HINT)
    return None if saved is None else dipole_fit(saved.payload)


def last_dipole(rec: Recording) -> dict | None:
    """The request of this recording's last dipole job (a user coming back), or None."""
    job = latest(rec, "dipole") if on_workers() else None
    if job is None:
        return None
    return {k: v for k, v in job.params.items() if k not in ("name", "steps_key")}


# --- Clean ---------------------------------------------------------------------------------------

CLEAN_RESULT = "clean_result"  # the last run: {"before", "after", "pipeline"} (the Before / after tab)


def clean_done(before: Recording, cleaned: Recording, pipeline: list) -> None:
    """A pipeline's cleaned recording becomes current (and is autosaved); the page compares it with ``before``."""
    session.push(cleaned)
    st.session_state[CLEAN_RESULT] = {"before": before.key, "after": cleaned.key, "pipeline": list(pipeline)}


def start_clean(rec: Recording, pipeline: list) -> bool:
    """Run ``pipeline`` on the open recording as a job when it is heavy (:func:`backend.clean.job.needs_job`).

    True when it is handled here: a job submitted (or one running already), or the same run's
    stored result made current. False when the page should run it in the server: light work,
    jobs off, or a recording outside the Library.
    """
    from backend.clean.job import needs_job, result_name

    if not on_workers() or not in_library() or not needs_job(rec, pipeline):
        return False
    name = result_name(rec.steps_key, pipeline)
    saved = library.latest_result("clean", name)
    if saved is not None:  # this pipeline already ran on this state (an undo since): no need to run it again
        _take_clean(rec, saved.id, pipeline)
        return True
    start(rec, "clean", name, {"pipeline": list(pipeline)})
    return True


def take_clean(rec: Recording) -> bool:
    """Make the result of a pipeline job on the open recording current, once it is done; True if it was.

    The newest job on the recording in its present state counts, in this session or a new one
    (a user coming back); a result taken up once is not taken up again (an undo stays undone).
    """
    if in_server():
        return False
    job = latest(rec, "clean")
    if job is None or job.status != "done" or job.message == jobs.APPLIED or job.result_id is None:
        return False
    jobs.mark_applied(library.get(), library.owner(), job.id)  # first: a result that cannot be read fails once
    _take_clean(rec, job.result_id, job.params.get("pipeline", []))
    return True


def _take_clean(rec: Recording, result_id: int, pipeline: list) -> None:
    from backend.clean.job import cleaned

    lib, owner = library.get(), library.owner()
    saved = next((r for r in lib.results(owner, library.entry().id, kind="clean") if r.id == result_id), None)
    if saved is None:
        raise EEGError("the cleaned recording of that run is no longer stored; run the pipeline again")
    with st.spinner("Reading the cleaned recording…"):
        clean_done(rec, cleaned(rec, saved.payload, lib.result_blob(owner, result_id)), pipeline)


def clean_waiting(rec: Recording) -> None:
    """The newest pipeline job on the open recording in its present state, while it runs or after it failed."""
    job = None if in_server() else latest(rec, "clean")
    if job is not None and job.status != "done":
        wait_here(job)
