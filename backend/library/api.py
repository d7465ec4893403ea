"""The Library's functions: what pages and the command line call, each for one owner.

Every function takes the owner's name first and only ever sees that owner's rows:
a recording, annotation or result id of another user is answered exactly like an
id that does not exist. Every write is one transaction, and a function returns
only after it is committed.
"""

from __future__ import annotations

import atexit
import builtins  # Library.list shadows the built-in in the class's annotations
import contextlib
import csv
import functools
import io as _stdio
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import delete, func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError

from backend.errors import EEGError
from backend.library import LOCAL_USER, db  # noqa: F401  (LOCAL_USER: for callers)
from backend.library.db import AnnotationRow, RecordingRow, ResultRow, StoredFile, Tag, User
from backend.library.store import Store

MAX_NAME = 255
MAX_TAG = 100
MAX_TAGS = 100
MAX_LABEL = 1000
MAX_USER = 200
MAX_TEXT = 100_000
MAX_PAYLOAD_BYTES = 16 * 2**20
RESULT_KINDS = {
    "ica": "ICA decomposition, component labels and the components chosen for removal",
    "ica_fit": "a fitted ICA (FIF) with its ICLabel probabilities, stored by a job",
    "source_estimate": "a source estimate (.npz) with its peak and peak table, stored by a job",
    "dipole": "an equivalent current dipole fitted to a scalp map or an ICA component, stored by a job",
    "clean": "a cleaned recording (FIF) with its cleaning steps' history, stored by a job",
    "classification": "classification results",
    "classify_cv": "cross-validation scores with out-of-fold probabilities and the chance level, stored by a job",
    "classify_timeline": "an out-of-fold class-probability timeline, stored by a job",
    "classify_permutation": "a permutation test of a cross-validation: p-value, chance level and null scores, stored by a job",
    "model": "a trained classifier",
    "sources": "source-localisation settings and peaks",
    "impression": "the clinician's free-text impression",
}
SORT_KEYS = {
    "name": func.lower(RecordingRow.name),
    "format": RecordingRow.format,
    "channels": RecordingRow.n_channels,
    "rate": RecordingRow.sfreq,
    "duration": RecordingRow.duration_s,
    "recorded": RecordingRow.recorded_at,
    "size": RecordingRow.size_bytes,
    "added": RecordingRow.added_at,
    "opened": RecordingRow.opened_at,
}
STORED_ICA = "stored in file"
_STORE_LOCK = 0x4545_4758  # PostgreSQL advisory lock serialising file collection with new references


