"""Acceptance: distd and `dist` with their blobs in a bucket of a real S3 server and nothing in the store's
directory: uploads, publishes, downloads (proxied with ETag/Range/304, or redirected to a presigned URL), and a
clear refusal when the bucket cannot be used."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from dist.persistence.store import StoreLocation
from tests.objects.seaweed import S3Server
from tests.objects.test_s3_objects import keys
from tests.support import BIN, Server, start, stop, store_args


@pytest.fixture
def on_bucket(location: StoreLocation, objects_url: str) -> StoreLocation:
    return replace(location, objects_url=objects_url)


@pytest.fixture
def server(on_bucket: StoreLocation, tmp_path: Path) -> Iterator[Server]:
    log = tmp_path / "distd.log"
    process, port = start(on_bucket, log)
    try:
        yield Server(f"http://127.0.0.1:{port}", port, on_bucket, log)
    finally:
        stop(process)


def upload(http: httpx.Client, auth: dict[str, str], data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    answer = http.post("/api/upload", content=data, headers={**auth, "X-Content-SHA256": digest})
    assert (answer.status_code, answer.json()) == (201, {"sha256": digest, "size": len(data)}), answer.text
    return digest


def publish(http: httpx.Client, auth: dict[str, str], version: str, filename: str, digest: str) -> None:
    release = {
        "version": version,
        "channel": "stable",
        "artifacts": [{"filename": filename, "sha256": digest, "platform": "linux-x86_64"}],
    }
    answer = http.post("/api/apps/demo/releases", json=release, headers=auth)
    assert answer.status_code == 201, answer.text


def test_upload_publish_and_download_through_the_bucket(
    server: Server, s3_server: S3Server, bucket: str, tmp_path: Path
) -> None:
    auth = {"Authorization": f"Bearer {server.token('--scope', 'publish')}"}
    data = os.urandom(20 * 1024 * 1024 + 7)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        digest = upload(http, auth, data)
        publish(http, auth, "1.0.0", "demo.tar.gz", digest)
        whole = http.get(f"/api/objects/{digest}")
        assert (whole.status_code, whole.headers["etag"], whole.content == data) == (200, f'"{digest}"', True)
        ranged = http.get(f"/api/objects/{digest}", headers={"Range": "bytes=10-19"})
        assert (ranged.status_code, ranged.content) == (206, data[10:20])
        assert ranged.headers["content-range"] == f"bytes 10-19/{len(data)}"
        fresh = http.get(f"/api/objects/{digest}", headers={"If-None-Match": f'"{digest}"'})
        assert fresh.status_code == 304
        named = http.get("/api/apps/demo/releases/1.0.0/artifacts/demo.tar.gz")
        assert (named.status_code, hashlib.sha256(named.content).hexdigest()) == (200, digest)
        beyond = http.get(f"/api/objects/{digest}", headers={"Range": f"bytes={len(data)}-"})
        assert beyond.status_code == 416
        assert http.get(f"/api/objects/{'0' * 64}").status_code == 404
    assert keys(s3_server, bucket) == [f"blobs/{digest[:2]}/{digest}"]
    assert not list((server.location.root / "objects").rglob("*"))
    verified = server.dist("store", "verify", "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["checked"]["blobs"] == 1


def test_downloads_redirect_to_a_presigned_url(on_bucket: StoreLocation, tmp_path: Path) -> None:
    process, port = start(on_bucket, tmp_path / "distd.log", "--objects-redirect")
    try:
        server = Server(f"http://127.0.0.1:{port}", port, on_bucket, tmp_path / "distd.log")
        auth = {"Authorization": f"Bearer {server.token('--scope', 'publish')}"}
        with httpx.Client(base_url=server.url, timeout=60) as http:
            digest = upload(http, auth, b"sent by the bucket")
            answer = http.get(f"/api/objects/{digest}")
            assert answer.status_code == 302
            location = answer.headers["location"]
            assert "X-Amz-Signature=" in location and "X-Amz-Expires=300" in location
            assert httpx.get(location).content == b"sent by the bucket"
            assert http.get(f"/api/objects/{digest}", headers={"If-None-Match": f'"{digest}"'}).status_code == 304
    finally:
        stop(process)


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        ("bucket", "does not exist"),
        ("secret", "refused the credentials"),
        ("endpoint", "cannot be reached"),
    ],
)
def test_distd_and_dist_refuse_a_bucket_they_cannot_use(
    on_bucket: StoreLocation, monkeypatch: pytest.MonkeyPatch, fault: str, says: str
) -> None:
    location = on_bucket
    if fault == "bucket":
        location = replace(on_bucket, objects_url="s3://no-such-bucket-here/blobs")
    elif fault == "secret":
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
    else:
        monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    distd = subprocess.run(
        [str(BIN / "distd"), *store_args(location), "--port", "9"], capture_output=True, text=True, timeout=60
    )
    assert distd.returncode != 0 and says in distd.stderr, distd.stdout + distd.stderr
    verify = subprocess.run(
        [str(BIN / "dist"), *store_args(location), "store", "verify"], capture_output=True, text=True, timeout=60
    )
    assert verify.returncode == 1 and says in verify.stderr, verify.stdout + verify.stderr
