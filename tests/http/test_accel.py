"""Downloads in large chunks and the X-Accel-Redirect mode, where nginx in front of distd sends the bytes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from dist.http.app import create_app
from dist.persistence.file_objects import SEND_CHUNK
from dist.persistence.store import Store
from tests.http.conftest import SMALL_UPLOAD_CAP, publish

PREFIX = "/_dist_objects/"


def stored(store: Store, data: bytes) -> str:
    writer = store.objects.writer(max_size=len(data))
    writer.write(data)
    return writer.commit().sha256


@pytest.fixture
def accel(store: Store) -> Iterator[TestClient]:
    app = create_app(store, max_upload=SMALL_UPLOAD_CAP, accel_redirect=PREFIX)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_a_large_blob_is_sent_whole_and_by_ranges(client: TestClient, store: Store) -> None:
    data = os.urandom(2 * SEND_CHUNK + 12345)
    digest = stored(store, data)
    whole = client.get(f"/api/objects/{digest}")
    assert (whole.status_code, whole.headers["content-length"], whole.content) == (200, str(len(data)), data)
    assert whole.headers["etag"] == f'"{digest}"' and "last-modified" in whole.headers
    first, last = SEND_CHUNK - 10, 2 * SEND_CHUNK + 9
    part = client.get(f"/api/objects/{digest}", headers={"Range": f"bytes={first}-{last}"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes {first}-{last}/{len(data)}"
    assert part.content == data[first : last + 1]
    tail = client.get(f"/api/objects/{digest}", headers={"Range": "bytes=-3"})
    assert (tail.status_code, tail.content) == (206, data[-3:])


def test_accel_redirect_names_the_file_for_nginx(accel: TestClient, store: Store) -> None:
    data = b"x" * 5000
    digest = stored(store, data)
    response = accel.get(f"/api/objects/{digest}")
    assert response.status_code == 200
    assert response.headers["x-accel-redirect"] == f"{PREFIX}{digest[:2]}/{digest}"
    assert response.headers["etag"] == f'"{digest}"'
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.content == b""
    assert hashlib.sha256(data).hexdigest() == digest
    # What needs no bytes is still answered by distd itself.
    unchanged = accel.get(f"/api/objects/{digest}", headers={"If-None-Match": f'"{digest}"'})
    assert unchanged.status_code == 304 and "x-accel-redirect" not in unchanged.headers
    missing = accel.get(f"/api/objects/{'0' * 64}")
    assert missing.status_code == 404 and "x-accel-redirect" not in missing.headers


def test_accel_redirect_keeps_an_artifacts_name_and_type(accel: TestClient, publisher: dict[str, str]) -> None:
    release = publish(accel, publisher, "1.0.0", {"notes.txt": (b"hello", "any")})
    digest = release["artifacts"][0]["sha256"]
    response = accel.get("/api/apps/demo/releases/1.0.0/artifacts/notes.txt")
    assert response.status_code == 200
    assert response.headers["x-accel-redirect"] == f"{PREFIX}{digest[:2]}/{digest}"
    assert response.headers["content-disposition"] == 'attachment; filename="notes.txt"'
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.content == b""


@pytest.mark.parametrize("prefix", ["_dist_objects/", "/_dist_objects", "/a b/", "/x?y/"])
def test_a_bad_accel_prefix_is_a_usage_error(tmp_path: Path, prefix: str) -> None:
    dist = Path(sys.executable).parent / "dist"
    done = subprocess.run(
        [str(dist), "--store", str(tmp_path / "s"), "serve", "--accel-redirect", prefix],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2, done.stderr
