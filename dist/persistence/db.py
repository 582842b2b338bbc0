"""Engines and sessions: SQLite tuned for a CLI and a server sharing one file, PostgreSQL as it comes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_MS = 5000
WRITE_OPTION = "dist_write"


def upsert(session: Session, table: Any) -> Any:
    """INSERT with ON CONFLICT for the session's engine. The dialect's module is imported here: a server on SQLite
    never loads PostgreSQL's (a few MiB of memory)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def sqlite_url(path: str) -> str:
    return f"sqlite+pysqlite:///{path}"


def normalise_url(url: str | URL) -> URL:
    """PostgreSQL URLs without a driver get psycopg 3, the driver we ship."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        _tune_sqlite(engine)
        return engine
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # Take transaction control from the driver, so that BEGIN is ours to issue.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Every acknowledged write survives a power cut.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        # A write transaction takes the write lock up front: a read-then-write can never fail to
        # upgrade its lock, and a busy writer is waited for (busy_timeout) instead of failing late.
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def session_factories(engine: Engine) -> tuple[sessionmaker[Session], sessionmaker[Session]]:
    """A factory of read sessions and one of write sessions over the same pool."""
    read = sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)
    write = sessionmaker(bind=engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False)
    return read, write
