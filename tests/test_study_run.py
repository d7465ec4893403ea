"""Study runs on Dask: derivatives, the quality table, resume, cancel, a broken recording among good ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backend import engine
from backend.clean.pipeline import parse_pipeline
from backend.study import dataset, quality, run
from tests.study_support import make_bids, make_folder

ROOT = Path(__file__).resolve().parent.parent
PIPELINE = parse_pipeline("bandpass:1,40;reref:average")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client():
    os.environ.pop(engine.SCHEDULER_ENV, None)
    client = engine.get_client(n_workers=2)  # the default LocalCluster, 2 workers x 1 thread
    yield client
    engine.close_client()


def test_run_resume_and_a_corrupt_recording(tmp_path, physionet_file, client):
    folder = make_folder(tmp_path / "data", physionet_file, corrupt="03")
    entries = dataset.find_recordings(folder, "S{subject}R{run}.edf")
    deriv = tmp_path / "derivatives" / "eeg-explorer"
    seen = []
    rows = list(
        run.run_study(entries, PIPELINE, deriv, client, progress=lambda i, n, r: seen.append((i, n, r["status"])))
    )
    assert [i for i, _, _ in seen] == [1, 2, 3] and {n for _, n, _ in seen} == {3}
    by_subject = {r["subject"]: r for r in rows}
    assert [by_subject[s]["status"] for s in ("01", "02", "03")] == ["done", "done", "failed"]
    error = by_subject["03"]["error"]
    assert "S03R01.edf" in error and "\n" not in error
    fif, sidecar = run.output_paths(entries[0], deriv)
    assert fif.name == "sub-01_run-01_desc-clean_eeg.fif" and fif.exists()
    record = json.loads(sidecar.read_text())
    assert record["recipe"]["steps"] == PIPELINE
    assert {"mne", "numpy", "eeg_explorer", "mne_bids"} <= set(record["software"])
    assert [s["name"] for s in record["steps"]] == ["bandpass", "reref"] and record["steps"][0]["report"]
    assert len(record["content_key"]) == 64
    assert (deriv / "dataset_description.json").exists()
    assert not list(deriv.rglob("*.tmp*"))
    assert by_subject["01"]["duration_s"] == pytest.approx(30.0, abs=0.1) and by_subject["01"]["n_channels"] == 64
    assert 0 <= by_subject["01"]["high_amplitude_fraction"] <= 1 and by_subject["01"]["line_noise_ratio"] > 0

    # The quality table read back from the folder: one row each, the failure with its line.
    table = run.read_results(deriv)
    assert sorted((r["subject"], r["status"]) for r in table) == [("01", "done"), ("02", "done"), ("03", "failed")]
    tsv = quality.to_delimited(table, "\t")
    assert (
        tsv.splitlines()[0].startswith("subject\tsession\ttask\trun\tfile\tstatus\terror")
        and len(tsv.splitlines()) == 4
    )

    # Resume: done recordings are skipped without a task; the failed one is tried again.
    rerun = {r["subject"]: r["status"] for r in run.run_study(entries, PIPELINE, deriv, client)}
    assert rerun == {"01": "skipped", "02": "skipped", "03": "failed"}
    # Another recipe is another result.
    other = parse_pipeline("bandpass:1,30;reref:average")
    assert {r["status"] for r in run.run_study(entries[:1], other, deriv, client)} == {"done"}


def test_cancel_then_resume(tmp_path, physionet_file, client):
    folder = make_folder(tmp_path / "data", physionet_file, subjects=("01", "02", "03", "04", "05"))
    entries = dataset.find_recordings(folder, "S{subject}R{run}.edf")
    deriv = tmp_path / "deriv"
    cancel = engine.CancelHandle()
    statuses = []
    for row in run.run_study(entries, PIPELINE, deriv, client, cancel=cancel):
        statuses.append(row["status"])
        cancel.cancel()
    assert statuses[0] == "done" and "cancelled" in statuses and len(statuses) == 5
    # Nothing half-written: a task that was running when cancelled finishes whole or not at all. Dask
    # cannot stop a task's thread, so one may still be writing its temporary file now; it ends within
    # seconds (a 30-s recording), and then no temporary file is left.
    deadline = time.monotonic() + 60
    while list(deriv.rglob("*.tmp*")) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not list(deriv.rglob("*.tmp*"))
    again = [r["status"] for r in run.run_study(entries, PIPELINE, deriv, client)]
    # Resume: what finished is skipped, what was cancelled runs now (which is which depends on timing).
    assert len(again) == 5 and set(again) <= {"done", "skipped"} and again.count("skipped") >= 1
    # A handle cancelled before the run submits nothing.
    early = engine.CancelHandle()
    early.cancel()
    assert {
        r["status"] for r in run.run_study(entries, parse_pipeline("bandpass:2,40"), deriv, client, cancel=early)
    } == {"cancelled"}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_scheduler_and_two_workers_by_address(tmp_path, physionet_file):
    """A real `dask scheduler` and two `dask worker` processes, reached by address, run a BIDS study."""
    root = make_bids(tmp_path / "bids", physionet_file)
    entries = dataset.find_recordings(root)
    address = f"tcp://127.0.0.1:{_free_port()}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    bin_dir = Path(sys.executable).parent
    dask = str(bin_dir / "dask") if (bin_dir / "dask").exists() else "dask"
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1], "--no-dashboard"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers = [
        subprocess.Popen(
            [dask, "worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        deadline = time.time() + 60
        while True:
            try:
                client = engine.get_client(address)
                if engine.n_workers(client) == 2:
                    break
            except Exception:
                if time.time() > deadline:
                    raise
            if time.time() > deadline:
                pytest.fail("the two dask workers did not join the scheduler in 60 s")
            time.sleep(0.5)
        rows = list(run.run_study(entries, PIPELINE, root / "derivatives" / "eeg-explorer", client))
        assert [r["status"] for r in rows] == ["done", "done"]
        assert {r["bad_channels"][0] for r in rows} == {"FC5"}  # from channels.tsv, applied on the worker
        fif, _ = run.output_paths(entries[1], root / "derivatives" / "eeg-explorer")
        assert fif.name == "sub-02_task-mi_run-1_desc-clean_eeg.fif" and fif.exists()
        # The derivatives are not taken for raw data on the next listing.
        assert len(dataset.find_recordings(root)) == 2
    finally:
        engine.close_client()
        for p in workers + [scheduler]:
            p.terminate()
        for p in workers + [scheduler]:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
