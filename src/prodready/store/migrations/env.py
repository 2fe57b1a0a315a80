"""Alembic environment of the store: always run programmatically by prodready.store.

:func:`prodready.store.engine.migrate` passes an open connection (inside a transaction that holds
the migration lock) through ``config.attributes["connection"]``; there is no alembic.ini.
"""

from __future__ import annotations

from alembic import context

from prodready.store.models import Base

VERSION_TABLE = "prodready_alembic_version"

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached by a hand-run `alembic` command
    raise RuntimeError("prodready's migrations run through prodready.store.open(), not alembic")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    render_as_batch=True,  # SQLite can only ALTER a table by copying it
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
