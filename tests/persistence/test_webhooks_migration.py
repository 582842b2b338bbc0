"""Migration 0003_webhooks on a store full of data: down to the revision before it and up again through the
real `alembic` command, on SQLite and PostgreSQL; the data of the other tables is untouched both ways, and
webhooks work again after the upgrade."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from dist.persistence.store import StoreLocation, alembic_config
from tests.conftest import REPO_ROOT
from tests.reliability.conftest import run_dist

REVISION = "0003_webhooks"
KEPT = ["apps", "releases", "artifacts", "channels", "channel_events", "tokens", "audit_events"]


def alembic(location: StoreLocation, *command: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIST_")}
    args = ["-x", f"store={location.root}"]
    if location.database_url is not None:
        env["DIST_DATABASE_URL"], args = location.database_url, []
    done = subprocess.run(
        [sys.executable, "-m", "alembic", *args, *command], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def contents(location: StoreLocation) -> dict[str, object]:
    engine = location.engine()
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            rows = {t: connection.execute(text(f"SELECT * FROM {t} ORDER BY id")).all() for t in KEPT}
            return {"webhook tables": sorted(tables & {"webhooks", "webhook_deliveries"}), **rows}
    finally:
        engine.dispose()


def test_down_and_up_again_on_a_filled_store(location: StoreLocation, tmp_path: Path) -> None:
    previous = ScriptDirectory.from_config(alembic_config()).get_revision(REVISION).down_revision
    assert isinstance(previous, str)
    artifact = tmp_path / "app.bin"
    artifact.write_bytes(b"migrated")
    for command in (
        ["publish", "demo", "1.0.0", str(artifact), "--channel", "stable"],
        ["token", "create", "--name", "ci", "--scope", "publish"],
        ["webhook", "create", "https://hooks.example/dist"],
        ["publish", "demo", "1.1.0", str(artifact)],
        ["promote", "demo", "stable", "--version", "1.1.0"],
    ):
        done = run_dist(location, *command)
        assert done.returncode == 0, done.stderr
    filled = contents(location)
    assert filled["webhook tables"] == ["webhook_deliveries", "webhooks"]

    alembic(location, "downgrade", previous)
    # The webhook actions go with the tables: the previous version could not read an audit log holding them.
    kept = [row for row in filled["audit_events"] if not row.action.startswith("webhook_")]  # type: ignore[attr-defined]
    assert len(kept) == len(filled["audit_events"]) - 1  # type: ignore[arg-type]
    downgraded = {**filled, "audit_events": kept, "webhook tables": []}
    assert contents(location) == downgraded

    alembic(location, "upgrade", "head")
    assert contents(location) == {**downgraded, "webhook tables": filled["webhook tables"]}
    done = run_dist(location, "webhook", "create", "https://hooks.example/again", "--json")
    assert done.returncode == 0, done.stderr
    assert run_dist(location, "rollback", "demo", "stable").returncode == 0
    found = json.loads(run_dist(location, "webhook", "deliveries", "--json").stdout)["deliveries"]
    assert [d["action"] for d in found] == ["channel_rolled_back", "webhook_created"]

    alembic(location, "downgrade", previous)
    assert contents(location)["webhook tables"] == []
