"""The sidebar's job list on every page: running with progress and Cancel, done, failed with its one line."""

from __future__ import annotations

import pytest

from backend import jobs
from backend.library import LOCAL_USER
from backend.library.api import Library
from backend.library.db import JobRow
from tests.conftest import open_app
from tests.test_library_api import make_fif

pytestmark = pytest.mark.slow  # AppTest: seconds


def _job(lib, recording_id, **values):
    with lib._session(write=True) as s:
        row = JobRow(
            owner_id=lib._owner_id(s, LOCAL_USER, create=True),
            kind="ica",
            recording_id=recording_id,
            function="backend.components.job:fit",
            params={},
            server="elsewhere:1",  # another machine's server: never taken for an orphan here
            **values,
        )
        s.add(row)
        s.flush()
        return row.id


def test_the_sidebar_lists_jobs_and_cancels_a_running_one(tmp_path):
    with Library() as lib:
        entry = lib.add(LOCAL_USER, [make_fif(tmp_path / "tiny_raw.fif")])
        _job(lib, entry.id, status="failed", error="the band's top (80 Hz) is above Nyquist (50 Hz)")
        running = _job(lib, entry.id, status="running", progress=0.4, message="fitting ICA (picard)")
    at = open_app("pages/browse.py")
    sidebar = " ".join(m.value for m in at.sidebar.markdown) + " ".join(c.value for c in at.sidebar.caption)
    assert "Jobs" in sidebar
    assert "ICA fit + ICLabel · tiny_raw.fif: the band's top (80 Hz) is above Nyquist (50 Hz)" in sidebar
    [bar] = at.sidebar.get("progress")
    assert "ICA fit + ICLabel · tiny_raw.fif: fitting ICA (picard)" in bar.proto.text
    at.sidebar.button(key=f"sidebar_cancel_{running}").click().run()
    assert not at.exception
    with Library() as lib:
        assert jobs.get(lib, LOCAL_USER, running).status == "cancelled"
    assert not at.sidebar.get("progress")
