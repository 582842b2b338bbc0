"""`dist store verify | gc | import-legacy | export`, as an operator runs them."""

from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from dist.domain.counts import Tally
from dist.persistence.store import Store, StoreLocation
from dist.services import blobs, counts, releases
from dist.services.releases import ArtifactSpec
from tests.conftest import Clock
from tests.legacy.helpers import dist, read_document
from tests.legacy.stores import write_fixture

HOUR = 3600


def publish(store: Store, version: str, *payloads: bytes) -> list[str]:
    blobs = [store.objects.put_stream([p]) for p in payloads]
    specs = [ArtifactSpec(f"file-{n}.bin", b.sha256) for n, b in enumerate(blobs)]
    releases.publish(store.uow(), app="demo", version=version, artifacts=specs, actor="cli:test")
    return [b.sha256 for b in blobs]


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_verify_finds_a_flipped_byte_and_a_deleted_blob(store: Store, location: StoreLocation) -> None:
    flipped, deleted, intact = publish(store, "1.0.0", b"first payload", b"second payload", b"third payload")
    assert dist(location, "store", "verify", "--json").json()["ok"] is True
    path = store.objects.path(flipped)
    data = bytearray(path.read_bytes())
    data[3] ^= 0x01
    path.write_bytes(bytes(data))
    store.objects.path(deleted).unlink()

    result = dist(location, "store", "verify", "--json")

    assert result.code == 1
    problems = {(p["kind"], p.get("sha256")) for p in json.loads(result.out)["problems"]}
    assert problems == {("corrupt_blob", flipped), ("missing_blob", deleted)}
    text = dist(location, "store", "verify")
    assert text.code == 1 and flipped in text.out and deleted in text.out and intact not in text.out


def test_gc_removes_old_orphans_and_keeps_the_rest(store: Store, location: StoreLocation) -> None:
    (referenced,) = publish(store, "1.0.0", b"published bytes")
    old_orphan = store.objects.put_stream([b"an old upload nobody published"]).sha256
    fresh_orphan = store.objects.put_stream([b"an upload waiting to be published"]).sha256
    stale_tmp = store.objects.tmp_dir / "upload-stale"
    stale_tmp.write_bytes(b"left by a crash")
    fresh_tmp = store.objects.tmp_dir / "upload-inflight"
    fresh_tmp.write_bytes(b"in flight")
    for old in (store.objects.path(referenced), store.objects.path(old_orphan), stale_tmp):
        age(old, 2 * HOUR)

    dry = dist(location, "store", "gc", "--dry-run", "--json").json()
    assert store.objects.exists(old_orphan) and stale_tmp.exists()
    done = dist(location, "store", "gc", "--json").json()

    expected = [
        {"kind": "blob", "sha256": old_orphan, "size": len(b"an old upload nobody published")},
        {"kind": "tmp", "path": "tmp/upload-stale", "size": len(b"left by a crash")},
    ]
    assert dry == {"dry_run": True, "removed": expected, "bytes_freed": 45}
    assert done == {"dry_run": False, "removed": expected, "bytes_freed": 45}
    assert not store.objects.exists(old_orphan) and not stale_tmp.exists()
    assert store.objects.exists(referenced) and store.objects.exists(fresh_orphan) and fresh_tmp.exists()
    assert dist(location, "store", "verify", "--json").json()["ok"] is True


def test_import_legacy_into_an_empty_store_then_export(location: StoreLocation, tmp_path: Path) -> None:
    source = write_fixture("typical", tmp_path / "legacy")
    original = read_document(source / "db.json")

    imported = dist(location, "store", "import-legacy", str(source), "--json").json()

    assert imported["imported"]["releases"] == len(original["releases"])
    assert (source / "db.json").exists()
    for artifact in original["artifacts"]:
        sha256 = artifact["sha256"]
        assert (location.root / "objects" / sha256[:2] / sha256).read_bytes() == (
            source / "objects" / sha256[:2] / sha256
        ).read_bytes()
    assert dist(location, "store", "verify", "--json").json()["ok"] is True
    again = dist(location, "store", "import-legacy", str(source))
    assert again.code == 1 and again.err.startswith("error: legacy.target_not_empty: ")

    exported = dist(location, "store", "export", str(tmp_path / "backup"), "--json").json()
    assert exported["exported"]["artifacts"] == len(original["artifacts"])
    refused = dist(location, "store", "export", str(tmp_path / "backup"))
    assert refused.code == 1 and refused.err.startswith("error: export.target_not_empty: ")


def test_moving_a_store_between_databases_keeps_every_record(location: StoreLocation, tmp_path: Path) -> None:
    """Export from an embedded store, import into the store under test (PostgreSQL too), export again."""
    first = StoreLocation(write_fixture("typical", tmp_path / "first"))
    assert dist(first, "store", "export", str(tmp_path / "one")).code == 0

    assert dist(location, "store", "import-legacy", str(tmp_path / "one")).code == 0
    assert dist(location, "store", "export", str(tmp_path / "two")).code == 0

    assert (tmp_path / "two" / "db.json").read_bytes() == (tmp_path / "one" / "db.json").read_bytes()


def test_import_legacy_of_a_broken_store_writes_nothing(location: StoreLocation, tmp_path: Path) -> None:
    source = write_fixture("broken/bad-enum", tmp_path / "legacy")

    result = dist(location, "store", "import-legacy", str(source))

    assert result.code == 1 and "release 3" in result.err
    assert dist(location, "app", "list", "--json").json() == {"apps": []}
    assert not list((location.root / "objects").glob("*/*"))


