"""`dist store verify | gc | import-legacy | export`, as an operator runs them."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from dist.persistence.store import Store, StoreLocation
from dist.services import releases
from dist.services.releases import ArtifactSpec
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


def test_gc_keeps_an_old_blob_uploaded_again(store: Store, location: StoreLocation) -> None:
    payload = b"bytes uploaded long ago, and again just now"
    sha256 = store.objects.put_stream([payload]).sha256
    age(store.objects.path(sha256), 2 * HOUR)

    assert store.objects.put_stream([payload]).created is False
    assert dist(location, "store", "gc").code == 0

    assert store.objects.exists(sha256)


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
