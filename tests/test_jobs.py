"""``backend.jobs``: heavy stages as jobs on a real local Dask cluster, recorded in the Library."""

from __future__ import annotations

import os
import socket
import time

import pytest

from backend import engine, jobs
from backend.errors import EEGError
from backend.library.api import Library
from tests.test_library_api import make_fif

OWNER = "local"
TASKS = "tests.job_tasks"


@pytest.fixture(scope="module")
def client():
    """One local worker (the host's cores are shared): a crashed one is restarted by its nanny."""
    os.environ.pop(engine.SCHEDULER_ENV, None)
    client = engine.get_client(n_workers=1)
    yield client
    engine.close_client()


@pytest.fixture
def lib(tmp_path):
    with Library(tmp_path / "home") as lib:
        yield lib


@pytest.fixture
def entry(lib, tmp_path):
    return lib.add(OWNER, [make_fif(tmp_path / "small_raw.fif", n_channels=4)])


def _submit(lib, entry, client, name, params=None, session="s1"):
    return jobs.submit(
        lib, OWNER, "ica", entry.id, params or {}, session=session, function=f"{TASKS}:{name}", client=client
    )


def test_submitting_checks_its_inputs_in_one_line(lib, entry):
    with pytest.raises(
        EEGError,
        match=r"^unknown job kind 'nope'; known: ica, classify_cv, classify_timeline, classify_permutation, clean, sources, dipole, classify_train$",
    ):
        jobs.submit(lib, OWNER, "nope", entry.id, {})
    with pytest.raises(EEGError, match=r"^no stage function 'tests.job_tasks:missing'$"):
        jobs.submit(lib, OWNER, "ica", entry.id, {}, function=f"{TASKS}:missing")
    with pytest.raises(EEGError, match=r"^no recording 999 in local's library$"):
        jobs.submit(lib, OWNER, "ica", 999, {}, function=f"{TASKS}:summary")
    assert jobs.jobs(lib, OWNER) == []


def test_worker_memory_limit_is_set_and_checked(monkeypatch):
    monkeypatch.delenv(engine.MEMORY_ENV, raising=False)
    assert engine.worker_memory_limit() == 4 * 2**30 and engine.worker_memory_text() == "4.00 GiB"
    monkeypatch.setenv(engine.MEMORY_ENV, "1.5GiB")
    assert engine.worker_memory_limit() == int(1.5 * 2**30)
    monkeypatch.setenv(engine.MEMORY_ENV, "lots")
    with pytest.raises(EEGError, match=r"^EEG_EXPLORER_WORKER_MEMORY must be a size such as 4GiB"):
        engine.worker_memory_limit()


@pytest.mark.slow
def test_a_job_runs_on_a_worker_and_stores_its_result(lib, entry, client):
    workers = client.scheduler_info()["workers"].values()
    assert [w["memory_limit"] for w in workers] == [engine.worker_memory_limit()]  # the stated limit, per worker
    job = _submit(lib, entry, client, "summary", {"tag": "a"})
    assert job.status == "running" and job.session == "s1" and job.label == "ICA fit + ICLabel"
    job = jobs.wait(lib, OWNER, job.id, 60)
    assert (job.status, job.progress, job.error) == ("done", 1.0, None)
    assert job.finished_at is not None and job.finished_at >= job.created_at
    [result] = lib.results(OWNER, entry.id, kind="ica_fit")
    assert result.id == job.result_id and result.name == "summary a"
    assert result.payload["channels"] == 4 and result.payload["pid"] != os.getpid()  # ran in a worker
    assert lib.result_blob(OWNER, result.id) == b"blob a"
    # Another server process (a second Library on the same database) sees the same job and result.
    with Library(lib.home) as other:
        [seen] = jobs.jobs(other, OWNER, recording_id=entry.id, kind="ica")
        assert (seen.id, seen.status, seen.result_id, seen.recording_name) == (job.id, "done", result.id, entry.name)
    with pytest.raises(EEGError, match=rf"^no job {job.id} of someone$"):
        jobs.get(lib, "someone", job.id)
    assert lib.get(OWNER, entry.id).opened_at == entry.opened_at  # the worker's open left "last opened" alone


@pytest.mark.slow
def test_a_stage_that_raises_fails_with_its_one_line(lib, entry, client):
    job = jobs.wait(lib, OWNER, _submit(lib, entry, client, "bad_input", {"hff": 80}).id, 60)
    assert (job.status, job.error) == ("failed", "the band's top (80 Hz) is above Nyquist (50 Hz)")
    bug = jobs.wait(lib, OWNER, _submit(lib, entry, client, "bug").id, 60)
    assert bug.status == "failed"
    assert bug.error.startswith("Something went wrong (error ") and "\n" not in bug.error
    assert lib.results(OWNER, entry.id, kind="ica_fit") == []


