"""The schema Alembic builds, through the real `alembic` command, on an empty store and an empty PostgreSQL
database: the same tables, columns, named constraints and indexes; no drift; a downgrade that empties it; and
the idempotency keys' migration over a store filled before it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, ForeignKeyConstraint, UniqueConstraint, inspect, text

from dist.domain.entities import KeptAnswer
from dist.persistence.db import make_engine, sqlite_url
from dist.persistence.models import Base
from dist.persistence.store import StoreLocation, open_store
from dist.services import releases
from dist.services.idempotency import request_key
from dist.services.releases import ArtifactSpec
from tests.conftest import REPO_ROOT, create_pg_database, drop_pg_database

UNIQUES = {
    "uq_apps_slug": ("apps", ("slug",)),
    "uq_blobs_sha256": ("blobs", ("sha256",)),
    "uq_channels_app_id_name": ("channels", ("app_id", "name")),
    "uq_tokens_token_hash": ("tokens", ("token_hash",)),
    "uq_releases_app_id_version": ("releases", ("app_id", "version")),
    "uq_artifacts_release_id_filename": ("artifacts", ("release_id", "filename")),
    "uq_webhook_deliveries_message_id": ("webhook_deliveries", ("message_id",)),
    "uq_rollouts_channel_id": ("rollouts", ("channel_id",)),
    "uq_artifact_downloads_artifact_id_day": ("artifact_downloads", ("artifact_id", "day")),
    "uq_blob_downloads_sha256_day": ("blob_downloads", ("sha256", "day")),
    "uq_update_checks_app_id_channel_version_day": ("update_checks", ("app_id", "channel", "version", "day")),
}
INDEXES = {
    "ix_releases_app_id": ("releases", ("app_id",), False),
    "ix_artifacts_sha256": ("artifacts", ("sha256",), False),
    "ix_channel_events_channel_id": ("channel_events", ("channel_id",), False),
    "ix_audit_events_at": ("audit_events", ("at",), False),
    "ix_audit_events_app": ("audit_events", ("app",), False),
    "ix_webhook_deliveries_webhook_id": ("webhook_deliveries", ("webhook_id",), False),
    "ix_webhook_deliveries_due": ("webhook_deliveries", ("state", "next_attempt_at"), False),
}
# The revision before the idempotency keys.
BEFORE_KEYS = "0003_webhooks"
TABLES = {
    "apps",
    "blobs",
    "channels",
    "channel_events",
    "releases",
    "artifacts",
    "tokens",
    "audit_events",
    "idempotency_keys",
    "webhooks",
    "webhook_deliveries",
    "rollouts",
    "artifact_downloads",
    "blob_downloads",
    "update_checks",
}


class Target:
    """An empty database and the way to point the `alembic` command at it."""

    def __init__(self, url: str, args: list[str], env: dict[str, str]):
        self.url, self.args, self.env = url, args, env

    def alembic(self, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "alembic", *self.args, *command],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def engine(self) -> Engine:
        return make_engine(self.url)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DIST_STORE", "DIST_DATABASE_URL")}
    return env | extra


@pytest.fixture
def target(engine_name: str, tmp_path: Path) -> Iterator[Target]:
    if engine_name == "sqlite":
        store = tmp_path / "store"
        yield Target(sqlite_url(str(store / "dist.db")), ["-x", f"store={store}"], _env())
        return
    url = create_pg_database()
    try:
        yield Target(url, [], _env(DIST_DATABASE_URL=url))
    finally:
        drop_pg_database(url)


def describe(engine: Engine) -> dict[str, Any]:
    """The shape of a database: tables, columns and nullability, named uniques, indexes and foreign keys."""
    inspector = inspect(engine)
    tables = sorted(t for t in inspector.get_table_names() if t != "alembic_version")
    shape: dict[str, Any] = {"tables": tables, "columns": {}, "uniques": {}, "indexes": {}, "foreign_keys": {}}
    for table in tables:
        shape["columns"][table] = [(c["name"], c["nullable"]) for c in inspector.get_columns(table)]
        for unique in inspector.get_unique_constraints(table):
            shape["uniques"][unique["name"]] = (table, tuple(unique["column_names"]))
        for index in inspector.get_indexes(table):
            if "duplicates_constraint" not in index:
                shape["indexes"][index["name"]] = (table, tuple(index["column_names"]), bool(index["unique"]))
        for key in inspector.get_foreign_keys(table):
            shape["foreign_keys"][key["name"]] = (table, tuple(key["constrained_columns"]), key["referred_table"])
    return shape


def model_shape() -> dict[str, Any]:
    """The same description, read from the SQLAlchemy models."""
    tables = sorted(Base.metadata.tables)
    shape: dict[str, Any] = {"tables": tables, "columns": {}, "uniques": {}, "indexes": {}, "foreign_keys": {}}
    for name in tables:
        table = Base.metadata.tables[name]
        shape["columns"][name] = [(c.name, c.nullable) for c in table.columns]
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint):
                shape["uniques"][constraint.name] = (name, tuple(c.name for c in constraint.columns))
            elif isinstance(constraint, ForeignKeyConstraint):
                columns = tuple(c.name for c in constraint.columns)
                shape["foreign_keys"][constraint.name] = (name, columns, constraint.referred_table.name)
        for index in table.indexes:
            shape["indexes"][index.name] = (name, tuple(c.name for c in index.columns), bool(index.unique))
    return shape


def test_upgrade_check_and_downgrade_with_the_alembic_command(target: Target) -> None:
    upgraded = target.alembic("upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
    engine = target.engine()
    try:
        shape = describe(engine)
        assert set(shape["tables"]) == TABLES
        assert {k: v for k, v in shape["uniques"].items() if k in UNIQUES} == UNIQUES
        assert {k: v for k, v in shape["indexes"].items() if k in INDEXES} == INDEXES
        # The migration creates exactly what the models declare, names included; so SQLite and PostgreSQL,
        # each compared with the models, get the same schema.
        assert shape == model_shape()

        checked = target.alembic("check")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "No new upgrade operations detected" in checked.stdout + checked.stderr

        downgraded = target.alembic("downgrade", "base")
        assert downgraded.returncode == 0, downgraded.stderr
        assert inspect(engine).get_table_names() in ([], ["alembic_version"])

        again = target.alembic("upgrade", "head")
        assert again.returncode == 0, again.stderr
        assert describe(engine) == shape
    finally:
        engine.dispose()


def test_idempotency_keys_upgrade_a_filled_store_and_downgrade_again(target: Target, tmp_path: Path) -> None:
    """The store a server at BEFORE_KEYS filled keeps its releases through the upgrade that adds the idempotency keys,
    serves keyed publishes after it, and keeps its releases through the downgrade."""
    location = StoreLocation(tmp_path / "store", None if target.url.startswith("sqlite") else target.url)
    assert target.alembic("upgrade", BEFORE_KEYS).returncode == 0
    # What a server at BEFORE_KEYS writes on a publish is what this code writes on one without a key: fill the store
    # through the services, with the schema recorded as head for the while (the server refuses any other).
    assert target.alembic("stamp", "head").returncode == 0
    store = open_store(location)
    try:
        sha = store.objects.put_stream([b"bytes"]).sha256
        releases.publish(store.uow(), app="demo", version="1.0.0", artifacts=[ArtifactSpec("a.bin", sha)], actor="t")
    finally:
        store.close()
    assert target.alembic("stamp", BEFORE_KEYS).returncode == 0

    upgraded = target.alembic("upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
    store = open_store(location)
    try:
        key = request_key(actor="t", key="k", method="POST", path="/p", body=b"1.1.0")
        answer = KeptAnswer(201, b"kept")
        kept = releases.publish_once(
            store.uow(),
            key=key,
            respond=lambda _: answer,
            app="demo",
            version="1.1.0",
            artifacts=[ArtifactSpec("a.bin", sha)],
            actor="t",
        )
        assert kept == answer
        assert [r.version for r in releases.list_releases(store.uow(), "demo")[0]] == ["1.1.0", "1.0.0"]
    finally:
        store.close()

    downgraded = target.alembic("downgrade", BEFORE_KEYS)
    assert downgraded.returncode == 0, downgraded.stderr
    engine = target.engine()
    try:
        assert "idempotency_keys" not in inspect(engine).get_table_names()
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version FROM releases ORDER BY id")).scalars().all()
        assert versions == ["1.0.0", "1.1.0"]
    finally:
        engine.dispose()
