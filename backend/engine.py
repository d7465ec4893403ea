"""The one Dask client that studies and jobs send their tasks to.

By default a :class:`distributed.LocalCluster` is started on first use: one worker
process per core, one thread each, bound to 127.0.0.1 (no setup). An address
(``tcp://HOST:PORT``), given as an argument or in ``$EEG_EXPLORER_DASK_SCHEDULER``,
sends the same work to an existing cluster instead; its workers need this package
importable and the data reachable at the same paths.

Tasks are functions of small, picklable inputs (file paths, parameters) that return
small results (rows, tables); recordings are read and written by the workers
themselves and never travel through the scheduler.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from backend.errors import EEGError, first_line

SCHEDULER_ENV = "EEG_EXPLORER_DASK_SCHEDULER"
MEMORY_ENV = "EEG_EXPLORER_WORKER_MEMORY"
DEFAULT_WORKER_MEMORY = "4GiB"
CONNECT_TIMEOUT_S = 5.0
_ADDRESS = re.compile(r"^(tcp|tls|inproc)://[^\s/:]+(:\d+)?$")

_lock = threading.Lock()
_clients: dict[tuple, Any] = {}  # (address or None, n_workers) -> Client
_clusters: dict[tuple, Any] = {}


def scheduler_address(address: str | None = None) -> str | None:
    """The scheduler to use: ``address`` if given, else ``$EEG_EXPLORER_DASK_SCHEDULER``, else None (local).

    Raises
    ------
    EEGError
        When the address is not of the form ``tcp://HOST:PORT``.
    """
    address = (address or os.environ.get(SCHEDULER_ENV) or "").strip() or None
    if address is not None and not _ADDRESS.match(address):
        raise EEGError(f"scheduler address {address!r} is not of the form tcp://HOST:PORT")
    return address


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def worker_memory_limit() -> int:
    """Bytes each local worker (one task at a time) may use: ``$EEG_EXPLORER_WORKER_MEMORY``, default 4 GiB.

    The worker's nanny restarts it at 95 % of this, failing the task it ran.
    """
    from dask.utils import parse_bytes

    text = os.environ.get(MEMORY_ENV, "").strip() or DEFAULT_WORKER_MEMORY
    try:
        limit = parse_bytes(text)
    except (ValueError, TypeError):
        raise EEGError(f"{MEMORY_ENV} must be a size such as 4GiB or 800MB, got {text!r}") from None
    if limit < 2**28:
        raise EEGError(f"{MEMORY_ENV} must be at least 256 MiB, got {text!r}")
    return int(limit)


def worker_memory_text() -> str:
    """The memory limit per worker, for messages ("4.0 GiB")."""
    from dask.utils import format_bytes

    return format_bytes(worker_memory_limit())


def _start_local(n_workers: int):
    import dask
    from distributed import LocalCluster

    # A task whose worker dies is not retried (allowed-failures 0): a segfault or a memory
    # blow-up would kill the next worker too. Any free port on this host only; its pages need
    # bokeh (in requirements.txt).
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        return LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            silence_logs=logging.ERROR,
            memory_limit=worker_memory_limit(),
        )


def get_client(address: str | None = None, n_workers: int | None = None):
    """The process's Dask client for ``address`` (see :func:`scheduler_address`), started on demand.

    Parameters
    ----------
    address : str or None
        ``tcp://HOST:PORT`` of a running scheduler; None for ``$EEG_EXPLORER_DASK_SCHEDULER``
        or, when that is unset, a local cluster.
    n_workers : int or None
        Workers of the local cluster (default: one per core); ignored with an address.

    Returns
    -------
    distributed.Client
        Reused by later calls with the same arguments until :func:`close_client`.

    Raises
    ------
    EEGError
        One line when the scheduler cannot be reached or the arguments are wrong.
    """
    from distributed import Client

    address = scheduler_address(address)
    if n_workers is not None and (not isinstance(n_workers, int) or n_workers < 1):
        raise EEGError(f"the number of workers must be a positive whole number, got {n_workers!r}")
    workers = n_workers or default_workers()
    key = (address, None if address else workers)
    with _lock:
        client = _clients.get(key)
        if client is not None and client.status == "running":
            return client
        if address is None:
            try:
                cluster = _start_local(workers)
            except Exception as exc:  # ports, processes, memory: say so in one line
                raise EEGError(f"could not start a local Dask cluster: {exc}") from None
            _clusters[key] = cluster
            client = Client(cluster, set_as_default=False)
            from backend.worker_priority import LowerPriority

            client.register_plugin(LowerPriority())
        else:
            try:
                client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise EEGError(f"cannot reach the Dask scheduler at {address} ({first_line(exc)})") from None
        _clients[key] = client
        return client


def close_client() -> None:
    """Close every client this process opened and the local clusters it started."""
    with _lock:
        for client in _clients.values():
            try:
                client.close()
            except Exception:  # closing a client whose scheduler is gone
                pass
        for cluster in _clusters.values():
            try:
                cluster.close()
            except Exception:
                pass
        _clients.clear()
        _clusters.clear()


atexit.register(close_client)


def dashboard_link(client) -> str | None:
    """The address of the Dask dashboard of ``client``'s cluster, or None when it has none."""
    try:
        info = client.scheduler_info()
    except Exception:
        return None
    if "dashboard" not in info.get("services", {}):
        return None
    return client.dashboard_link