@pytest.mark.slow
@pytest.mark.parametrize("crash", ["segfault", "hard_exit"])
def test_a_worker_that_dies_fails_its_job_alone(lib, entry, client, crash):
    job = jobs.wait(lib, OWNER, _submit(lib, entry, client, crash).id, 90)
    assert job.status == "failed"
    assert job.error == (
        "its worker process died while running it (a crash in a native library, or more memory than "
        f"the {engine.worker_memory_text()} a worker may use); nothing else was affected"
    )
    # This process is fine, and the cluster runs the next job on a fresh worker.
    after = jobs.wait(lib, OWNER, _submit(lib, entry, client, "summary", {"tag": "after"}).id, 90)
    assert after.status == "done"


@pytest.mark.slow
def test_cancel_stops_a_running_job_and_drops_a_waiting_one(lib, entry, client):
    running = _submit(lib, entry, client, "slow", {"seconds": 30})
    waiting = _submit(lib, entry, client, "slow", {"seconds": 30})  # one worker: this one waits
    deadline = time.monotonic() + 60
    while jobs.get(lib, OWNER, running.id).message != "working" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert jobs.get(lib, OWNER, running.id).message == "working"
    assert jobs.cancel(lib, OWNER, waiting.id).status == "cancelled"
    assert jobs.cancel(lib, OWNER, running.id).status == "cancelled"
    # The running task stops at its next progress report: the worker is free again soon.
    after = jobs.wait(lib, OWNER, _submit(lib, entry, client, "summary", {"tag": "next"}).id, 20)
    assert after.status == "done"
    assert [j.status for j in jobs.jobs(lib, OWNER)] == ["done", "cancelled", "cancelled"]
    assert [r.name for r in lib.results(OWNER, entry.id, kind="ica_fit")] == ["summary next"]


def test_a_job_of_a_server_that_ended_is_marked_failed(lib, entry):
    from sqlalchemy import update

    from backend.library.db import JobRow

    with lib._session(write=True) as s:
        uid = lib._owner_id(s, OWNER, create=True)
        row = JobRow(owner_id=uid, kind="ica", recording_id=entry.id, function=f"{TASKS}:slow", params={})
        row.server = f"{socket.gethostname()}:999999999"  # no such process
        s.add(row)
        s.flush()
        jid = row.id
        s.execute(update(JobRow).where(JobRow.id == jid).values(status="running"))
    [found] = jobs.jobs(lib, OWNER)
    assert (found.id, found.status) == (jid, "failed")
    assert found.error == "stopped: the app server that started it ended; start it again"


@pytest.mark.slow
def test_the_ica_job_stores_a_fit_the_page_rebuilds_without_refitting(lib, client, eeglab_files):
    from backend.components import ica
    from backend.components.job import decomposition, result_name

    entry = lib.add(OWNER, eeglab_files)
    params = {"method": "fastica", "n_components": 8, "seed": 97}
    job = jobs.wait(lib, OWNER, jobs.submit(lib, OWNER, "ica", entry.id, params, client=client).id, 180)
    assert job.status == "done", job.error
    [result] = lib.results(OWNER, entry.id, kind="ica_fit")
    recording = lib.open(OWNER, entry.id)
    assert result.name == result_name(recording.steps_key, "fastica", 8, 97)
    ica.clear_cache()
    dec = decomposition(recording, result.payload, lib.result_blob(OWNER, result.id))
    assert dec.n_components == 8 and dec.probabilities.shape == (8, 7)
    # The same object a fit in this process would give: removing components does not refit.
    assert ica.decompose(recording.raw, "fastica", 8, 97) is dec
    assert dec.labels == [ica.ICLABEL_CLASSES[i] for i in dec.probabilities.argmax(axis=1)]


