"""Alembic runs on the connection handed in by infra.db.migrate; it never builds an engine itself."""
from alembic import context

from infra.db.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
