"""Knowing, without a query, that another connection has committed: what lets a server keep answers in memory.

SQLite counts commits by other connections in `PRAGMA data_version`, which a dedicated connection reads in a
few microseconds. PostgreSQL write transactions NOTIFY `CHANGES_CHANNEL` (see UnitOfWork.commit), delivered
when they commit; a dedicated connection LISTENs and its socket is drained without waiting.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

log = logging.getLogger("dist.persistence.changes")

CHANGES_CHANNEL = "dist_changes"
RECONNECT_SECONDS = 1.0


def notify_changes(session: Session) -> None:
    """Tell every listener that this transaction changes the store; PostgreSQL delivers it at commit."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {CHANGES_CHANNEL}"))


class ChangeWatch(Protocol):
    """Calls `changed` once for each batch of commits seen since the last `poll`; `live` is False while
    changes could go unseen (the cache must then be bypassed)."""

    live: bool

    def poll(self) -> None: ...

    async def run(self, changed: Callable[[], None]) -> None: ...

    def close(self) -> None: ...


class SqliteDataVersion:
    """`PRAGMA data_version` on a connection of its own: it changes whenever any other connection, of this
    process or another, commits. The connection belongs to the event loop's thread."""

    def __init__(self, path: str) -> None:
        self.live = False
        self._path = path
        self._connection: sqlite3.Connection | None = None
        self._version: int | None = None
        self._changed: Callable[[], None] = _nothing

    async def run(self, changed: Callable[[], None]) -> None:
        self._changed = changed
        # A zero timeout: the event loop never waits on a lock; a busy read only bypasses the cache once.
        self._connection = sqlite3.connect(self._path, timeout=0, isolation_level=None, check_same_thread=True)
        self.live = True
        self.poll()

    def poll(self) -> None:
        if self._connection is None:
            return
        try:
            row = self._connection.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error:
            self._version = None
            self._changed()
            return
        if row[0] != self._version:
            self._version = row[0]
            self._changed()

    def close(self) -> None:
        self.live = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class PostgresListener:
    """LISTEN on a psycopg async connection of its own, reconnecting while the server runs. Notifications are
    drained when its socket turns readable and at every `poll`, so that one delivered before a request is
    always seen by it."""

    def __init__(self, url: URL) -> None:
        self.live = False
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._connection: Any = None
        self._lost = asyncio.Event()
        self._changed: Callable[[], None] = _nothing
        self._errors: tuple[type[BaseException], ...] = ()

    async def run(self, changed: Callable[[], None]) -> None:
        # psycopg is imported here: a store on SQLite never loads it.
        import psycopg

        self._changed, self._errors = changed, (psycopg.Error,)
        loop = asyncio.get_running_loop()
        while True:
            try:
                connection = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
                await connection.execute(f"LISTEN {CHANGES_CHANNEL}")
            except psycopg.Error as error:
                log.warning("cannot listen for changes (%s); answers are not cached meanwhile", error)
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            self._connection = connection
            self._lost.clear()
            socket = connection.pgconn.socket
            loop.add_reader(socket, self.poll)
            # Whatever was committed while nobody listened is unknown: everything cached is dropped.
            self.live = True
            changed()
            try:
                await self._lost.wait()
            finally:
                self.live = False
                self._connection = None
                loop.remove_reader(socket)
                await connection.close()
            await asyncio.sleep(RECONNECT_SECONDS)

    def poll(self) -> None:
        if not self.live:
            return
        pgconn = self._connection.pgconn
        seen = False
        try:
            pgconn.consume_input()
            while pgconn.notifies() is not None:
                seen = True
        except self._errors as error:
            log.warning("lost the change listener (%s); answers are not cached until it is back", error)
            self.live = False
            self._lost.set()
            seen = True
        if seen:
            self._changed()

    def close(self) -> None:
        # The connection is closed by `run` when its task is cancelled.
        self.live = False


def _nothing() -> None:
    return None


def watch_for(url: URL) -> ChangeWatch:
    """The change watch that suits the store's database."""
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        return SqliteDataVersion(url.database)
    return PostgresListener(url)
