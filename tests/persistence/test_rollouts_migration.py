"""Migration 0005_rollouts through the real `alembic` command on a filled store: down to the revision before it,
where the rollouts and the audit events that revision cannot read (`rollout_changed`, with their webhook
deliveries) go and nothing else does; then up again from that filled store, every row kept, rollouts working."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from dist.persistence.store import StoreLocation, alembic_config, open_store
from dist.services import channels, releases, rollouts, webhooks
from dist.services.releases import ArtifactSpec
from tests.persistence.test_schema import Target
from tests.persistence.test_schema import target as target  # the fixture, on every engine

REVISION = "0005_rollouts"
KEPT = ["apps", "releases", "artifacts", "channels", "channel_events", "tokens"]


def rows(database: Target) -> dict[str, list[object]]:
    engine = database.engine()
    try:
        with engine.connect() as connection:
            found = {t: list(connection.execute(text(f"SELECT * FROM {t} ORDER BY id")).all()) for t in KEPT}
            found["actions"] = list(connection.execute(text("SELECT action FROM audit_events ORDER BY id")).scalars())
            found["tables"] = sorted(inspect(connection).get_table_names())
            return found
    finally:
        engine.dispose()


def fill(location: StoreLocation) -> None:
    store = open_store(location)
    try:
        sha = store.objects.put_stream([b"bytes"]).sha256
        webhooks.create_webhook(store.uow(), url="https://hooks.example/dist", actor="t")
        for version in ("1.0.0", "1.1.0", "1.2.0"):
            releases.publish(
                store.uow(), app="demo", version=version, artifacts=[ArtifactSpec("a.bin", sha)], actor="t"
            )
            channels.promote(store.uow(), app="demo", channel="stable", version=version, actor="t")
        channels.rollback(store.uow(), app="demo", channel="stable", actor="t")
        channels.promote(store.uow(), app="demo", channel="stable", version="1.2.0", rollout_percent=10, actor="t")
        rollouts.change(store.uow(), app="demo", channel="stable", action="halt", actor="t")
    finally:
        store.close()


def test_rollouts_downgrade_and_upgrade_a_filled_store(
    target: Target,
    tmp_path: Path,
) -> None:
    previous = ScriptDirectory.from_config(alembic_config()).get_revision(REVISION).down_revision
    assert previous == "0004_idempotency"
    location = StoreLocation(tmp_path / "store", None if target.url.startswith("sqlite") else target.url)
    assert target.alembic("upgrade", "head").returncode == 0
    fill(location)
    filled = rows(target)
    assert filled["actions"][-2:] == ["channel_promoted", "rollout_changed"]

    downgraded = target.alembic("downgrade", previous)
    assert downgraded.returncode == 0, downgraded.stderr
    at_previous = rows(target)
    assert "rollouts" not in at_previous["tables"]
    assert at_previous["actions"] == [a for a in filled["actions"] if a != "rollout_changed"]
    assert {t: at_previous[t] for t in KEPT} == {t: filled[t] for t in KEPT}
    engine = target.engine()
    try:
        with engine.connect() as connection:
            deliveries = connection.execute(text("SELECT count(*) FROM webhook_deliveries")).scalar_one()
        # One per event the previous revision knows: the webhook, the app, 3 publishes and 5 channel moves.
        assert deliveries == len(at_previous["actions"]) == 10
    finally:
        engine.dispose()

    # The store as the previous revision holds it goes up again with every row, and rollouts work on it.
    upgraded = target.alembic("upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
    assert rows(target) == {**at_previous, "tables": filled["tables"]}
    store = open_store(location)
    try:
        assert rollouts.show(store.uow(), app="demo", channel="stable").rollout is None
        channels.rollback(store.uow(), app="demo", channel="stable", actor="t")
        staged = channels.promote(
            store.uow(), app="demo", channel="stable", version="1.2.0", rollout_percent=10, actor="t"
        )
        assert staged.rollout is not None and staged.rollout.base == "1.1.0"
        assert rollouts.change(store.uow(), app="demo", channel="stable", action="complete", actor="t").rollout
    finally:
        store.close()
    assert rows(target)["actions"][-1] == "rollout_changed"