@pytest.mark.slow
def test_the_classify_jobs_store_what_the_page_draws_without_refitting(lib, client, physionet_file):
    import numpy as np

    from backend.classify import job as classify_job
    from backend.classify.epochs import TaskSpec, make_trials
    from backend.classify.timeline import out_of_fold_timeline
    from backend.classify.validate import cross_validate

    entry = lib.add(OWNER, [physionet_file])
    task = TaskSpec(("T1", "T2"))
    params = classify_job.cv_params(task, ["mdm"], "kfold", 3)
    job = jobs.wait(lib, OWNER, jobs.submit(lib, OWNER, "classify_cv", entry.id, params, client=client).id, 180)
    assert job.status == "done", job.error
    [result] = lib.results(OWNER, entry.id, kind="classify_cv")
    recording = lib.open(OWNER, entry.id)
    assert result.name == classify_job.result_name(recording.steps_key, params)
    [stored] = classify_job.scores(result.payload)
    # The same scores, true classes and out-of-fold probabilities as cross-validating in this process.
    here = cross_validate(make_trials([recording], task), "mdm", "kfold", 3)
    assert [(f.accuracy, f.roc_auc, f.n_test) for f in stored.folds] == pytest.approx(
        [(f.accuracy, f.roc_auc, f.n_test) for f in here.folds]
    )
    assert list(stored.y_true) == list(here.y_true)
    np.testing.assert_allclose(stored.proba, here.proba, atol=1e-6)
    assert (stored.confusion() == here.confusion()).all()
    level = classify_job.chance(result.payload)
    assert level.few and level.class_counts == {"T1": 8, "T2": 7}

    params = classify_job.timeline_params(task, "mdm", "kfold", 3, 1.0)
    job = jobs.wait(lib, OWNER, jobs.submit(lib, OWNER, "classify_timeline", entry.id, params, client=client).id, 180)
    assert job.status == "done", job.error
    [result] = lib.results(OWNER, entry.id, kind="classify_timeline")
    timeline = classify_job.stored_timeline(result.payload)
    here = out_of_fold_timeline(recording, make_trials([recording], task), "mdm", "kfold", 3, step_s=1.0)
    np.testing.assert_allclose(timeline.times, here.times, atol=1e-6)
    np.testing.assert_allclose(timeline.proba, here.proba, atol=1e-6)  # NaN (no fold model) where it was NaN
    assert timeline.events == here.events and timeline.out_of_fold and timeline.classes == ["T1", "T2"]


@pytest.mark.slow
def test_the_permutation_job_stores_its_null_with_progress(lib, client, physionet_file):
    from backend.classify import job as classify_job
    from backend.classify.epochs import TaskSpec

    entry = lib.add(OWNER, [physionet_file])
    params = classify_job.permutation_params(TaskSpec(("T1", "T2")), "mdm", "kfold", 3, 5)
    job = jobs.wait(
        lib, OWNER, jobs.submit(lib, OWNER, "classify_permutation", entry.id, params, client=client).id, 180
    )
    assert job.status == "done" and job.label == "Permutation test", job.error
    [result] = lib.results(OWNER, entry.id, kind="classify_permutation")
    test = classify_job.stored_permutation(result.payload)
    assert test.n == 5 and test.scheme == "kfold" and result.payload["pipeline"] == "mdm"
    assert test.p_value == (sum(test.null >= test.observed) + 1) / 6


def test_a_stage_reads_its_recordings_stored_results_only_in_a_job(lib, entry):
    with pytest.raises(EEGError, match=r"^stored results are read in a job"):
        jobs.stored("ica_fit", "x")
    lib.save_result(OWNER, entry.id, "ica_fit", "x", {"a": 1}, blob=b"fif")
    lib.save_result(OWNER, entry.id, "classify_cv", "y", {"b": 2})
    with jobs.results_of(lib, OWNER, entry.id):
        assert jobs.stored("ica_fit", "x") == ({"a": 1}, b"fif")
        assert jobs.stored("classify_cv", "y") == ({"b": 2}, None)
        assert jobs.stored("ica_fit", "y") is None
    with pytest.raises(EEGError):
        jobs.stored("ica_fit", "x")  # the block is closed


@pytest.mark.slow
def test_the_training_job_stores_the_model_trained_here(lib, client, physionet_file):
    import numpy as np

    from backend.classify import job as classify_job
    from backend.classify.epochs import TaskSpec, make_trials
    from backend.classify.persistence import load_model, train_model

    entry = lib.add(OWNER, [physionet_file])
    task = TaskSpec(("T1", "T2"))
    params = classify_job.train_params(task, "mdm")
    job = jobs.wait(lib, OWNER, jobs.submit(lib, OWNER, "classify_train", entry.id, params, client=client).id, 180)
    assert (job.status, job.label) == ("done", "Training on all trials"), job.error
    [result] = lib.results(OWNER, entry.id, kind="model")
    recording = lib.open(OWNER, entry.id)
    assert result.id == job.result_id and result.name == classify_job.result_name(recording.steps_key, params)
    assert result.payload["pipeline"] == "mdm" and result.payload["n_trials"] == 15
    stored = load_model(lib.result_blob(OWNER, result.id))
    trials = make_trials([recording], task)
    here = train_model(trials, "mdm")
    assert stored.pipeline == "mdm" and list(stored.ch_names) == list(here.ch_names)
    np.testing.assert_allclose(stored.estimator.predict_proba(trials.X), here.estimator.predict_proba(trials.X))
