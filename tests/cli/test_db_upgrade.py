"""`dist db upgrade` creates or upgrades a store's schema as `alembic upgrade head` does from the source tree,
and imports a legacy db.json that awaits it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dist.persistence.legacy.loader import document_counts
from dist.persistence.store import StoreLocation, head_revision
from tests.conftest import REPO_ROOT
from tests.legacy.helpers import ALEMBIC, database_counts_of, database_leftovers, dist, run
from tests.legacy.stores import write_fixture


def schema_of(db: Path) -> list[tuple[str, str]]:
    connection = sqlite3.connect(db)
    try:
        return sorted(connection.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL").fetchall())
    finally:
        connection.close()


def test_a_fresh_database_gets_the_schema_and_serves_commands(database_url: str | None, tmp_path: Path) -> None:
    location = StoreLocation(tmp_path / "store", database_url)
    if database_url is not None:
        refused = dist(location, "app", "list")
        assert refused.code == 1 and "error: store.schema_outdated: " in refused.err and "db upgrade" in refused.err

    upgraded = dist(location, "db", "upgrade", "--json").json()
    again = dist(location, "db", "upgrade")

    assert upgraded["before"] is None and upgraded["revision"] == head_revision()
    assert upgraded["imported_legacy"] is False
    assert again.code == 0 and again.out.endswith(f": schema already at {head_revision()}\n")
    assert dist(location, "app", "list", "--json").json() == {"apps": []}


def test_the_schema_is_the_one_alembic_builds_from_the_source_tree(tmp_path: Path) -> None:
    by_alembic = tmp_path / "alembic"
    result = run([str(ALEMBIC), "-x", f"store={by_alembic}", "upgrade", "head"], cwd=REPO_ROOT)
    assert result.code == 0, result.err

    upgraded = dist(StoreLocation(tmp_path / "dist"), "db", "upgrade")

    assert upgraded.code == 0, upgraded.err
    assert upgraded.out.endswith(f"schema upgraded from nothing to {head_revision()}\n")
    assert schema_of(tmp_path / "dist" / "dist.db") == schema_of(by_alembic / "dist.db")


def test_a_legacy_store_is_imported(database_url: str | None, tmp_path: Path) -> None:
    location = StoreLocation(write_fixture("typical", tmp_path / "store"), database_url)

    upgraded = dist(location, "db", "upgrade")

    assert upgraded.code == 0, upgraded.err
    assert upgraded.out.splitlines()[-1] == f"imported {location.legacy_path} (now db.json.imported)"
    assert not location.legacy_path.exists()
    assert database_counts_of(location) == document_counts(location.root / "db.json.imported")


def test_a_broken_legacy_store_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    location = StoreLocation(write_fixture("broken/dangling-release", tmp_path / "store"))

    refused = dist(location, "db", "upgrade")

    assert refused.code == 1 and refused.out == ""
    assert refused.err.startswith("error: legacy.invalid: channel 3: ")
    assert location.legacy_path.exists() and database_leftovers(location.root) == []
