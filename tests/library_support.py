"""Shared set-up of the Library tests: each test gets a fresh data folder and database.

Every test that takes ``library`` or ``library_url`` runs on SQLite, and again on
PostgreSQL when ``EEG_EXPLORER_TEST_POSTGRES_URL`` names a server whose user may
create databases (``.ci/postgres.sh`` starts one); each test gets its own database.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_ENV = "EEG_EXPLORER_TEST_POSTGRES_URL"


def _postgres_database():
    """A fresh database on the test server: yields its URL, drops it afterwards."""
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        pytest.skip(f"PostgreSQL run skipped: set {POSTGRES_ENV} (e.g. to the URL .ci/postgres.sh prints)")
    admin = create_engine(make_url(admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    name = f"eeg_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def library_url(request, tmp_path, monkeypatch):
    """The database URL of this test: a SQLite file in a temporary data folder, or a fresh PostgreSQL database.

    ``EEG_EXPLORER_HOME`` and ``EEG_EXPLORER_DATABASE_URL`` are set to them, so the
    command line and child processes use the same library.
    """
    home = tmp_path / "home"
    monkeypatch.setenv("EEG_EXPLORER_HOME", str(home))
    if request.param == "sqlite":
        url = f"sqlite:///{home / 'library.sqlite3'}"
        monkeypatch.setenv("EEG_EXPLORER_DATABASE_URL", url)
        yield url
        return
    databases = _postgres_database()
    url = next(databases)
    monkeypatch.setenv("EEG_EXPLORER_DATABASE_URL", url)
    yield url
    next(databases, None)


@pytest.fixture
def library(library_url):
    from backend.library.api import Library

    lib = Library()
    yield lib
    lib.close()
