"""verify, gc, export, import-legacy and copy-objects with the blobs in a bucket of a real S3 server."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import obstore
import pytest

from dist.persistence.objects import open_objects
from dist.persistence.s3_objects import PART_SIZE, S3Objects
from dist.persistence.store import Store, StoreLocation, open_store
from dist.services import blobs, releases
from dist.services import store as maintenance
from dist.services.releases import ArtifactSpec
from tests.conftest import Clock
from tests.objects.seaweed import S3Server
from tests.objects.test_s3_objects import keys, unfinished
from tests.support import BIN, Server, start, stop, store_args


@pytest.fixture
def on_bucket(location: StoreLocation, objects_url: str) -> StoreLocation:
    return replace(location, objects_url=objects_url)


@pytest.fixture
def bucket_store(on_bucket: StoreLocation, clock: Clock) -> Iterator[Store]:
    opened = open_store(on_bucket, clock=clock)
    try:
        yield opened
    finally:
        opened.close()


def publish(store: Store, version: str, data: bytes) -> str:
    blob, _ = blobs.upload(store.uow(), [data])
    spec = ArtifactSpec(f"demo-{version}.bin", blob.sha256, "any")
    releases.publish(store.uow(), app="demo", version=version, artifacts=[spec], actor="cli:test")
    return blob.sha256


def dist(location: StoreLocation, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "dist"), *store_args(location), *args], capture_output=True, text=True, timeout=120
    )


def test_verify_finds_damage_in_the_bucket(bucket_store: Store) -> None:
    objects = bucket_store.objects
    assert isinstance(objects, S3Objects)
    kept = publish(bucket_store, "1.0.0", b"kept bytes")
    gone = publish(bucket_store, "1.1.0", b"lost bytes")
    damaged = hashlib.sha256(b"the bytes it should hold").hexdigest()
    obstore.put(objects.client, f"{damaged[:2]}/{damaged}", b"other bytes")
    obstore.put(objects.client, "zz/not-a-blob", b"stray")
    obstore.delete(objects.client, f"{gone[:2]}/{gone}")
    report = maintenance.verify(bucket_store.uow())
    found = sorted((p.kind, p.sha256 or "") for p in report.problems)
    assert found == sorted([("corrupt_blob", damaged), ("missing_blob", gone), ("stray_file", "")]), report.problems
    # Both readable blobs were hashed: the one that is whole and the damaged one.
    assert report.checked["blobs"] == 2 and kept != gone


def test_gc_sweeps_the_bucket(bucket_store: Store, clock: Clock, s3_server: S3Server, bucket: str) -> None:
    objects = bucket_store.objects
    assert isinstance(objects, S3Objects)
    used = publish(bucket_store, "1.0.0", b"published")
    unused, _ = blobs.upload(bucket_store.uow(), [b"never published"])
    obstore.put(objects.client, "tmp/upload-left-by-a-crash", b"half")
    writer = obstore.open_writer(objects.client, "tmp/upload-killed", buffer_size=PART_SIZE)
    writer.write(b"x" * (PART_SIZE + 1))
    writer.write(b"y" * (PART_SIZE + 1))
    assert unfinished(s3_server, bucket) == ["blobs/tmp/upload-killed"]
    time.sleep(1.5)
    clock.advance(hours=2)
    report = maintenance.gc(bucket_store.uow(), grace_seconds=1)
    removed = sorted((r.kind, r.name) for r in report.removed)
    assert removed == sorted(
        [
            ("blob", unused.sha256),
            ("tmp", "tmp/upload-left-by-a-crash"),
            ("tmp", "multipart upload of blobs/tmp/upload-killed"),
        ]
    )
    assert keys(s3_server, bucket) == [f"blobs/{used[:2]}/{used}"]
    assert unfinished(s3_server, bucket) == []
    assert maintenance.verify(bucket_store.uow()).ok


def test_export_from_and_import_into_a_bucket(
    bucket_store: Store, tmp_path: Path, s3_server: S3Server, location: StoreLocation, database_url: str | None
) -> None:
    sha = publish(bucket_store, "1.0.0", b"exported bytes")
    exported = dist(bucket_store.location, "store", "export", str(tmp_path / "legacy"))
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "legacy" / "objects" / sha[:2] / sha).read_bytes() == b"exported bytes"
    other = s3_server.create_bucket()
    target = StoreLocation(tmp_path / "second", None, f"s3://{other}")
    imported = dist(target, "store", "import-legacy", str(tmp_path / "legacy"))
    assert imported.returncode == 0, imported.stderr
    assert keys(s3_server, other) == [f"{sha[:2]}/{sha}"]
    assert not list((tmp_path / "second" / "objects").rglob("*"))
    assert dist(target, "store", "verify").returncode == 0


@pytest.fixture
def directory_store(location: StoreLocation, clock: Clock) -> Iterator[Store]:
    opened = open_store(location, clock=clock)
    try:
        yield opened
    finally:
        opened.close()


def test_copy_objects_into_a_bucket_resumes_and_is_served(
    directory_store: Store, objects_url: str, s3_server: S3Server, bucket: str, tmp_path: Path
) -> None:
    location = directory_store.location
    shas = [publish(directory_store, f"1.{n}.0", f"release {n}".encode() * 1000) for n in range(3)]
    # A copy cut short: one blob is in the bucket already.
    first = open_objects(objects_url, location.root)
    first.put_stream(directory_store.objects.chunks(shas[0]), expected_sha256=shas[0])
    copied = dist(location, "store", "copy-objects", "--to", objects_url, "--json")
    assert copied.returncode == 0, copied.stderr
    assert json.loads(copied.stdout) == {
        "to": objects_url,
        "copied": 2,
        "bytes_copied": sum(len(f"release {n}".encode() * 1000) for n in (1, 2)),
        "already_there": 1,
    }
    again = dist(location, "store", "copy-objects", "--to", objects_url, "--json")
    assert (json.loads(again.stdout)["copied"], json.loads(again.stdout)["already_there"]) == (0, 3)
    assert keys(s3_server, bucket) == sorted(f"blobs/{s[:2]}/{s}" for s in shas)

    # Served from the bucket alone: the directory's blobs are gone.
    shutil.rmtree(location.root / "objects")
    on_bucket = replace(location, objects_url=objects_url)
    log = tmp_path / "distd.log"
    process, port = start(on_bucket, log)
    try:
        server = Server(f"http://127.0.0.1:{port}", port, on_bucket, log)
        for n in range(len(shas)):
            answer = httpx.get(f"{server.url}/api/apps/demo/releases/1.{n}.0/artifacts/demo-1.{n}.0.bin")
            assert (answer.status_code, answer.content) == (200, f"release {n}".encode() * 1000)
        assert server.dist("store", "verify").returncode == 0

        # And back to a directory.
        back = dist(on_bucket, "store", "copy-objects", "--to", f"file://{tmp_path / 'back' / 'objects'}", "--json")
        assert json.loads(back.stdout)["copied"] == 3, back.stderr
        assert all((tmp_path / "back" / "objects" / s[:2] / s).is_file() for s in shas)
    finally:
        stop(process)


def test_copy_objects_refuses_a_damaged_blob(
    directory_store: Store, objects_url: str, s3_server: S3Server, bucket: str
) -> None:
    sha = publish(directory_store, "1.0.0", b"good bytes")
    path = directory_store.location.root / "objects" / sha[:2] / sha
    path.write_bytes(b"bad bytes!")
    copied = dist(directory_store.location, "store", "copy-objects", "--to", objects_url)
    assert copied.returncode == 1 and "damaged" in copied.stderr, copied.stderr
    assert keys(s3_server, bucket) == []
