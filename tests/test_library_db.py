"""``backend.library.db``: migrations, and one-line messages when the database cannot do its job."""

from __future__ import annotations

import errno
import sqlite3

import pytest
from sqlalchemy import create_engine, event, text

from backend.errors import EEGError
from backend.library import db
from backend.library.api import Library
from tests.test_library_api import make_fif


def test_the_migration_builds_exactly_the_models_schema(library):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with library.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.Base.metadata) == []
        assert context.get_current_heads() == ("0002",)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(library):
    if not library.is_sqlite:
        pytest.skip("SQLite settings")
    with library.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_a_database_from_a_newer_version_is_refused_and_left_alone(library_url, tmp_path):
    with Library() as lib:
        entry = lib.add("local", [make_fif(tmp_path / "x_raw.fif")])
        with lib.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    with pytest.raises(EEGError, match=r"written by a newer EEG Explorer \(schema 0099\); update the app"):
        Library()
    engine = create_engine(db.make_engine(library_url).url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT name FROM recordings")).scalars().all() == [entry.name]
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0099"
    engine.dispose()


def test_a_file_that_is_not_a_database_is_named_and_kept(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("EEG_EXPLORER_HOME", str(home))
    monkeypatch.delenv("EEG_EXPLORER_DATABASE_URL", raising=False)
    garbage = b"this is a spreadsheet, not a database\n" * 200
    (home / db.DB_FILE_NAME).write_bytes(garbage)
    with pytest.raises(EEGError) as err:
        Library()
    assert str(err.value).startswith(f"the library database {home / db.DB_FILE_NAME} is not a readable database")
    assert (home / db.DB_FILE_NAME).read_bytes() == garbage


def test_a_locked_database_is_named_and_nothing_is_lost(library_url, tmp_path, monkeypatch):
    monkeypatch.setenv("EEG_EXPLORER_DB_TIMEOUT_S", "0.3")
    with Library() as lib:
        entry = lib.add("local", [make_fif(tmp_path / "x_raw.fif")])
        first = lib.add_annotation("local", entry.id, 1, 1, "before")
        blocker = create_engine(lib.engine.url, isolation_level="AUTOCOMMIT")
        with blocker.connect() as other:
            if lib.is_sqlite:
                other.exec_driver_sql("BEGIN EXCLUSIVE")
            else:
                other.exec_driver_sql("BEGIN")
                other.exec_driver_sql("LOCK TABLE annotations IN ACCESS EXCLUSIVE MODE")
            with pytest.raises(EEGError, match="is locked by another program; nothing was changed, try again"):
                lib.add_annotation("local", entry.id, 2, 1, "during")
            other.exec_driver_sql("ROLLBACK")
        blocker.dispose()
        lib.add_annotation("local", entry.id, 3, 1, "after")
        assert [a.label for a in lib.annotations("local", entry.id)] == ["before", "after"]
        assert first.id == lib.annotations("local", entry.id)[0].id


def test_a_full_disk_is_named_and_what_is_stored_stays(library, tmp_path, monkeypatch):
    entry = library.add("local", [make_fif(tmp_path / "x_raw.fif")])
    library.add_annotation("local", entry.id, 1, 1, "kept")
    # The file store: a write that fails for space leaves no partial object.
    objects_before = sorted((library.home / "store").rglob("*"))

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("backend.library.store.os.fsync", no_space)
    with pytest.raises(EEGError, match="the disk holding the library's files is full"):
        library.save_result("local", entry.id, "model", "MDM", {}, blob=b"model bytes")
    monkeypatch.undo()
    assert sorted((library.home / "store").rglob("*")) == objects_before
    if library.is_sqlite:  # the database itself: SQLite's own "database or disk is full"

        @event.listens_for(library.engine, "connect")
        def _full(dbapi_connection, _record):
            pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

        library.engine.dispose()
        with pytest.raises(EEGError, match="is full; nothing was changed"):
            for i in range(2000):
                library.add_annotation("local", entry.id, 1, 1, f"note {i} " + "x" * 900)
        event.remove(library.engine, "connect", _full)
        library.engine.dispose()
        with sqlite3.connect(library.engine.url.database) as check:
            assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert library.annotations("local", entry.id)[0].label == "kept"