def n_workers(client) -> int:
    """How many workers the client's cluster has now."""
    return len(client.scheduler_info().get("workers", {}))


@dataclass
class CancelHandle:
    """Cancels the tasks of one run: ``handle.cancel()`` from any thread (a button, a signal).

    Tasks not yet started are dropped; a task already running finishes on its worker
    (its output is written whole or not at all), and its result is ignored.
    """

    _event: threading.Event = field(default_factory=threading.Event)
    _futures: list = field(default_factory=list)
    _client: Any = None

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        self._event.set()
        if self._client is not None and self._futures:
            self._client.cancel(list(self._futures))

    def attach(self, client, futures) -> None:
        """Called by the runner when it has submitted ``futures``."""
        self._client, self._futures = client, list(futures)
        if self.cancelled:
            self.cancel()


def run_tasks(
    client, calls: Sequence[tuple[Any, Callable, tuple]], cancel: CancelHandle | None = None, name: str = "task"
) -> Iterator[tuple[Any, str, Any]]:
    """Submit ``(tag, function, args)`` calls and yield ``(tag, status, value)`` as each ends.

    ``status`` is ``"finished"`` (``value`` is the function's result), ``"cancelled"``
    (``value`` None) or ``"error"`` (``value`` is a one-line message: the task raised, or its
    worker died). The functions should return small results; on exit (also when the caller
    stops iterating) the calls still pending are cancelled. A call already running when it is
    cancelled runs to its end on its worker (Dask cannot stop a thread), after this returns; its
    result is dropped, so what it writes must be written whole (temporary file, then rename).
    """
    from distributed import as_completed

    if cancel is not None and cancel.cancelled:
        for tag, _, _ in calls:
            yield tag, "cancelled", None
        return
    futures = {
        client.submit(fn, *args, key=f"{name}-{i}-{os.urandom(4).hex()}", pure=False): tag
        for i, (tag, fn, args) in enumerate(calls)
    }
    if cancel is not None:
        cancel.attach(client, futures)
    try:
        for future in as_completed(futures, loop=client.loop):
            tag = futures[future]
            if future.status == "finished":
                yield tag, "finished", future.result()
            elif future.status == "cancelled" or (cancel is not None and cancel.cancelled):
                yield tag, "cancelled", None
            else:
                try:
                    exc = future.exception()
                except Exception as err:  # cancelled or lost while asking
                    exc = err
                yield tag, "error", f"{type(exc).__name__}: {first_line(exc)}"
    finally:
        client.cancel(list(futures))
