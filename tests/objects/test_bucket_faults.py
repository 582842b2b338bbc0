"""Faults with the blobs in a bucket: distd killed in the middle of uploads, and two distd on one PostgreSQL
database that share nothing but the bucket."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from dist.persistence.s3_objects import PART_SIZE
from dist.persistence.store import StoreLocation, open_store
from dist.services import store as maintenance
from tests.objects.seaweed import S3Server
from tests.objects.test_maintenance_on_bucket import dist
from tests.objects.test_s3_objects import keys, unfinished
from tests.support import Server, start, stop


@pytest.mark.parametrize("names_digest", [False, True], ids=["through-tmp", "x-content-sha256"])
def test_distd_killed_during_an_upload_leaves_no_blob_and_loses_none(
    location: StoreLocation, objects_url: str, s3_server: S3Server, bucket: str, tmp_path: Path, names_digest: bool
) -> None:
    on_bucket = replace(location, objects_url=objects_url)
    process, port = start(on_bucket, tmp_path / "distd.log")
    server = Server(f"http://127.0.0.1:{port}", port, on_bucket, tmp_path / "distd.log")
    secret = server.token("--scope", "publish")
    acknowledged: list[str] = []
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            for n in range(3):
                data = f"acknowledged {n}".encode() * 50000
                answer = http.post("/api/upload", content=data, headers={"Authorization": f"Bearer {secret}"})
                assert answer.status_code == 201
                acknowledged.append(answer.json()["sha256"])
            files = [{"filename": f"f{n}.bin", "sha256": sha, "platform": "any"} for n, sha in enumerate(acknowledged)]
            published = http.post(
                "/api/apps/demo/releases",
                json={"version": "1.0.0", "artifacts": files},
                headers={"Authorization": f"Bearer {secret}"},
            )
            assert published.status_code == 201, published.text
        # An upload far past one part, cut by the kill: three parts sent, the rest never.
        body = os.urandom(3 * PART_SIZE)
        # The digest of the whole body it promises (never sent): the upload goes straight to that address.
        promised = f"X-Content-SHA256: {hashlib.sha256(body * 3).hexdigest()}\r\n" if names_digest else ""
        head = (
            "POST /api/upload HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {secret}\r\n{promised}Content-Length: {9 * PART_SIZE}\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
            connection.sendall(head.encode() + body)
            deadline = time.monotonic() + 30
            while not unfinished(s3_server, bucket) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert unfinished(s3_server, bucket), "the upload never reached the bucket in parts"
            process.send_signal(signal.SIGKILL)
            process.wait()
    finally:
        if process.poll() is None:
            stop(process)
    blob_keys = [k for k in keys(s3_server, bucket) if "/tmp/" not in k]
    assert blob_keys == sorted(f"blobs/{s[:2]}/{s}" for s in acknowledged)
    verified = dist(on_bucket, "store", "verify", "--json")
    assert verified.returncode == 0, verified.stdout
    assert json.loads(verified.stdout)["checked"]["blobs"] == 3
    # The acknowledged uploads are served by a distd started again; what the killed one left (its multipart
    # upload) goes with gc once stale.
    process, port = start(on_bucket, tmp_path / "again.log")
    try:
        for sha in acknowledged:
            answer = httpx.get(f"http://127.0.0.1:{port}/api/objects/{sha}", timeout=30)
            assert hashlib.sha256(answer.content).hexdigest() == sha
    finally:
        stop(process)
    assert unfinished(s3_server, bucket)
    time.sleep(1.5)
    store = open_store(on_bucket)
    try:
        swept = maintenance.gc(store.uow(), grace_seconds=1)
    finally:
        store.close()
    assert [r.kind for r in swept.removed] == ["tmp"] and swept.removed[0].name.startswith("multipart upload of ")
    assert unfinished(s3_server, bucket) == []
    assert [k for k in keys(s3_server, bucket) if "/tmp/" not in k] == blob_keys


def test_two_distd_on_postgresql_share_only_the_bucket(
    location: StoreLocation, objects_url: str, tmp_path: Path, engine_name: str, s3_server: S3Server, bucket: str
) -> None:
    if engine_name != "postgresql":
        pytest.skip("two distd share one database on PostgreSQL only (DIST_TEST_DATABASE_URL)")
    # Two machines: each its own store directory, one database, one bucket.
    first = StoreLocation(tmp_path / "machine-a", location.database_url, objects_url)
    second = StoreLocation(tmp_path / "machine-b", location.database_url, objects_url)
    # Behind one proxy: both give the same public URL.
    a, port_a = start(first, tmp_path / "a.log", "--public-url", "https://dist.example.com")
    b, port_b = start(second, tmp_path / "b.log", "--public-url", "https://dist.example.com")
    try:
        servers = [
            Server(f"http://127.0.0.1:{port_a}", port_a, first, tmp_path / "a.log"),
            Server(f"http://127.0.0.1:{port_b}", port_b, second, tmp_path / "b.log"),
        ]
        auth = {"Authorization": f"Bearer {servers[0].token('--scope', 'publish')}"}

        def release(n: int) -> tuple[str, bytes]:
            uploader, publisher = servers[n % 2], servers[(n + 1) % 2]
            data = f"build {n} ".encode() * (20000 + n)
            with httpx.Client(timeout=60) as http:
                answer = http.post(f"{uploader.url}/api/upload", content=data, headers=auth)
                assert answer.status_code == 201, answer.text
                sha = answer.json()["sha256"]
                spec = {"filename": f"demo-1.{n}.0.AppImage", "sha256": sha, "platform": "linux-x86_64"}
                published = http.post(
                    f"{publisher.url}/api/apps/demo/releases",
                    json={"version": f"1.{n}.0", "channel": "stable", "artifacts": [spec]},
                    headers=auth,
                )
                assert published.status_code == 201, published.text
            return sha, data

        with ThreadPoolExecutor(4) as pool:
            made = list(pool.map(release, range(8)))
        for server in servers:
            for n, (_sha, data) in enumerate(made):
                url = f"{server.url}/api/apps/demo/releases/1.{n}.0/artifacts/demo-1.{n}.0.AppImage"
                answer = httpx.get(url, timeout=60)
                assert (answer.status_code, answer.content == data) == (200, True)
        feeds = [httpx.get(f"{s.url}/feeds/demo/electron/latest-linux.yml", timeout=30) for s in servers]
        assert [f.status_code for f in feeds] == [200, 200]
        current = httpx.get(f"{servers[0].url}/api/apps/demo/channels/stable", timeout=30).json()["release"]
        assert feeds[0].text == feeds[1].text
        assert f"https://dist.example.com/api/apps/demo/releases/{current}/artifacts/demo-{current}.AppImage" in (
            feeds[0].text
        )
        assert not any(
            (tmp_path / m / "objects").exists() and any((tmp_path / m / "objects").iterdir())
            for m in ("machine-a", "machine-b")
        )
        assert len([k for k in keys(s3_server, bucket) if "/tmp/" not in k]) == 8
        assert servers[1].dist("store", "verify").returncode == 0
    finally:
        stop(a)
        stop(b)