def data_home() -> Path:
    """The data folder: ``EEG_EXPLORER_HOME``, else the platform's user data directory."""
    if os.environ.get("EEG_EXPLORER_HOME"):
        return Path(os.environ["EEG_EXPLORER_HOME"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("eeg-explorer", appauthor=False))


# --- what the functions return -----------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A row of the Library: one recording as the list shows it.

    Times are timezone-aware UTC; ``recorded_at`` is None when the file has no date.
    """

    id: int
    name: str
    format: str
    n_channels: int
    sfreq: float
    duration_s: float
    recorded_at: datetime | None
    size_bytes: int
    tags: tuple[str, ...]
    added_at: datetime
    opened_at: datetime
    identity_kept: bool
    removed_fields: tuple[str, ...]
    parent_id: int | None
    version: int
    history: tuple[dict, ...] = field(default=(), repr=False)

    @property
    def recorded(self) -> str:
        """The recording date and time, or "anonymised" when the file holds none."""
        return self.recorded_at.isoformat() if self.recorded_at is not None else "anonymised"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "format": self.format,
            "n_channels": self.n_channels,
            "sfreq": self.sfreq,
            "duration_s": self.duration_s,
            "recorded": self.recorded,
            "size_bytes": self.size_bytes,
            "tags": list(self.tags),
            "added_at": self.added_at.isoformat(),
            "opened_at": self.opened_at.isoformat(),
            "identity_kept": self.identity_kept,
            "removed_fields": list(self.removed_fields),
            "parent_id": self.parent_id,
            "version": self.version,
            "history": [h["name"] for h in self.history],
        }


class Annotation(NamedTuple):
    """An annotation: onset and duration in seconds from the recording's first sample.

    A named tuple: a recording's thousands of them are built fast.
    """

    id: int
    onset: float
    duration: float
    label: str
    version: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "onset": self.onset,
            "duration": self.duration,
            "label": self.label,
            "version": self.version,
        }


@dataclass(frozen=True)
class Result:
    """A stored result: ``kind`` is one of :data:`RESULT_KINDS`; the blob is read with :meth:`Library.result_blob`."""

    id: int
    recording_id: int
    kind: str
    name: str
    payload: dict[str, Any]
    has_blob: bool
    version: int
    updated_at: datetime


# --- checks at the door ------------------------------------------------------------------------


def check_text(value: Any, what: str, limit: int) -> str:
    """``value`` as a non-empty string of at most ``limit`` characters, kept verbatim."""
    if not isinstance(value, str):
        raise EEGError(f"{what} must be text, got {type(value).__name__}")
    if not value.strip():
        raise EEGError(f"{what} is empty")
    if len(value) > limit:
        raise EEGError(f"{what} has {len(value)} characters; at most {limit} are allowed")
    if "\x00" in value:
        raise EEGError(f"{what} contains a NUL character, which cannot be stored")
    return value


def check_id(value: Any, what: str = "recording") -> int:
    """A positive whole-number id from an int or its text (a CLI argument, a URL parameter)."""
    if isinstance(value, bool):
        raise EEGError(f"a {what} id must be a whole number, got {value!r}")
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not text.isdigit() or not text.isascii():
            raise EEGError(f"a {what} id must be a whole number, got {str(value)[:40]!r}")
        number = int(text)
    if not 1 <= number < 2**62:
        raise EEGError(f"no {what} {number}")
    return number


def check_seconds(value: Any, what: str) -> float:
    """A finite, non-negative number of seconds from a number or its text."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise EEGError(f"{what} must be a number of seconds, got {str(value)[:40]!r}") from None
    if not math.isfinite(number) or number < 0:
        raise EEGError(f"{what} must be a finite number of seconds of 0 or more, got {str(value)[:40]}")
    return number


def _json_payload(payload: Any) -> dict:
    if not isinstance(payload, dict):
        raise EEGError("a result's payload must be a JSON object")
    try:
        text = json.dumps(payload, allow_nan=False, default=_plain)
    except (TypeError, ValueError) as exc:
        raise EEGError(f"a result's payload cannot be stored as JSON ({exc})") from None
    if len(text) > MAX_PAYLOAD_BYTES:
        raise EEGError(f"a result's payload is {len(text) / 2**20:.1f} MB; store large data as its blob")
    return json.loads(text)


def finite(value):
    """``value`` with NaN and infinite numbers (a score that could not be computed) as JSON null, arrays as lists."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        return None
    if isinstance(value, np.ndarray):
        return finite(value.tolist())
    return value


def _plain(value):
    """numpy numbers and arrays as JSON numbers and lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _history_json(recording) -> list[dict]:
    steps = [{"name": s.name, "params": s.params, "report": s.report} for s in recording.history]
    return json.loads(json.dumps(steps, default=str))


@functools.cache
def _link_folder() -> Path:
    """This process's folder of named links to stored files, removed at exit (readers read lazily)."""
    folder = Path(tempfile.mkdtemp(prefix="eeg-explorer-library-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


# --- the Library -------------------------------------------------------------------------------


class Library:
    """The recordings, annotations, histories and results of every user, each private to its owner.

    Parameters
    ----------
    home : path-like, optional
        The data folder (default :func:`data_home`): the SQLite file and the file store.
    url : str, optional
        A database URL (default ``EEG_EXPLORER_DATABASE_URL``, else SQLite in ``home``).
    """

    def __init__(self, home: Path | str | None = None, url: str | None = None):
        self.home = Path(home) if home is not None else data_home()
        self.url = url or db.database_url(self.home)
        self.where = db.describe(self.url)
        try:
            self.home.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise EEGError(f"the data folder {self.home} cannot be created ({err.strerror})") from None
        self.engine = db.make_engine(self.url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        db.migrate(self.engine, self.where)
        self._read = db.session_factory(self.engine)
        # SQLite writes take the write lock at BEGIN, so two writers queue instead of deadlocking.
        self._write = db.session_factory(self.engine.execution_options(sqlite_begin="BEGIN IMMEDIATE"))
        self.store = Store(self.home / "store")
        self._owner_ids: dict[str, int] = {}

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- sessions and owners ---

    @contextlib.contextmanager
    def _session(self, write: bool):
        """A session in one transaction, committed on leaving; database failures as one line."""
        with db.translated(self.where), (self._write if write else self._read)() as s, s.begin():
            yield s

    def _require_stored(self, s, shas: Iterable[str | None]) -> None:
        """Inside a write: refuse if a file this row needs was collected meanwhile.

        Collection (:meth:`_collect`) checks and deletes under the same lock, so a file
        found here stays until this transaction's rows refer to it.
        """
        self._store_lock(s)
        if not all(self.store.has(sha) for sha in shas if sha):
            raise EEGError("a stored file was removed by another session while this was saved; try again")

    def _store_lock(self, s) -> None:
        # SQLite writes hold the database's one write lock already (BEGIN IMMEDIATE).
        if not self.is_sqlite:
            s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _STORE_LOCK})

    def _owner_id(self, s, owner: str, create: bool) -> int | None:
        owner = check_text(owner, "a user name", MAX_USER)
        if owner in self._owner_ids:
            return self._owner_ids[owner]
        uid = s.scalar(select(User.id).where(User.name == owner))
        if uid is not None:
            self._owner_ids[owner] = uid  # only ids already committed: a new one may yet roll back
        elif create:
            try:
                with s.begin_nested():
                    user = User(name=owner)
                    s.add(user)
                uid = user.id
            except IntegrityError:  # created meanwhile by another session
                uid = s.scalar(select(User.id).where(User.name == owner))
        return uid

    def _own(self, s, owner: str, recording_id, *columns) -> RecordingRow:
        """The owner's recording row (or only ``columns`` of it); the same refusal for another's and for none."""
        rid = check_id(recording_id)
        uid = self._owner_id(s, owner, create=False)
        query = select(*columns) if columns else select(RecordingRow)
        found = s.execute(query.where(RecordingRow.id == rid, RecordingRow.owner_id == uid)).first()
        if found is None:
            raise EEGError(f"no recording {rid} in {owner}'s library")
        return found if columns else found[0]

    # --- adding ---

    def add(
        self,
        owner: str,
        paths,
        *,
        tags: Iterable[str] = (),
        keep_identity: bool = False,
        look_beside: bool = False,
        max_bytes: int | None = None,
    ) -> Entry:
        """Read one recording's files and add it to ``owner``'s library.

        Parameters
        ----------
        owner : str
            The user whose library it joins.
        paths : path-like or list of path-like
            The recording's files, as :func:`backend.io.load_recording` takes them.
        tags : iterable of str
            Tags to give it.
        keep_identity : bool
            Store the original bytes. By default a de-identified copy is stored
            (see :mod:`backend.library.deidentify`) and the entry lists the fields removed.
        look_beside, max_bytes
            As for :func:`backend.io.load_recording`.

        Returns
        -------
        Entry
            The new row.
        """
        from backend.io import load_recording
        from backend.library import deidentify

        paths = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
        tags = self._check_tags(tags)
        recording = load_recording(paths, max_bytes, look_beside=look_beside)
        primary = next(p for p in paths if p.name == recording.source_files[0])
        by_name = {p.name: p for p in paths}
        originals = [by_name.get(n, primary.parent / n) for n in recording.source_files]
        with tempfile.TemporaryDirectory(prefix="eeg-explorer-import-") as tmp:
            reused = self._stored_copy(recording.sha256, keep_identity)
            if reused is not None:
                stored, removed = reused
            else:
                files, removed = (
                    (originals, []) if keep_identity else deidentify.deidentified_files(recording, primary, Path(tmp))
                )
                stored = [(f.name, *self.store.put_file(f)) for f in files]
            ica_blob = self._ica_bytes(recording.ica, Path(tmp)) if recording.ica is not None else None
        return self._insert(owner, recording, stored, removed, keep_identity, tags, ica_blob=ica_blob)

    def _stored_copy(self, source_sha256: str, keep_identity: bool):
        """Files already stored for the same upload (by anyone), and the fields removed then."""
        with self._session(write=False) as s:
            row = s.scalar(
                select(RecordingRow)
                .where(
                    RecordingRow.source_sha256 == source_sha256,
                    RecordingRow.identity_kept == keep_identity,
                    RecordingRow.parent_id.is_(None),
                )
                .limit(1)
            )
            if row is None:
                return None
            files = s.execute(
                select(StoredFile.name, StoredFile.sha256, StoredFile.size_bytes)
                .where(StoredFile.recording_id == row.id)
                .order_by(StoredFile.position)
            ).all()
        if not files or not all(self.store.has(sha) for _, sha, _ in files):
            return None
        return [tuple(f) for f in files], list(row.removed_fields)

    def _ica_bytes(self, ica, folder: Path) -> bytes:
        path = folder / "stored-ica.fif"
        ica.save(path, overwrite=True, verbose="error")
        return path.read_bytes()

    def _insert(
        self,
        owner,
        recording,
        stored,
        removed,
        keep_identity,
        tags,
        *,
        parent_id=None,
        history=None,
        cache_sha256=None,
        ica_blob=None,
        name=None,
    ) -> Entry:
        from backend.browse.annotations import table

        raw = recording.raw
        ica_key = self.store.put_bytes(ica_blob, "the file's ICA")[0] if ica_blob is not None else None
        with self._session(write=True) as s:
            self._require_stored(s, [sha for _, sha, _ in stored] + [cache_sha256, ica_key])
            uid = self._owner_id(s, owner, create=True)
            row = RecordingRow(
                owner_id=uid,
                parent_id=parent_id,
                name=name or recording.name[:MAX_NAME],
                format=recording.format,
                stored_format="FIF" if stored[0][0].endswith(".fif") else recording.format,
                n_channels=len(raw.ch_names),
                sfreq=float(raw.info["sfreq"]),
                duration_s=float(recording.duration_s),
                recorded_at=raw.info["meas_date"],
                size_bytes=sum(size for _, _, size in stored),
                source_sha256=recording.sha256,
                identity_kept=keep_identity,
                removed_fields=list(removed),
                history=history or _history_json(recording)[:1],
                cache_sha256=cache_sha256,
            )
            s.add(row)
            s.flush()
            s.add_all(
                StoredFile(recording_id=row.id, name=n, sha256=sha, size_bytes=size, position=i)
                for i, (n, sha, size) in enumerate(stored)
            )
            s.add_all(Tag(recording_id=row.id, tag=t) for t in tags)
            rows = table(raw)
            if rows:
                s.execute(
                    insert(AnnotationRow),
                    [
                        {
                            "recording_id": row.id,
                            "onset": r["onset"],
                            "duration": r["duration"],
                            "label": r["description"][:MAX_LABEL] or "(no label)",
                            "version": 1,
                            "updated_at": db.utcnow(),
                        }
                        for r in rows
                    ],
                )
            if ica_key is not None:
                s.add(
                    ResultRow(
                        recording_id=row.id,
                        kind="ica",
                        name=STORED_ICA,
                        blob_sha256=ica_key,
                        payload={"source": "the recording's file", "n_components": int(recording.ica.n_components_)},
                    )
                )
            s.flush()
            return self._entry(s, row)

    def save_derived(self, owner: str, parent_id, recording, name: str | None = None) -> Entry:
        """Keep a processed recording as a new entry: its parent's files, its recipe and a cached FIF.

        Opening it reads the cached FIF, or replays the recipe on the parent's files
        when the cache is gone.
        """
        name = check_text(name, "a recording name", MAX_NAME) if name is not None else None
        with self._session(write=False) as s:
            parent = self._own(s, owner, parent_id)
            stored = s.execute(
                select(StoredFile.name, StoredFile.sha256, StoredFile.size_bytes)
                .where(StoredFile.recording_id == parent.id)
                .order_by(StoredFile.position)
            ).all()
            base_history = parent.history[:1]
        history = base_history + _history_json(recording)[1:]
        cache = self._cache(recording) if len(history) > 1 else None
        return self._insert(
            owner,
            recording,
            [tuple(f) for f in stored],
            parent.removed_fields,
            parent.identity_kept,
            (),
            parent_id=parent.id,
            history=history,
            cache_sha256=cache,
            name=name or f"{parent.name} (processed)"[:MAX_NAME],
        )

    def _cache(self, recording) -> str:
        with tempfile.TemporaryDirectory(prefix="eeg-explorer-cache-") as tmp:
            path = Path(tmp) / "cache_raw.fif"
            recording.raw.save(path, fmt="double", overwrite=True, verbose="error")
            return self.store.put_file(path, f"the processed {recording.name}")[0]

    # --- listing ---

    def _entry(self, s, row: RecordingRow, tags: Sequence[str] | None = None) -> Entry:
        if tags is None:
            tags = s.scalars(select(Tag.tag).where(Tag.recording_id == row.id).order_by(Tag.tag)).all()
        return Entry(
            id=row.id,
            name=row.name,
            format=row.format,
            n_channels=row.n_channels,
            sfreq=row.sfreq,
            duration_s=row.duration_s,
            recorded_at=row.recorded_at,
            size_bytes=row.size_bytes,
            tags=tuple(tags),
            added_at=row.added_at,
            opened_at=row.opened_at,
            identity_kept=row.identity_kept,
            removed_fields=tuple(row.removed_fields),
            parent_id=row.parent_id,
            version=row.version,
            history=tuple(row.history),
        )

    def _filtered(self, uid, search, tag, format, recorded_from, recorded_to):
        query = select(RecordingRow).where(RecordingRow.owner_id == uid)
        if search:  # in any case where the database can fold it (ASCII at least), and verbatim
            query = query.where(
                or_(
                    func.lower(RecordingRow.name).contains(str(search).lower(), autoescape=True),
                    RecordingRow.name.contains(str(search), autoescape=True),
                )
            )
        if tag:
            query = query.where(RecordingRow.id.in_(select(Tag.recording_id).where(Tag.tag == tag)))
        if format:
            query = query.where(RecordingRow.format == format)
        if recorded_from is not None:
            query = query.where(RecordingRow.recorded_at >= recorded_from)
        if recorded_to is not None:
            query = query.where(RecordingRow.recorded_at <= recorded_to)
        return query

    def list(
        self,
        owner: str,
        *,
        search: str | None = None,
        tag: str | None = None,
        format: str | None = None,
        recorded_from: datetime | None = None,
        recorded_to: datetime | None = None,
        sort: str = "opened",
        descending: bool | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> builtins.list[Entry]:
        """One page of ``owner``'s recordings, filtered and sorted.

        Parameters
        ----------
        search : str, optional
            Part of the name, in any case.
        tag, format : str, optional
            Only recordings with this tag, or of this format ("EDF", "EEGLAB", ...).
        recorded_from, recorded_to : datetime, optional
            Only recordings made in this interval (inclusive; anonymised ones are left out).
        sort : str
            One of :data:`SORT_KEYS`; ``descending`` defaults to True for times, sizes and
            durations and False for names and formats.
        limit, offset : int
            The page: at most ``limit`` rows after skipping ``offset``.
        """
        if sort not in SORT_KEYS:
            raise EEGError(f"cannot sort by {sort!r}; choose one of {', '.join(SORT_KEYS)}")
        if not (isinstance(limit, int) and 1 <= limit <= 1000) or not (isinstance(offset, int) and offset >= 0):
            raise EEGError("a page holds 1 to 1000 rows from an offset of 0 or more")
        if descending is None:
            descending = sort not in ("name", "format")
        column = SORT_KEYS[sort]
        order = (column.desc(), RecordingRow.id.desc()) if descending else (column.asc(), RecordingRow.id.asc())
        with self._session(write=False) as s:
            uid = self._owner_id(s, owner, create=False)
            if uid is None:
                return []
            query = self._filtered(uid, search, tag, format, recorded_from, recorded_to)
            rows = s.scalars(query.order_by(*order).limit(limit).offset(offset)).all()
            tags: dict[int, list[str]] = {r.id: [] for r in rows}
            for rid, t in s.execute(
                select(Tag.recording_id, Tag.tag).where(Tag.recording_id.in_(list(tags))).order_by(Tag.tag)
            ):
                tags[rid].append(t)
            return [self._entry(s, r, tags[r.id]) for r in rows]

    def count(
        self,
        owner: str,
        *,
        search: str | None = None,
        tag: str | None = None,
        format: str | None = None,
        recorded_from: datetime | None = None,
        recorded_to: datetime | None = None,
    ) -> int:
        """How many of ``owner``'s recordings pass the filters of :meth:`list`."""
        with self._session(write=False) as s:
            uid = self._owner_id(s, owner, create=False)
            if uid is None:
                return 0
            query = self._filtered(uid, search, tag, format, recorded_from, recorded_to)
            return s.scalar(select(func.count()).select_from(query.subquery()))

    def get(self, owner: str, recording_id) -> Entry:
        """One of ``owner``'s recordings."""
        with self._session(write=False) as s:
            return self._entry(s, self._own(s, owner, recording_id))

    def files(self, owner: str, recording_id) -> builtins.list[dict]:
        """The stored files of a recording: ``name``, ``sha256`` and ``size_bytes``."""
        with self._session(write=False) as s:
            row = self._own(s, owner, recording_id)
            found = s.execute(
                select(StoredFile.name, StoredFile.sha256, StoredFile.size_bytes)
                .where(StoredFile.recording_id == row.id)
                .order_by(StoredFile.position)
            ).all()
        return [{"name": n, "sha256": sha, "size_bytes": size} for n, sha, size in found]

    # --- opening and autosave ---

    def open(self, owner: str, recording_id, touch: bool = True):
        """The recording as it was last saved: its files, history and annotations.

        ``touch=False`` (a job on a worker) leaves its "last opened" time as it was.

        Returns
        -------
        Recording
            Read lazily from the store; processed recordings come from their cached
            FIF, or are rebuilt from the recipe when the cache is gone (and cached again).
            Annotations are the Library's (:meth:`annotations`).
        """
        from backend import recipe
        from backend.io import load_recording
        from backend.recording import Step

        with self._session(write=True) as s:
            row = self._own(s, owner, recording_id)
            if touch:
                row.opened_at = db.utcnow()
            files = s.execute(
                select(StoredFile.name, StoredFile.sha256, StoredFile.size_bytes)
                .where(StoredFile.recording_id == row.id)
                .order_by(StoredFile.position)
            ).all()
            ica_sha = s.scalar(
                select(ResultRow.blob_sha256).where(
                    ResultRow.recording_id == row.id, ResultRow.kind == "ica", ResultRow.name == STORED_ICA
                )
            )
            rid, history, cache = row.id, list(row.history), row.cache_sha256
        folder = Path(tempfile.mkdtemp(dir=_link_folder()))
        paths = [self.store.link(sha, folder, name) for name, sha, _ in files]
        base = load_recording(paths, max_bytes=sum(size for *_, size in files) + 1)
        if base.ica is None and ica_sha is not None:
            base = replace(base, ica=self._read_ica(ica_sha, folder))
        recording = base
        if len(history) > 1:
            steps = tuple(Step(h["name"], h.get("params", {}), h.get("report", {})) for h in history[1:])
            if cache is not None and self.store.has(cache):
                import mne

                raw = mne.io.read_raw_fif(
                    self.store.link(cache, folder, "cache_raw.fif"), preload=False, verbose="error"
                )
                recording = replace(base, raw=raw, history=base.history + steps)
            else:
                recording = recipe.replay({"steps": [s.to_dict() for s in steps]}, base)
                self._set_cache(rid, self._cache(recording))
        return self._with_annotations(recording, self.annotations(owner, rid))

    def _read_ica(self, sha: str, folder: Path):
        import mne

        return mne.preprocessing.read_ica(self.store.link(sha, folder, "stored-ica.fif"), verbose="error")

    def _set_cache(self, rid: int, sha: str) -> None:
        with self._session(write=True) as s:
            self._require_stored(s, [sha])
            s.execute(update(RecordingRow).where(RecordingRow.id == rid).values(cache_sha256=sha))

    @staticmethod
    def _with_annotations(recording, rows: builtins.list[Annotation]):
        import mne
        import numpy as np

        raw = recording.raw
        old = raw.annotations
        onsets = np.array([a.onset for a in rows], float) + raw.first_time
        raw.set_annotations(
            mne.Annotations(onsets, [a.duration for a in rows], [a.label for a in rows], orig_time=old.orig_time)
        )
        return recording

    def save_state(self, owner: str, recording_id, recording, expected_version: int | None = None) -> int:
        """Autosave a recording's history (channel fixes, processing steps) as its last state.

        Parameters
        ----------
        recording : Recording
            The recording now, with its whole history; when it has steps beyond
            loading, its signals are cached as FIF in the store.
        expected_version : int, optional
            The version this session opened (:attr:`Entry.version`): a save over
            another session's newer one is refused instead of silently replacing it.

        Returns
        -------
        int
            The new version.
        """
        with self._session(write=False) as s:
            row = self._own(s, owner, recording_id)
            old_cache, base_history = row.cache_sha256, row.history[:1]
        history = base_history + _history_json(recording)[1:]
        cache = self._cache(recording) if len(history) > 1 else None
        with self._session(write=True) as s:
            self._require_stored(s, [cache])
            row = self._own(s, owner, recording_id)
            if expected_version is not None and row.version != expected_version:
                raise EEGError(
                    f"recording {row.id} was changed in another session (version {row.version}, "
                    f"this one opened {expected_version}); reopen it to see those changes"
                )
            row.history, row.cache_sha256, row.version = history, cache, row.version + 1
            version = row.version
        if old_cache and old_cache != cache:
            self._collect([old_cache])
        return version

    # --- editing entries ---

    def rename(self, owner: str, recording_id, name: str) -> Entry:
        name = check_text(name, "a recording name", MAX_NAME)
        with self._session(write=True) as s:
            row = self._own(s, owner, recording_id)
            row.name, row.version = name, row.version + 1
            s.flush()
            return self._entry(s, row)

    def _check_tags(self, tags: Iterable[str]) -> builtins.list[str]:
        tags = [check_text(t, "a tag", MAX_TAG) for t in ([tags] if isinstance(tags, str) else tags)]
        if len(set(tags)) > MAX_TAGS:
            raise EEGError(f"at most {MAX_TAGS} tags a recording")
        return list(dict.fromkeys(tags))

    def set_tags(self, owner: str, recording_id, tags: Iterable[str]) -> Entry:
        """Replace a recording's tags."""
        tags = self._check_tags(tags)
        with self._session(write=True) as s:
            row = self._own(s, owner, recording_id)
            s.execute(delete(Tag).where(Tag.recording_id == row.id))
            s.add_all(Tag(recording_id=row.id, tag=t) for t in tags)
            row.version += 1
            s.flush()
            return self._entry(s, row)

    def tag(self, owner: str, recording_id, add: Iterable[str] = (), remove: Iterable[str] = ()) -> Entry:
        """Add and remove tags of a recording."""
        current = self.get(owner, recording_id).tags
        dropped = set(remove if not isinstance(remove, str) else [remove])
        return self.set_tags(owner, recording_id, [t for t in current if t not in dropped] + self._check_tags(add))

    def remove(self, owner: str, recording_id) -> None:
        """Delete a recording with its annotations and results; files nothing else refers to go too."""
        with self._session(write=True) as s:
            row = self._own(s, owner, recording_id)
            shas = set(s.scalars(select(StoredFile.sha256).where(StoredFile.recording_id == row.id)))
            shas |= {
                sha for sha in s.scalars(select(ResultRow.blob_sha256).where(ResultRow.recording_id == row.id)) if sha
            }
            if row.cache_sha256:
                shas.add(row.cache_sha256)
            s.execute(update(RecordingRow).where(RecordingRow.parent_id == row.id).values(parent_id=None))
            for table in (AnnotationRow, ResultRow, Tag, StoredFile):
                s.execute(delete(table).where(table.recording_id == row.id))
            s.delete(row)
        self._collect(shas)

    def _collect(self, shas: Iterable[str]) -> None:
        """Delete the stored objects among ``shas`` that no row refers to any more."""
        shas = set(shas)
        if not shas:
            return
        with self._session(write=True) as s:  # under the lock new references take (_require_stored)
            self._store_lock(s)
            used = set(s.scalars(select(StoredFile.sha256).where(StoredFile.sha256.in_(shas))))
            used |= set(s.scalars(select(RecordingRow.cache_sha256).where(RecordingRow.cache_sha256.in_(shas))))
            used |= set(s.scalars(select(ResultRow.blob_sha256).where(ResultRow.blob_sha256.in_(shas))))
            for sha in shas - used:
                self.store.delete(sha)

    # --- annotations ---

    def annotations(self, owner: str, recording_id) -> builtins.list[Annotation]:
        """A recording's annotations, by onset."""
        with self._session(write=False) as s:
            row = self._own(s, owner, recording_id, RecordingRow.id)
            # Core rows, not ORM objects: thousands of annotations load in a few milliseconds.
            found = (
                s.connection()
                .execute(
                    select(
                        AnnotationRow.id,
                        AnnotationRow.onset,
                        AnnotationRow.duration,
                        AnnotationRow.label,
                        AnnotationRow.version,
                    )
                    .where(AnnotationRow.recording_id == row.id)
                    .order_by(AnnotationRow.onset, AnnotationRow.id)
                )
                .all()
            )
        return list(map(Annotation._make, found))

    def _check_annotation(self, row, onset, duration, label) -> tuple[float, float, str]:
        onset, duration = (
            check_seconds(onset, "an annotation's onset"),
            check_seconds(duration, "an annotation's duration"),
        )
        label = check_text(label, "an annotation's label", MAX_LABEL)
        if onset + duration > row.duration_s + 1e-6:
            raise EEGError(
                f"annotation {onset:g}–{onset + duration:g} s lies outside the recording (0–{row.duration_s:g} s)"
            )
        return onset, duration, label

    def add_annotation(self, owner: str, recording_id, onset, duration, label: str) -> Annotation:
        """Add an annotation (seconds from the first sample); returned once committed."""
        with self._session(write=True) as s:
            row = self._own(s, owner, recording_id, RecordingRow.id, RecordingRow.duration_s)
            onset, duration, label = self._check_annotation(row, onset, duration, label)
            new_id = s.execute(
                insert(AnnotationRow)
                .returning(AnnotationRow.id)
                .values(
                    recording_id=row.id, onset=onset, duration=duration, label=label, version=1, updated_at=db.utcnow()
                )
            ).scalar_one()
        return Annotation(new_id, onset, duration, label, 1)

    def _own_annotation(self, s, owner: str, annotation_id) -> tuple[AnnotationRow, RecordingRow]:
        aid = check_id(annotation_id, "annotation")
        uid = self._owner_id(s, owner, create=False)
        found = s.execute(
            select(AnnotationRow, RecordingRow)
            .join(RecordingRow)
            .where(AnnotationRow.id == aid, RecordingRow.owner_id == uid)
        ).first()
        if found is None:
            raise EEGError(f"no annotation {aid} in {owner}'s library (deleted, or never there)")
        return found[0], found[1]

    def update_annotation(
        self, owner: str, annotation_id, version: int, *, onset=None, duration=None, label: str | None = None
    ) -> Annotation:
        """Change an annotation that this session last saw at ``version``.

        Raises
        ------
        EEGError
            When another session changed or deleted it since: nothing is overwritten.
        """
        with self._session(write=True) as s:
            ann, rec = self._own_annotation(s, owner, annotation_id)
            new = self._check_annotation(
                rec,
                ann.onset if onset is None else onset,
                ann.duration if duration is None else duration,
                ann.label if label is None else label,
            )
            done = s.execute(
                update(AnnotationRow)
                .where(AnnotationRow.id == ann.id, AnnotationRow.version == version)
                .values(
                    onset=new[0],
                    duration=new[1],
                    label=new[2],
                    version=AnnotationRow.version + 1,
                    updated_at=db.utcnow(),
                )
            )
            if done.rowcount != 1:
                raise _stale(ann, version)
        return Annotation(ann.id, *new, version + 1)

    def delete_annotation(self, owner: str, annotation_id, version: int) -> None:
        """Delete an annotation that this session last saw at ``version`` (refused if changed since)."""
        with self._session(write=True) as s:
            ann, _ = self._own_annotation(s, owner, annotation_id)
            done = s.execute(delete(AnnotationRow).where(AnnotationRow.id == ann.id, AnnotationRow.version == version))
            if done.rowcount != 1:
                raise _stale(ann, version)

    def annotations_csv(self, owner: str, recording_id) -> str:
        """The annotations as CSV, ``onset,duration,description`` like the Browse page's export."""
        from backend.browse.annotations import CSV_COLUMNS

        out = _stdio.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for a in self.annotations(owner, recording_id):
            writer.writerow([f"{a.onset:.6f}", f"{a.duration:.6f}", a.label])
        return out.getvalue()

    # --- results ---

    def save_result(
        self,
        owner: str,
        recording_id,
        kind: str,
        name: str,
        payload: dict,
        blob: bytes | None = None,
        expected_version: int | None = None,
    ) -> Result:
        """Store a result of a recording, replacing the one of the same kind and name.

        Parameters
        ----------
        kind : str
            One of :data:`RESULT_KINDS`.
        name : str
            Which one of its kind ("ICA 1", "Riemann MDM"; "impression" for the impression).
        payload : dict
            JSON data (numpy numbers and arrays are turned into lists; NaN is refused).
        blob : bytes, optional
            Binary data kept in the file store (an ICA as FIF, a model as skops).
        expected_version : int, optional
            The version this session read: a save over a newer one is refused.
        """
        if kind not in RESULT_KINDS:
            raise EEGError(f"unknown result kind {kind!r}; known: {', '.join(RESULT_KINDS)}")
        name = check_text(name, "a result name", MAX_NAME)
        payload = _json_payload(payload)
        if kind == "impression":
            check_text(payload.get("text", ""), "the impression", MAX_TEXT)
        sha = self.store.put_bytes(bytes(blob), f"the {kind} result")[0] if blob is not None else None
        with self._session(write=True) as s:
            self._require_stored(s, [sha])
            rec = self._own(s, owner, recording_id)
            row = s.scalar(
                select(ResultRow).where(
                    ResultRow.recording_id == rec.id, ResultRow.kind == kind, ResultRow.name == name
                )
            )
            old_sha = row.blob_sha256 if row is not None else None
            if row is None:
                if expected_version not in (None, 0):
                    raise EEGError(f"the {kind} result {name!r} was deleted in another session")
                row = ResultRow(recording_id=rec.id, kind=kind, name=name, version=0)
                s.add(row)
            elif expected_version is not None and row.version != expected_version:
                raise EEGError(
                    f"the {kind} result {name!r} was changed in another session (version {row.version}, "
                    f"this one read {expected_version}); reload it"
                )
            row.payload, row.blob_sha256, row.version, row.updated_at = payload, sha, row.version + 1, db.utcnow()
            s.flush()
            result = _result(row)
        if old_sha and old_sha != sha:
            self._collect([old_sha])
        return result

    def results(self, owner: str, recording_id, kind: str | None = None) -> builtins.list[Result]:
        """A recording's results (of one kind if given), newest first."""
        with self._session(write=False) as s:
            rec = self._own(s, owner, recording_id)
            query = select(ResultRow).where(ResultRow.recording_id == rec.id)
            if kind is not None:
                query = query.where(ResultRow.kind == kind)
            return [_result(r) for r in s.scalars(query.order_by(ResultRow.updated_at.desc(), ResultRow.id.desc()))]

    def _own_result(self, s, owner: str, result_id) -> ResultRow:
        rid = check_id(result_id, "result")
        uid = self._owner_id(s, owner, create=False)
        row = s.scalar(select(ResultRow).join(RecordingRow).where(ResultRow.id == rid, RecordingRow.owner_id == uid))
        if row is None:
            raise EEGError(f"no result {rid} in {owner}'s library")
        return row

    def result_blob(self, owner: str, result_id) -> bytes:
        """The blob stored with a result."""
        with self._session(write=False) as s:
            row = self._own_result(s, owner, result_id)
            sha = row.blob_sha256
        if sha is None:
            raise EEGError(f"result {row.id} has no stored data beyond its payload")
        return self.store.read_bytes(sha)

    def delete_result(self, owner: str, result_id) -> None:
        with self._session(write=True) as s:
            row = self._own_result(s, owner, result_id)
            sha = row.blob_sha256
            s.delete(row)
        if sha:
            self._collect([sha])

    def impression(self, owner: str, recording_id) -> str:
        """The clinician's free-text impression of a recording ("" when none was written)."""
        found = self.results(owner, recording_id, kind="impression")
        return found[0].payload.get("text", "") if found else ""

    def set_impression(self, owner: str, recording_id, text: str) -> Result:
        return self.save_result(owner, recording_id, "impression", "impression", {"text": text})


def _result(row: ResultRow) -> Result:
    return Result(
        row.id,
        row.recording_id,
        row.kind,
        row.name,
        dict(row.payload),
        row.blob_sha256 is not None,
        row.version,
        row.updated_at,
    )


def _stale(ann: AnnotationRow, version: int) -> EEGError:
    return EEGError(
        f"annotation {ann.id} was changed or deleted in another session since version {version}; "
        "reload the annotations to see the current ones"
    )
