"""A legacy store is imported by the first command that opens it, with every record as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from dist.domain.enums import ChannelEventKind
from dist.persistence.models import ChannelEventRow, ReleaseRow, TokenRow
from dist.persistence.store import StoreLocation, open_store
from dist.services import channels
from tests.legacy.helpers import database_leftovers, dist, dist_process, read_document, with_defaults
from tests.legacy.stores import GOOD, write_fixture


@pytest.mark.parametrize("fixture", GOOD)
def test_fixture_imports_on_first_load_and_exports_back(fixture: str, location: StoreLocation, tmp_path: Path) -> None:
    write_fixture(fixture, location.root)
    original = read_document(location.root / "db.json")

    listed = dist(location, "app", "list", "--json").json()

    assert sorted(a["slug"] for a in listed["apps"]) == sorted(a["slug"] for a in original["apps"])
    assert not (location.root / "db.json").exists()
    assert read_document(location.root / "db.json.imported") == original
    if location.embedded:
        assert database_leftovers(location.root) == ["dist.db"]
    exported = dist(location, "store", "export", str(tmp_path / "out"), "--json")
    assert exported.code == 0, exported.err
    assert read_document(tmp_path / "out" / "db.json") == with_defaults(original)
    blobs = {a["sha256"] for a in original.get("artifacts", [])}
    assert {p.name for p in (tmp_path / "out" / "objects").glob("*/*")} == blobs


def test_channel_histories_become_channel_events(location: StoreLocation) -> None:
    write_fixture("typical", location.root)
    original = read_document(location.root / "db.json")
    store = open_store(location)
    try:
        with store.uow().read() as uow:
            rows = uow.session.execute(select(ChannelEventRow).order_by(ChannelEventRow.id)).scalars().all()
            expected = [
                (c["id"], e["kind"], e["release_id"], e["actor"]) for c in original["channels"] for e in c["history"]
            ]
            assert sorted((r.channel_id, r.kind.value, r.release_id, r.actor) for r in rows) == sorted(expected)
        app = {a["id"]: a["slug"] for a in original["apps"]}
        versions = {r["id"]: r["version"] for r in original["releases"]}
        channel = original["channels"][0]
        history = channels.history(store.uow(), app[channel["app_id"]], channel["name"])
        assert [(e.kind, e.version) for e in history] == [
            (ChannelEventKind(e["kind"]), versions[e["release_id"]]) for e in channel["history"]
        ]
        served, _ = channels.get_channel(store.uow(), app[channel["app_id"]], channel["name"])
        assert served.release == versions[channel["release_id"]]
    finally:
        store.close()


def test_new_records_after_an_import_take_new_ids(location: StoreLocation, tmp_path: Path) -> None:
    write_fixture("typical", location.root)
    original = read_document(location.root / "db.json")
    payload = tmp_path / "payload.bin"
    payload.write_bytes(b"new bytes after the import")
    slug = original["apps"][0]["slug"]

    published = dist_process(location, "publish", slug, "99.0.0", str(payload), "--channel", "stable", "--json")
    token = dist_process(location, "token", "create", "--name", "after-import", "--scope", "publish", "--json")

    assert published.json()["version"] == "99.0.0"
    assert token.json()["id"] > max(t["id"] for t in original["tokens"])
    store = open_store(location)
    try:
        with store.uow().read() as uow:
            newest = uow.session.scalar(select(func.max(ReleaseRow.id)))
            assert newest is not None and newest > max(r["id"] for r in original["releases"])
            assert uow.session.scalar(select(func.count()).select_from(TokenRow)) == len(original["tokens"]) + 1
    finally:
        store.close()
