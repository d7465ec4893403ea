"""Per-session upload folders: names checked, sizes bounded, ended sessions removed."""

import os
import time

import pytest

from backend import workspace
from backend.errors import EEGError


def test_uploads_land_in_a_private_folder(tmp_path):
    paths = workspace.save_upload("sess-a", [("rec.edf", b"0" * 10)], root=tmp_path)
    assert paths[0].read_bytes() == b"0" * 10
    assert paths[0].parent.parent == tmp_path / "sess-a"


@pytest.mark.parametrize("name", ["../evil.edf", "/etc/passwd", "sub/dir.edf", ".hidden", "..", "a\\b.edf"])
def test_unsafe_names_are_refused(tmp_path, name):
    with pytest.raises(EEGError, match="refused file name"):
        workspace.save_upload("sess-a", [(name, b"x")], root=tmp_path)
    assert not (tmp_path.parent / "evil.edf").exists()


def test_sessions_ids_cannot_escape_the_root(tmp_path):
    with pytest.raises(EEGError):
        workspace.save_upload("../other", [("a.edf", b"x")], root=tmp_path)


def test_sweep_removes_ended_and_idle_sessions_only(tmp_path):
    for sid in ("alive", "ended-recently", "ended-long-ago", "idle"):
        workspace.save_upload(sid, [("a.edf", b"x")], root=tmp_path)
    old = time.time() - 1000
    os.utime(tmp_path / "ended-long-ago", (old, old))
    very_old = time.time() - 10_000
    os.utime(tmp_path / "idle", (very_old, very_old))
    removed = workspace.sweep(lambda sid: sid in {"alive", "idle"}, idle_timeout_s=3600, grace_s=120, root=tmp_path)
    assert sorted(removed) == ["ended-long-ago", "idle"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alive", "ended-recently"]
