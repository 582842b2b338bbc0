"""SQLite as dist opens it: WAL, busy_timeout, foreign keys, synchronous FULL, and writers that serialize."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from dist.persistence.store import Store, StoreLocation, open_store
from dist.services import apps, audit


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(StoreLocation(tmp_path / "store"))
    try:
        yield store
    finally:
        store.close()


def test_connections_are_tuned(sqlite_store: Store) -> None:
    with sqlite_store.engine.connect() as connection:
        pragmas = {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar() for name in
                   ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")}  # fmt: skip
    assert pragmas == {"journal_mode": "wal", "busy_timeout": 5000, "foreign_keys": 1, "synchronous": 2}


def test_foreign_keys_are_enforced(sqlite_store: Store) -> None:
    with pytest.raises(IntegrityError), sqlite_store.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO artifacts (release_id, filename, platform, sha256, size, content_type) "
                "VALUES (42, 'a', 'any', :sha, 1, 'application/octet-stream')"
            ),
            {"sha": "0" * 64},
        )


def test_a_write_transaction_holds_the_lock_from_its_start_so_writers_serialize(sqlite_store: Store) -> None:
    first = sqlite_store.uow()
    second_done = threading.Event()
    errors: list[BaseException] = []

    def second_writer() -> None:
        try:
            # Reads first, then writes: without the lock taken up front this would fail with "database is locked".
            apps.create_app(sqlite_store.uow(), slug="second", actor="cli:two")
        except BaseException as error:
            errors.append(error)
        finally:
            second_done.set()

    with first.write():
        assert first.apps.get("first") is None
        thread = threading.Thread(target=second_writer)
        thread.start()
        # The second writer waits for the lock this transaction took when it began.
        assert not second_done.wait(0.5)
        apps.find_or_create(first, slug="first", name=None, actor="cli:one")
        first.commit()
    thread.join(10)
    assert errors == []
    assert [a.slug for a in apps.list_apps(sqlite_store.uow())] == ["first", "second"]
    assert [e.actor for e in audit.list_events(sqlite_store.uow())] == ["cli:one", "cli:two"]


def test_a_read_does_not_block_a_writer(sqlite_store: Store) -> None:
    reader = sqlite_store.uow()
    with reader.read():
        assert reader.apps.all() == []
        apps.create_app(sqlite_store.uow(), slug="demo", actor="cli:one")
        # The reader keeps its snapshot (WAL).
        assert reader.apps.all() == []
    assert [a.slug for a in apps.list_apps(sqlite_store.uow())] == ["demo"]
