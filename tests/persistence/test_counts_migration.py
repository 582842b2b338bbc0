"""Migration 0006_counts on a filled store: down to the revision before it and up again through the real
`alembic` command, on SQLite and PostgreSQL; the other tables keep their rows both ways, and counting works
again after the upgrade."""

from __future__ import annotations

import json
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from dist.domain.counts import Tally
from dist.persistence.store import StoreLocation, alembic_config, open_store
from dist.services import counts, releases
from tests.persistence.test_webhooks_migration import alembic
from tests.reliability.conftest import run_dist

REVISION = "0006_counts"
KEPT = ["apps", "releases", "artifacts", "blobs", "channels", "channel_events", "tokens", "audit_events"]
COUNT_TABLES = ["artifact_downloads", "blob_downloads", "update_checks"]


def contents(location: StoreLocation) -> dict[str, object]:
    engine = location.engine()
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            rows = {t: connection.execute(text(f"SELECT * FROM {t} ORDER BY id")).all() for t in KEPT}
            return {"count tables": sorted(tables & set(COUNT_TABLES)), **rows}
    finally:
        engine.dispose()


def count_some(location: StoreLocation) -> None:
    store = open_store(location)
    try:
        release = releases.get_release(store.uow(), "demo", "1.0.0")
        tally = Tally()
        day = store.clock().date()
        assert release.artifacts[0].id is not None
        tally.download_artifact(release.artifacts[0].id, day)
        tally.download_blob(release.artifacts[0].sha256, day)
        tally.check("demo", "stable", "1.0.0", day)
        counts.record(store.uow(), tally)
    finally:
        store.close()


def test_down_and_up_again_on_a_filled_store(location: StoreLocation, tmp_path: Path) -> None:
    previous = ScriptDirectory.from_config(alembic_config()).get_revision(REVISION).down_revision
    assert isinstance(previous, str)
    artifact = tmp_path / "app.bin"
    artifact.write_bytes(b"counted")
    for command in (
        ["publish", "demo", "1.0.0", str(artifact), "--channel", "stable"],
        ["token", "create", "--name", "ci", "--scope", "publish"],
        ["token", "create", "--name", "prometheus", "--scope", "metrics", "--scope", "publish"],
        ["publish", "demo", "1.1.0", str(artifact)],
    ):
        done = run_dist(location, *command)
        assert done.returncode == 0, done.stderr
    count_some(location)
    filled = contents(location)
    assert filled["count tables"] == COUNT_TABLES

    alembic(location, "downgrade", previous)
    downgraded = contents(location)
    # The previous version knows no metrics scope: the token keeps its other scopes.
    assert [json.loads(row.scopes) if isinstance(row.scopes, str) else row.scopes for row in downgraded["tokens"]] == [
        ["publish"],
        ["publish"],
    ]
    assert {k: v for k, v in downgraded.items() if k != "tokens"} == {
        **{k: v for k, v in filled.items() if k != "tokens"},
        "count tables": [],
    }

    alembic(location, "upgrade", "head")
    assert {k: v for k, v in contents(location).items() if k != "tokens"} == {
        k: v for k, v in filled.items() if k != "tokens"
    }
    count_some(location)
    count_some(location)
    done = run_dist(location, "stats", "demo", "--json")
    assert done.returncode == 0, done.stderr
    assert '"downloads": 2' in done.stdout and '"checks": 2' in done.stdout
    done = run_dist(location, "release", "show", "demo", "1.0.0", "--json")
    assert '"downloads": 2' in done.stdout
