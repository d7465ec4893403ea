"""The Library's database: schema (SQLAlchemy 2 ORM), engine, migrations and error messages.

SQLite by default (``library.sqlite3`` in the data folder, WAL journal, nothing to
install or start); PostgreSQL when ``EEG_EXPLORER_DATABASE_URL`` names one. The
schema is created and upgraded by the Alembic migrations in ``migrations/``, run on
open; a database written by a newer version is refused, never touched.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
    exc,
    inspect,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from backend.errors import EEGError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
DB_FILE_NAME = "library.sqlite3"


def lock_timeout_s() -> float:
    """Seconds a write waits for another writer before "locked" (``EEG_EXPLORER_DB_TIMEOUT_S``, default 10)."""
    return float(os.environ.get("EEG_EXPLORER_DB_TIMEOUT_S", 10.0))


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite stores it without a zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the Library stores timezone-aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class User(Base):
    """A library owner: a signed-in user, or the one local user."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecordingRow(Base):
    """One recording in a user's library: what the list shows, and its last state.

    ``history`` holds every step since loading (``Step`` as dicts with their reports);
    ``cache_sha256`` names the FIF of the processed signals in the store, if any.
    ``version`` grows with every change of the row, so a stale save is detected.
    """

    __tablename__ = "recordings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("recordings.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(40))
    stored_format: Mapped[str] = mapped_column(String(40))
    n_channels: Mapped[int] = mapped_column(Integer)
    sfreq: Mapped[float] = mapped_column(Float)
    duration_s: Mapped[float] = mapped_column(Float)
    recorded_at: Mapped[datetime | None]
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    source_sha256: Mapped[str] = mapped_column(String(64))
    identity_kept: Mapped[bool] = mapped_column(Boolean, default=False)
    removed_fields: Mapped[list[Any]] = mapped_column(default=list)
    history: Mapped[list[Any]] = mapped_column(default=list)
    cache_sha256: Mapped[str | None] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (
        Index("ix_recordings_owner_opened", "owner_id", "opened_at"),
        Index("ix_recordings_owner_added", "owner_id", "added_at"),
        Index("ix_recordings_owner_name", "owner_id", "name"),
        Index("ix_recordings_owner_recorded", "owner_id", "recorded_at"),
        Index("ix_recordings_owner_format", "owner_id", "format"),
    )


class StoredFile(Base):
    """A file of a recording, by name, and the store object holding its bytes."""

    __tablename__ = "recording_files"
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Tag(Base):
    __tablename__ = "tags"
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(100), primary_key=True)
    __table_args__ = (Index("ix_tags_tag", "tag", "recording_id"),)


class AnnotationRow(Base):
    """An annotation: onset and duration in seconds from the recording's first sample."""

    __tablename__ = "annotations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"))
    onset: Mapped[float] = mapped_column(Float)
    duration: Mapped[float] = mapped_column(Float)
    label: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (Index("ix_annotations_recording_onset", "recording_id", "onset"),)


class ResultRow(Base):
    """A typed result of a recording: JSON payload and, optionally, a blob in the store.

    One row per ``(recording, kind, name)``: saving again replaces it (the last state).
    """

    __tablename__ = "results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    blob_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("recording_id", "kind", "name", name="uq_results_recording_kind_name"),)


class JobRow(Base):
    """A job: a heavy stage run on a Dask worker for one recording (:mod:`backend.jobs`).

    ``status`` is running, done, failed or cancelled; ``progress`` 0–1 with ``message``
    saying what runs now; ``error`` the one line of a failed job; ``result_id`` the
    Library result it stored; ``server`` the ``host:pid`` of the app process that submitted it.
    """

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    session: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"))
    function: Mapped[str] = mapped_column(String(200))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="running")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(String(500), default="")
    error: Mapped[str | None] = mapped_column(String(500))
    result_id: Mapped[int | None] = mapped_column(Integer)
    server: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    __table_args__ = (
        Index("ix_jobs_owner_created", "owner_id", "created_at"),
        Index("ix_jobs_recording_kind", "recording_id", "kind"),
    )


# --- engine ----------------------------------------------------------------------------------


