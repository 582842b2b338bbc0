"""The legacy store format (db.json + objects/): import on first load, import from and export to a directory.

A first-load import is all or nothing and survives a crash at any point: an embedded store is built in a
temporary database file that is linked into place only once complete; another database takes the import in
one transaction. db.json is renamed db.json.imported only after that. A store found holding both db.json
and a database with exactly its records was interrupted between the two steps, and only the rename is left.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine
from sqlalchemy.pool import StaticPool

from dist.domain.errors import Conflict
from dist.persistence.db import WRITE_OPTION, make_engine, sqlite_url
from dist.persistence.file_objects import FileObjects, fsync_path
from dist.persistence.legacy.loader import (
    Loader,
    LoadReport,
    database_counts,
    document_counts,
    lock_for_import,
)

if TYPE_CHECKING:
    from dist.persistence.store import StoreLocation

IMPORTED_SUFFIX = ".imported"
log = logging.getLogger(__name__)


def _import_or_finish(location: StoreLocation, connection: Connection) -> bool:
    """In the caller's write transaction: import db.json into an empty database, or check that a database
    already holds it (an import interrupted before the rename). True when db.json is done with."""
    lock_for_import(connection)
    if not location.legacy_path.exists():
        # Another process imported it while this one waited for the lock.
        return False
    counts = database_counts(connection)
    if not any(counts.values()):
        report: LoadReport = Loader(connection, FileObjects(location.root / "objects")).load(location.legacy_path)
        for warning in report.warnings:
            log.warning("%s", warning)
        return True
    if document_counts(location.legacy_path) != counts:
        raise Conflict(
            "legacy.conflict",
            f"{location.legacy_path} awaits import, but the database already holds other records; move one of "
            "them away, or import the file into an empty store with `dist store import-legacy`",
        )
    return True


def mark_imported(location: StoreLocation) -> None:
    """Rename db.json to db.json.imported, durably."""
    with contextlib.suppress(FileNotFoundError):
        os.replace(location.legacy_path, location.legacy_path.with_name(location.legacy_path.name + IMPORTED_SUFFIX))
        fsync_path(location.root)


def import_on_first_load(location: StoreLocation, engine: Engine) -> None:
    """Import the store's db.json into its database (at head), in one transaction, then rename db.json."""
    with engine.execution_options(**{WRITE_OPTION: True}).begin() as connection:
        done = _import_or_finish(location, connection)
    if done:
        mark_imported(location)


def _build_unjournaled(engine: Engine) -> None:
    """No journal and no syncs while the file is built: nobody else sees it until it is linked into place, and a
    crash before that leaves only a temporary file, never used. The whole file is synced before the link."""
    connection = engine.raw_connection()
    try:
        # Outside any transaction, where SQLite lets the journal mode change.
        connection.driver_connection.execute("PRAGMA journal_mode=OFF")  # type: ignore[union-attr]
        connection.driver_connection.execute("PRAGMA synchronous=OFF")  # type: ignore[union-attr]
    finally:
        connection.close()


def import_into_new_database(location: StoreLocation, migrate: Callable[[Engine], None]) -> None:
    """Create an embedded store's dist.db from its db.json: build the schema (`migrate`) and import into a
    temporary file, and link it into place only when complete. Nothing is left behind when the import fails."""
    location.tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=location.tmp_dir, prefix="import-", suffix=".db")
    os.close(fd)
    temp = Path(name)
    try:
        # One connection, private to this process, for the schema and the records.
        engine = make_engine(sqlite_url(name), poolclass=StaticPool)
        try:
            _build_unjournaled(engine)
            migrate(engine)
            with engine.execution_options(**{WRITE_OPTION: True}).begin() as connection:
                if not _import_or_finish(location, connection):
                    return
        finally:
            engine.dispose()
        fsync_path(temp)
        try:
            os.link(temp, location.db_path)
        except FileExistsError:
            # Another process created dist.db meanwhile; opening the store settles which records it holds.
            return
        fsync_path(location.root)
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                Path(name + suffix).unlink()
    mark_imported(location)
