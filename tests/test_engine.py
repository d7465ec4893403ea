"""The shared Dask client: addresses, unreachable schedulers, running and cancelling tasks."""

from __future__ import annotations

import os
import time

import pytest

from backend import engine
from backend.errors import EEGError
from backend.worker_priority import WORKER_NICENESS


def test_address_from_argument_or_environment(monkeypatch):
    monkeypatch.delenv(engine.SCHEDULER_ENV, raising=False)
    assert engine.scheduler_address(None) is None
    monkeypatch.setenv(engine.SCHEDULER_ENV, "tcp://127.0.0.1:8786")
    assert engine.scheduler_address(None) == "tcp://127.0.0.1:8786"
    assert engine.scheduler_address("tcp://10.0.0.2:9000") == "tcp://10.0.0.2:9000"
    with pytest.raises(EEGError, match="not of the form tcp://HOST:PORT"):
        engine.scheduler_address("localhost 8786")


@pytest.mark.slow
def test_unreachable_scheduler_is_one_line():
    with pytest.raises(EEGError, match=r"^cannot reach the Dask scheduler at tcp://127.0.0.1:9 ") as err:
        engine.get_client("tcp://127.0.0.1:9")
    assert "\n" not in str(err.value)


def _slow_square(x):
    time.sleep(0.2)
    return x * x


def _fails(x):
    raise ValueError(f"bad {x}\nsecond line")


@pytest.mark.slow
def test_local_cluster_runs_tasks_and_cancels(monkeypatch):
    monkeypatch.delenv(engine.SCHEDULER_ENV, raising=False)
    client = engine.get_client(n_workers=2)
    try:
        assert engine.n_workers(client) == 2
        assert engine.get_client(n_workers=2) is client
        assert engine.dashboard_link(client).startswith("http://127.0.0.1:")
        # The workers yield the CPU to the app server (this process keeps its own priority).
        assert set(client.run(os.nice, 0).values()) == {max(os.nice(0), WORKER_NICENESS)}
        calls = [(i, _slow_square, (i,)) for i in range(3)] + [("bad", _fails, (7,))]
        results = {tag: (status, value) for tag, status, value in engine.run_tasks(client, calls)}
        assert results[2] == ("finished", 4)
        assert results["bad"] == ("error", "ValueError: bad 7")
        # Cancelled after the first result: the rest come back cancelled, nothing raises.
        cancel = engine.CancelHandle()
        statuses = []
        for _, status, _ in engine.run_tasks(client, [(i, _slow_square, (i,)) for i in range(8)], cancel):
            statuses.append(status)
            cancel.cancel()
        assert statuses[0] == "finished" and statuses.count("cancelled") >= 5 and len(statuses) == 8
    finally:
        engine.close_client()