def database_url(home: Path) -> str:
    """``EEG_EXPLORER_DATABASE_URL`` if set, else the SQLite file in ``home``."""
    url = os.environ.get("EEG_EXPLORER_DATABASE_URL", "").strip()
    return url or f"sqlite:///{home / DB_FILE_NAME}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # SQLAlchemy emits BEGIN itself (_sqlite_begin), so the driver must not open transactions of its own.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {int(lock_timeout_s() * 1000)}")
    cursor.execute("PRAGMA journal_mode = WAL")
    # FULL: a commit is on disk before it is acknowledged, even through a power cut.
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _sqlite_begin(connection) -> None:
    # Writers ask for "BEGIN IMMEDIATE" (execution option ``sqlite_begin``): they take the write
    # lock first and wait for it, instead of failing when a read turns into a write.
    connection.exec_driver_sql(connection.get_execution_options().get("sqlite_begin", "BEGIN"))


def make_engine(url: str) -> Engine:
    """An engine for ``url``: SQLite in WAL mode with foreign keys, or PostgreSQL through psycopg 3."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        raise EEGError("EEG_EXPLORER_DATABASE_URL is not a database URL (postgresql://user@host/db)") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": lock_timeout_s()})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(
            parsed,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 10, "options": f"-c lock_timeout={int(lock_timeout_s() * 1000)}"},
        )
    raise EEGError(f"unsupported database {parsed.get_backend_name()!r}: use SQLite or PostgreSQL")


def describe(url: str) -> str:
    """The database, for messages: the SQLite file or the PostgreSQL host and name, never a password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"the library database {parsed.database}"
    return f"the PostgreSQL library database {parsed.database} on {parsed.host or 'localhost'}"


def problem(err: BaseException, where: str) -> EEGError:
    """A one-line :class:`EEGError` naming what went wrong with the database."""
    text = str(getattr(err, "orig", None) or err).lower()
    if "locked" in text or "lock timeout" in text or "lock_timeout" in text or "could not obtain lock" in text:
        return EEGError(f"{where} is locked by another program; nothing was changed, try again")
    if "disk is full" in text or "database or disk is full" in text or "no space left" in text or "disk full" in text:
        return EEGError(f"the disk holding {where} is full; nothing was changed, free some space and try again")
    if "not a database" in text or "malformed" in text or "file is encrypted" in text:
        return EEGError(f"{where} is not a readable database (damaged or another kind of file); it was left as it is")
    if "unable to open" in text or "readonly" in text or "read-only" in text or "permission denied" in text:
        return EEGError(f"{where} cannot be opened for writing (check its permissions); nothing was changed")
    if "disk i/o error" in text:
        return EEGError(f"{where}: the disk failed to read or write; nothing was changed")
    if "connection" in text or "could not connect" in text or "server closed" in text:
        return EEGError(f"{where} cannot be reached ({_first_line(err)})")
    return EEGError(f"{where}: database error ({_first_line(err)})")


def _first_line(err: BaseException) -> str:
    text = str(getattr(err, "orig", None) or err).strip().splitlines()
    return (text[0] if text else type(err).__name__)[:200]


@contextlib.contextmanager
def translated(where: str) -> Iterator[None]:
    """Turn database failures into one-line :class:`EEGError` messages."""
    try:
        yield
    except (exc.OperationalError, exc.DatabaseError, exc.InterfaceError, sqlite3.DatabaseError) as err:
        raise problem(err, where) from None
    except OSError as err:
        raise problem(err, where) from None


# --- migrations ------------------------------------------------------------------------------


def _alembic_config(connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine, where: str) -> None:
    """Bring the schema to the newest revision; refuse a database from a newer version.

    Only ever moves forward, inside one transaction (PostgreSQL and SQLite both have
    transactional DDL), so a failure leaves the database as it was.
    """
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with translated(where):
        with engine.connect() as connection:
            heads = set(ScriptDirectory.from_config(_alembic_config(connection)).get_heads())
            current = set(MigrationContext.configure(connection).get_current_heads())
            known = {rev.revision for rev in ScriptDirectory.from_config(_alembic_config(connection)).walk_revisions()}
            unknown = current - known
            if unknown:
                raise EEGError(
                    f"{where} was written by a newer EEG Explorer (schema {', '.join(sorted(unknown))}); "
                    "update the app to open it; it was left as it is"
                )
            if not current and set(inspect(connection).get_table_names()) & set(Base.metadata.tables):
                raise EEGError(f"{where} holds library tables but no schema version; it was left as it is")
            if current == heads:
                return
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
