"""Files kept by content: ``objects/ab/abcdef…`` named by the SHA-256 of their bytes.

The same bytes are stored once however often they are added. Writes go to a
temporary file, are flushed to disk and then renamed into place, so an object
is either whole or absent. Whether an object is still needed is the database's
business (:meth:`backend.library.api.Library.remove` asks it); the store only
adds, reads and deletes.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import tempfile
from pathlib import Path

from backend.errors import EEGError

_SHA = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20


def _refusal(err: OSError, what: str) -> EEGError:
    if err.errno == errno.ENOSPC:
        return EEGError(f"the disk holding the library's files is full while storing {what}; nothing was stored")
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return EEGError(f"the library's file store cannot be written (permission denied) while storing {what}")
    return EEGError(f"the library's file store failed while storing {what} ({err.strerror or err})")


class Store:
    """A content-addressed folder of files.

    Parameters
    ----------
    root : path-like
        The folder; created on first write.
    """

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        """Where the object ``sha256`` lives (whether or not it is there)."""
        if not _SHA.match(sha256):
            raise EEGError(f"{sha256[:80]!r} is not a SHA-256 content key")
        return self.root / "objects" / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put_file(self, source: Path | str, what: str | None = None) -> tuple[str, int]:
        """Copy a file into the store; return its SHA-256 and size in bytes."""
        source = Path(source)
        with open(source, "rb") as f:
            return self._put(iter(lambda: f.read(_CHUNK), b""), what or source.name)

    def put_bytes(self, data: bytes, what: str = "a result") -> tuple[str, int]:
        """Store ``data``; return its SHA-256 and size in bytes."""
        return self._put(iter([data]), what)

    def _put(self, chunks, what: str) -> tuple[str, int]:
        tmp_dir = self.root / "tmp"
        try:
            tmp_dir.mkdir(parents=True, exist_ok=True)
            digest, size = hashlib.sha256(), 0
            fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="incoming-")
            try:
                with os.fdopen(fd, "wb") as out:
                    for chunk in chunks:
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
                sha = digest.hexdigest()
                final = self.path(sha)
                if final.is_file() and final.stat().st_size == size:
                    os.unlink(tmp_name)  # already stored: an upload made twice is kept once
                else:
                    final.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(tmp_name, final)
                    _fsync_dir(final.parent)
            except BaseException:
                if os.path.exists(tmp_name):
                    os.unlink(tmp_name)
                raise
        except OSError as err:
            raise _refusal(err, what) from None
        return sha, size

    def read_bytes(self, sha256: str) -> bytes:
        path = self.path(sha256)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise EEGError(f"the library's stored file {sha256[:12]}… is missing from {self.root}") from None

    def delete(self, sha256: str) -> None:
        """Remove an object (no error if it is already gone)."""
        try:
            self.path(sha256).unlink()
        except FileNotFoundError:
            pass

    def link(self, sha256: str, folder: Path, name: str) -> Path:
        """A link named ``name`` in ``folder`` to the object, for readers that need a file name."""
        target = self.path(sha256)
        if not target.is_file():
            raise EEGError(f"the library's stored file for {name} ({sha256[:12]}…) is missing from {self.root}")
        link = folder / name
        link.symlink_to(target)
        return link


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
