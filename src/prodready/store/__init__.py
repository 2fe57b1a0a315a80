"""Where workshop answers live: workshops -> teams -> assessments -> answers, over time.

``open()`` connects (a SQLite file by default, PostgreSQL when ``PRODREADY_DB_URL`` or the
``url`` argument says so), brings the schema up to date with the packaged Alembic migrations
and returns a :class:`Store`. See docs/store.md.
"""

from __future__ import annotations

from sqlalchemy.engine import URL

from prodready.store.engine import DEFAULT_PATH, ENV_VAR, database_errors, make_engine, migrate
from prodready.store.engine import resolve_url as resolve_url
from prodready.store.store import Assessment, Store
from prodready.store.transfer import FORMAT, read_workshop_file

__all__ = [
    "DEFAULT_PATH",
    "ENV_VAR",
    "FORMAT",
    "Assessment",
    "Store",
    "open",
    "read_workshop_file",
    "resolve_url",
]


def open(url: str | URL | None = None) -> Store:
    """Open (creating or upgrading when needed) the store at ``url``.

    ``url``: a SQLAlchemy URL; default ``$PRODREADY_DB_URL``, else ``~/.prodready/prodready.db``.
    A database that cannot be reached raises StoreError naming the URL (no password) and a fix.
    """
    resolved = resolve_url(url)
    engine = make_engine(resolved)
    try:
        with database_errors(resolved, "opened"):
            migrate(engine)
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, resolved)