def test_gc_judges_age_by_the_last_upload_and_removes_rows_with_files(
    store: Store, location: StoreLocation, clock: Clock
) -> None:
    again, once = b"bytes uploaded long ago, and again just now", b"bytes uploaded long ago, only once"
    clock.now = datetime.now(UTC) - timedelta(hours=2)
    blobs.upload(store.uow(), [again])
    old_sha = blobs.upload(store.uow(), [once])[0].sha256
    clock.now = datetime.now(UTC)
    blob, created = blobs.upload(store.uow(), [again])
    assert created is False
    # The file's own time says nothing any more: the row's does.
    age(store.objects.path(blob.sha256), 3 * HOUR)

    removed = dist(location, "store", "gc", "--json").json()["removed"]

    assert removed == [{"kind": "blob", "sha256": old_sha, "size": len(once)}]
    assert store.objects.exists(blob.sha256) and not store.objects.exists(old_sha)
    with store.uow().read() as uow:
        assert uow.blobs.get(old_sha) is None and uow.blobs.get(blob.sha256) is not None


def test_verify_reports_stray_files_and_gc_leaves_them(store: Store, location: StoreLocation) -> None:
    publish(store, "1.0.0", b"payload")
    stray = store.objects.objects_dir / "ab" / "notes.txt"
    stray.parent.mkdir(exist_ok=True)
    stray.write_text("not a blob")
    (store.objects.objects_dir / "cd" / ("cd" + "0" * 62)).mkdir(parents=True)
    age(stray, 2 * HOUR)

    result = dist(location, "store", "verify", "--json")
    assert dist(location, "store", "gc", "--json").json()["removed"] == []

    assert result.code == 1
    assert [p["kind"] for p in json.loads(result.out)["problems"]] == ["stray_file", "stray_file"]
    assert stray.exists()


def test_verify_checks_rows_against_files_and_gc_drops_rows_without_files(
    store: Store, location: StoreLocation, clock: Clock
) -> None:
    (published,) = publish(store, "1.0.0", b"published bytes")
    clock.now = datetime.now(UTC) - timedelta(hours=2)
    orphan = blobs.upload(store.uow(), [b"uploaded, never published, file lost"])[0].sha256
    store.objects.path(orphan).unlink()
    assert dist(location, "store", "verify", "--json").code == 1
    with store.engine.begin() as connection:
        connection.execute(
            text("UPDATE blobs SET sha512 = :bad, size = 3 WHERE sha256 = :sha"), {"bad": "0" * 128, "sha": published}
        )

    result = dist(location, "store", "verify", "--json")

    assert result.code == 1
    problems = sorted((p["kind"], p["sha256"], p.get("record")) for p in json.loads(result.out)["problems"])
    assert problems == [
        ("digest_mismatch", published, "blob row"),
        ("missing_blob", orphan, "blob row"),
        ("size_mismatch", published, "blob row"),
    ]
    assert dist(location, "store", "gc", "--json").json()["removed"] == []
    with store.uow().read() as uow:
        assert uow.blobs.get(orphan) is None
    with store.engine.begin() as connection:
        connection.execute(
            text("UPDATE blobs SET sha512 = :good, size = 15 WHERE sha256 = :sha"),
            {"good": hashlib.sha512(b"published bytes").hexdigest(), "sha": published},
        )
    assert dist(location, "store", "verify", "--json").json()["ok"] is True


def test_webhooks_and_their_secrets_survive_export_and_import(
    store: Store, location: StoreLocation, tmp_path: Path
) -> None:
    first = StoreLocation(write_fixture("typical", tmp_path / "first"))
    made = dist(first, "webhook", "create", "https://hooks.example/dist", "--event", "channel_promoted", "--json")
    every = dist(first, "webhook", "create", "https://hooks.example/all", "--app", "demo", "--json")
    assert made.code == 0 and every.code == 0, (made.err, every.err)
    assert dist(first, "webhook", "delete", str(made.json()["id"])).code == 0
    assert dist(first, "store", "export", str(tmp_path / "backup")).code == 0

    assert dist(location, "store", "import-legacy", str(tmp_path / "backup")).code == 0
    kept = dist(location, "webhook", "list", "--json").json()["webhooks"]
    assert kept == dist(first, "webhook", "list", "--json").json()["webhooks"]
    assert [w["url"] for w in kept] == ["https://hooks.example/all"]
    # The secret came along: the restored webhook signs as the one its receiver was configured for.
    assert every.json()["secret"] in (tmp_path / "backup" / "db.json").read_text()
    with store.engine.begin() as connection:
        secrets = connection.execute(text("SELECT secret FROM webhooks")).scalars().all()
    assert secrets == [every.json()["secret"]]


def test_gc_removes_an_orphan_that_was_downloaded(store: Store, location: StoreLocation, clock: Clock) -> None:
    """An upload fetched by its sha256 (counted) but never published still goes, counts and all."""
    clock.now = datetime.now(UTC) - timedelta(hours=2)
    orphan = blobs.upload(store.uow(), [b"fetched, never published"])[0].sha256
    tally = Tally()
    tally.download_blob(orphan, clock.now.date())
    counts.record(store.uow(), tally)
    with store.uow().read() as uow:
        assert uow.counts.blob_downloads(orphan) == 1
    age(store.objects.path(orphan), 3 * HOUR)

    removed = dist(location, "store", "gc", "--json").json()["removed"]

    assert removed == [{"kind": "blob", "sha256": orphan, "size": len(b"fetched, never published")}]
    with store.uow().read() as uow:
        assert uow.blobs.get(orphan) is None and uow.counts.blob_downloads(orphan) == 0
