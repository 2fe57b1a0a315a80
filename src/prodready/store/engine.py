"""Where the store lives, how to connect to it, and bringing its schema up to date.

SQLite (a file, the default) gets WAL (readers never wait for the writer), foreign keys and a
busy timeout on every connection, and writes take the lock when they start (``BEGIN
IMMEDIATE``) so two facilitators' writes queue instead of failing. PostgreSQL is reached with
psycopg 3. Alembic's ``upgrade head`` runs on every open, under a lock, inside one transaction.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from prodready.errors import StoreError

ENV_VAR = "PRODREADY_DB_URL"
DEFAULT_PATH = Path("~/.prodready/prodready.db")
BUSY_TIMEOUT_MS = 30_000  # a writer waits this long for another writer's lock on SQLite
CONNECT_TIMEOUT_S = 10  # PostgreSQL: give up on an unreachable server after this long
MIGRATION_LOCK = 7_020_417  # PostgreSQL advisory lock key held while migrating
WRITE_OPTION = "prodready_write"  # execution option: this transaction will write

URL_FIX = (
    f"check the URL (argument --db, or the {ENV_VAR} environment variable), e.g. "
    "sqlite:///path/to/prodready.db or postgresql+psycopg://user:password@host:5432/database, "
    "and that the server is running and reachable; without a URL prodready uses "
    f"{DEFAULT_PATH}"
)


def resolve_url(url: str | URL | None = None) -> URL:
    """The URL to use: the argument, else ``$PRODREADY_DB_URL``, else the default SQLite file
    (its folder created). ``postgresql://`` means psycopg 3, the driver prodready ships with."""
    if url is None or (isinstance(url, str) and not url.strip()):
        url = os.environ.get(ENV_VAR, "").strip() or None
    if url is None:
        path = DEFAULT_PATH.expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        return URL.create("sqlite", database=str(path))
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError as error:
        raise StoreError(
            "the database URL cannot be read",
            where=str(url),
            expected="dialect+driver://user:password@host:port/database or sqlite:///file.db",
            found=str(error),
            fix=URL_FIX,
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def redact(url: URL) -> str:
    """The URL as it may be shown: the password replaced by ***."""
    return url.render_as_string(hide_password=True)


def make_engine(url: URL) -> Engine:
    """An engine with prodready's connection settings for the URL's backend."""
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    elif url.get_backend_name() == "sqlite":
        connect_args["timeout"] = BUSY_TIMEOUT_MS / 1000
    try:
        engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError) as error:
        raise StoreError(
            "prodready cannot use this kind of database",
            where=redact(url),
            expected="a sqlite:/// or postgresql+psycopg:// URL",
            found=str(error).splitlines()[0],
            fix=URL_FIX,
        ) from None
    if url.get_backend_name() == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the sqlite3 module, so BEGIN is ours (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A writer takes the write lock at once: a read-then-write transaction could not get it
        # later under WAL (SQLITE_BUSY_SNAPSHOT, not retried), so writes would be lost.
        writes = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


@contextmanager
def database_errors(url: URL, doing: str) -> Iterator[None]:
    """Turn a driver's failure into a StoreError naming the URL (no password) and a fix."""
    try:
        yield
    except SQLAlchemyError as error:
        reason = getattr(error, "orig", None) or error
        found = " ".join(str(reason).split()) or type(reason).__name__
        raise StoreError(
            f"the database could not be {doing}",
            where=redact(url),
            found=found[:500],
            fix=URL_FIX,
        ) from None


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (a no-op when it is there already).

    Runs in one transaction that first takes a lock, so two processes opening a new database at
    the same time do not both create it.
    """
    from alembic import command
    from alembic.config import Config
    from alembic.util import CommandError

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            if engine.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                )
            config.attributes["connection"] = connection
            try:
                command.upgrade(config, "head")
            except CommandError as error:  # e.g. a revision this version does not know
                raise StoreError(
                    "the database's schema is not one this version of prodready knows",
                    where=redact(engine.url),
                    found=str(error),
                    fix="upgrade prodready to the version that wrote this database, or point "
                    f"--db / {ENV_VAR} at another database",
                ) from None


def script_directory() -> Any:
    """Alembic's view of the migrations shipped in the package (for tests and tooling)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(Path(__file__).parent / "migrations"))
