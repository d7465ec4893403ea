"""Private folders for uploads, one per browser session, removed when it ends."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from backend.config import max_upload_bytes
from backend.errors import EEGError

ROOT = Path(tempfile.gettempdir()) / "eeg-explorer-sessions"
# Both settable from the environment so tests can watch a sweep within seconds.
IDLE_TIMEOUT_S = float(os.environ.get("EEG_EXPLORER_IDLE_TIMEOUT_S", 3600.0))
GRACE_S = float(os.environ.get("EEG_EXPLORER_GRACE_S", 120.0))
_SAFE_NAME = re.compile(r"^[\w][\w .()+-]{0,200}$")


def _session_dir(session_id: str, root: Path) -> Path:
    if not re.fullmatch(r"[\w-]{1,100}", session_id):
        raise EEGError("invalid session id")
    return root / session_id


def save_upload(session_id: str, files: list[tuple[str, bytes]], root: Path = ROOT) -> list[Path]:
    """Write one recording's uploaded files into a fresh folder of the session's.

    Names are checked, never trusted: no folders, no hidden files, no two alike.
    The total size is bounded by the app's upload limit.
    """
    if not files:
        raise EEGError("no file uploaded")
    names = [name for name, _ in files]
    for name in names:
        if not _SAFE_NAME.match(name) or name in (".", ".."):
            raise EEGError(f"refused file name {name!r}: use plain names without folders")
    if len({n.lower() for n in names}) != len(names):
        raise EEGError("two uploaded files have the same name")
    total = sum(len(data) for _, data in files)
    if total > max_upload_bytes():
        raise EEGError(f"upload of {total / 2**20:.0f} MB is over the limit of {max_upload_bytes() / 2**20:.0f} MB")
    base = _session_dir(session_id, root)
    base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="upload-", dir=base))
    paths = []
    for name, data in files:
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    touch(session_id, root)
    return paths


def touch(session_id: str, root: Path = ROOT) -> None:
    """Mark the session as active now (its folder's time is its last activity)."""
    folder = _session_dir(session_id, root)
    if folder.exists():
        folder.touch()


def remove_session(session_id: str, root: Path = ROOT) -> None:
    shutil.rmtree(_session_dir(session_id, root), ignore_errors=True)


def sweep(is_active, idle_timeout_s: float = IDLE_TIMEOUT_S, grace_s: float = GRACE_S, root: Path = ROOT) -> list[str]:
    """Remove the folders of sessions that have ended or been idle too long.

    Parameters
    ----------
    is_active : callable
        ``is_active(session_id) -> bool``: whether the session is still connected.
    idle_timeout_s : float
        Folders untouched for longer are removed even if their session is connected.
    grace_s : float
        A session that has gone keeps its folder this long, in case it reconnects.

    Returns
    -------
    list of str
        The session ids whose folders were removed.
    """
    if not root.exists():
        return []
    now, removed = time.time(), []
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        idle = now - folder.stat().st_mtime
        if idle > idle_timeout_s or (idle > grace_s and not is_active(folder.name)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    return removed
