"""Shared fixtures: a store on every engine under test, a controllable clock, and database helpers.

Every test that takes `location` or `store` runs on SQLite, and again on PostgreSQL when
DIST_TEST_DATABASE_URL is set (each PostgreSQL test gets a fresh database of its own).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dist.persistence.store import Store, StoreLocation, open_store
from dist.persistence.uow import UnitOfWork

PG_URL = os.environ.get("DIST_TEST_DATABASE_URL") or None
ENGINES = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
REPO_ROOT = Path(__file__).resolve().parents[1]


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None):
        self.now = start or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def _admin_url() -> str:
    assert PG_URL is not None
    return make_url(PG_URL).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def create_pg_database() -> str:
    """A new, empty PostgreSQL database; returns its URL. Dropped by `drop_pg_database`."""
    name = f"dist_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(_admin_url()).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    name = make_url(url).database
    engine = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--stress",
        action="store_true",
        default=False,
        help="run tests/reliability at its stress size (or DIST_STRESS=1)",
    )


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(engine_name: str) -> Iterator[str | None]:
    """None for the embedded SQLite store; otherwise the URL of a fresh, empty PostgreSQL database."""
    if engine_name == "sqlite":
        yield None
        return
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture
def location(tmp_path: Path, database_url: str | None) -> StoreLocation:
    """Where the store under test lives. On PostgreSQL the schema is created as an operator would."""
    location = StoreLocation(tmp_path / "store", database_url)
    if database_url is not None:
        from dist.persistence.store import upgrade_to_head

        engine = location.engine()
        upgrade_to_head(engine)
        engine.dispose()
    return location


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(location: StoreLocation, clock: Clock) -> Iterator[Store]:
    opened = open_store(location, clock=clock)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def uow(store: Store) -> UnitOfWork:
    return store.uow()
