"""The Browse page's page route (ui.page_server): what it serves, to whom, and how the page follows."""

import asyncio
import gc
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from starlette.requests import Request

from backend.io import load_recording
from tests.conftest import open_app
from ui import page_server


def _get(token: str, start: str):
    """``GET /eeg/page/{token}?start=...`` through the route's endpoint: (status, JSON body)."""
    scope = {
        "type": "http",
        "method": "GET",
        "path": f"/eeg/page/{token}",
        "path_params": {"token": token},
        "query_string": f"start={start}".encode(),
        "headers": [],
    }
    # In a thread of its own: the browser tests leave an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        response = pool.submit(asyncio.run, page_server.endpoint(Request(scope))).result()
    return response.status_code, json.loads(response.body)


def test_serves_a_registered_view_to_its_token_only(physionet_file):
    rec = load_recording([physionet_file])
    page_server.register("tok-a", rec, lambda found, at: {"start": at, "channels": len(found.raw.ch_names)})
    assert _get("tok-a", "12.5") == (200, {"start": 12.5, "channels": 64})
    # The next run of the page reads back the start served, once.
    assert page_server.served_start("tok-a") == 12.5 and page_server.served_start("tok-a") is None
    assert _get("tok-b", "12.5")[0] == 404
    for bad in ("abc", "nan", "inf", ""):
        assert _get("tok-a", bad)[0] == 400
    # A start the server moved the page from since is forgotten.
    _get("tok-a", "30")
    page_server.forget_served("tok-a")
    assert page_server.served_start("tok-a") is None


def test_a_closed_sessions_recording_is_not_kept_and_old_views_give_way(physionet_file):
    rec = load_recording([physionet_file])
    page_server.register("tok-gone", rec, lambda found, at: {"start": at})
    del rec
    gc.collect()
    assert _get("tok-gone", "0")[0] == 404
    kept = load_recording([physionet_file])
    page_server.register("tok-first", kept, lambda found, at: {"start": at})
    for i in range(page_server._MOST):
        page_server.register(f"tok-{i}", kept, lambda found, at: {"start": at})
    assert _get("tok-first", "0")[0] == 404 and _get(f"tok-{page_server._MOST - 1}", "0")[0] == 200


@pytest.mark.slow
def test_the_page_follows_a_turn_made_over_the_route(physionet_file):
    at = open_app("pages/browse.py", recordings=[load_recording([physionet_file])], timeout=90)
    view = next(
        json.loads(c.proto.json)
        for c in at.get("bidi_component")
        if c.proto.component_name == "eeg_trace_view" and json.loads(c.proto.json).get("kind") != "overview"
    )
    token = at.session_state["browse_page_token"]
    assert view["fetch"] == f"eeg/page/{token}" and (view["timebase"], view["duration"]) == (10, 125.0)
    # The browser turns to 40 s over the route: the same data the page draws, for that start.
    status, served = _get(token, "40")
    assert status == 200 and served["start"] == 40.0 and "40.0–50.0 s of 125.0 s" in served["caption"]
    assert set(served) >= set(view) - {"fetch"} and served["rows"] == view["rows"]
    # The next run (here: Next on the server, as a browser without the route would send) starts from there.
    at.button(key="browse_next").click().run(timeout=90)
    assert not at.exception
    assert at.number_input(key="browse_goto").value == 50.0
    shown = [
        json.loads(c.proto.json)
        for c in at.get("bidi_component")
        if c.proto.component_name == "eeg_trace_view" and json.loads(c.proto.json).get("kind") != "overview"
    ]
    assert shown[0]["start"] == 50.0 and "50.0–60.0 s" in shown[0]["caption"]
