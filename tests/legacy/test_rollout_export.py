"""A store's rollouts travel through `store export` and `import-legacy` (the way to back up a store and to move
it to another engine): the imported channel rolls out exactly as the exported one did; a rollout that does not
fit its channel is refused by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dist.domain.errors import DistError
from dist.domain.render import render_channel
from dist.persistence.store import Store, StoreLocation, open_store
from dist.services import apps, channels, releases, rollouts
from dist.services import store as maintenance
from dist.services.releases import ArtifactSpec
from tests.conftest import Clock


def test_rollouts_survive_export_and_import(store: Store, clock: Clock, tmp_path: Path) -> None:
    sha = store.objects.put_stream([b"bytes"]).sha256
    for version in ("1.0.0", "2.0.0"):
        releases.publish(store.uow(), app="demo", version=version, artifacts=[ArtifactSpec("a.bin", sha)], actor="t")
    channels.promote(store.uow(), app="demo", channel="stable", version="1.0.0", actor="t")
    channels.promote(store.uow(), app="demo", channel="beta", version="1.0.0", actor="t")
    channels.promote(
        store.uow(), app="demo", channel="stable", version="2.0.0", ramp=[5, 50, 100], every="6h", actor="t"
    )
    clock.advance(hours=7)
    rollouts.change(store.uow(), app="demo", channel="stable", action="halt", actor="t")
    clock.advance(hours=2)
    rollouts.change(store.uow(), app="demo", channel="stable", action="resume", actor="t")
    channels.promote(store.uow(), app="demo", channel="beta", version="2.0.0", rollout_percent=30, actor="t")
    maintenance.export(store.uow(), tmp_path / "backup")

    moved = open_store(StoreLocation(tmp_path / "elsewhere"), clock=clock)
    try:
        maintenance.import_legacy(moved.uow(), tmp_path / "backup")
        for later in (0, 3, 12):
            at = clock.advance(hours=later)
            here = [render_channel(c, at) for c in channels.list_channels(store.uow(), "demo")]
            there = [render_channel(c, at) for c in channels.list_channels(moved.uow(), "demo")]
            assert there == here
        assert [c["rollout"]["state"] for c in here] == ["rolling", "complete"]
    finally:
        moved.close()


def test_a_rollout_of_another_release_is_refused(store: Store, tmp_path: Path) -> None:
    sha = store.objects.put_stream([b"bytes"]).sha256
    for version in ("1.0.0", "2.0.0"):
        releases.publish(store.uow(), app="demo", version=version, artifacts=[ArtifactSpec("a.bin", sha)], actor="t")
    channels.promote(store.uow(), app="demo", channel="stable", version="1.0.0", actor="t")
    channels.promote(store.uow(), app="demo", channel="stable", version="2.0.0", rollout_percent=10, actor="t")
    maintenance.export(store.uow(), tmp_path / "backup")
    document = json.loads((tmp_path / "backup" / "db.json").read_text())
    (channel,) = document["channels"]
    channel["rollout"]["release_id"] = channel["rollout"]["base_release_id"]
    (tmp_path / "backup" / "db.json").write_text(json.dumps(document))
    moved = open_store(StoreLocation(tmp_path / "elsewhere"))
    try:
        with pytest.raises(DistError) as refused:
            maintenance.import_legacy(moved.uow(), tmp_path / "backup")
        assert "rollout" in refused.value.message
        assert apps.list_apps(moved.uow()) == []
    finally:
        moved.close()
