"""Browse pages over HTTP: a page turn is one request and one canvas draw, not a Streamlit rerun.

A rerun costs the browser far more than the server (React redraws the page's elements: about
230 ms of CPU a turn against the server's 30 ms, ``benchmarks/e2e_load.py``), so sixteen readers
on two cores queue behind their own browsers. The Browse page registers, on each run, a reader
of its current view (montage, filters, rows, sensitivity) under a random token of the session;
``serve.py`` routes ``GET /eeg/page/{token}?start=S`` to :func:`endpoint`, which returns the same
data the page's trace view draws (:func:`backend.browse.figures.page_view_data`), for any start.
The next run of the page reads back the start last served (:func:`served_start`), so the
settings, annotations and report follow the page the user sees.

Served only to whoever holds the token (16 random bytes, sent to that session's browser alone);
the reader holds its recording weakly, so a closed session's recording is not kept alive here.
Where the route is absent (``streamlit run app.py``) the trace view falls back to a rerun.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable

# Readers of the most recent views; a session re-registers under its own token on each run.
_MOST = 256
_readers: OrderedDict[str, Callable[[float], dict | None]] = OrderedDict()
_served: dict[str, float] = {}
_lock = threading.Lock()


def register(token: str, owner: object, read: Callable[[object, float], dict]) -> None:
    """Serve ``read(owner, start)`` under ``token``; ``owner`` (the recording) is held weakly."""
    ref = weakref.ref(owner)

    def reader(start: float) -> dict | None:
        found = ref()
        return None if found is None else read(found, start)

    with _lock:
        _readers[token] = reader
        _readers.move_to_end(token)
        while len(_readers) > _MOST:
            old, _ = _readers.popitem(last=False)
            _served.pop(old, None)


def served_start(token: str) -> float | None:
    """The start of the page last served under ``token`` since the last call (None if none)."""
    with _lock:
        return _served.pop(token, None)


def forget_served(token: str) -> None:
    """Drop a start served but not yet read back: the page was moved by the server since."""
    with _lock:
        _served.pop(token, None)


async def endpoint(request):
    """``GET /eeg/page/{token}?start=S``: the page's data as JSON; 404 for an unknown or closed view."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse

    token = request.path_params["token"]
    with _lock:
        reader = _readers.get(token)
    try:
        start = float(request.query_params["start"])
    except (KeyError, ValueError):
        start = math.nan
    if not math.isfinite(start):
        return JSONResponse({"error": "start must be a number of seconds"}, status_code=400)
    data = None if reader is None else await run_in_threadpool(reader, start)
    if data is None:
        return JSONResponse({"error": "no such view"}, status_code=404)
    with _lock:
        if token in _readers:
            _served[token] = float(data["start"])
    return JSONResponse(data, headers={"Cache-Control": "no-store"})
