"""Alembic environment: run on a connection the Library passes in (``config.attributes``)."""

from alembic import context

from backend.library.db import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
