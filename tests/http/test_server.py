"""Acceptance: a real distd process on a free port, driven over HTTP by httpx and curl, with tokens made and
releases published by real `dist` processes on the same store at the same time."""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from dist.persistence.store import StoreLocation
from tests.support import BIN, Server, raw_request, start, stop, store_args

CAP = 1024 * 1024


@pytest.fixture
def server(location: StoreLocation, tmp_path: Path) -> Iterator[Server]:
    log = tmp_path / "distd.log"
    process, port = start(location, log, "--max-upload", "1MiB")
    try:
        yield Server(f"http://127.0.0.1:{port}", port, location, log)
    finally:
        stop(process)


def test_publish_update_and_download_over_http(server: Server, tmp_path: Path) -> None:
    banner = server.log.read_text()
    assert server.url in banner
    assert "token create --name ci --scope publish" in banner
    secret = server.token("--scope", "publish")
    auth = {"Authorization": f"Bearer {secret}"}
    payload = tmp_path / "app-1.0.0.tar.gz"
    payload.write_bytes(b"release one " * 1000)
    digest = hashlib.sha256(payload.read_bytes()).hexdigest()

    curl = subprocess.run(
        [
            "curl",
            "-sS",
            "-H",
            f"Authorization: Bearer {secret}",
            "-H",
            f"X-Content-SHA256: {digest}",
            "--data-binary",
            f"@{payload}",
            f"{server.url}/api/upload",
            "-w",
            "\n%{http_code}",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    body, status = curl.stdout.rsplit("\n", 1)
    assert (status, json.loads(body)) == ("201", {"sha256": digest, "size": payload.stat().st_size})

    with httpx.Client(base_url=server.url, timeout=30) as http:
        _publish_and_read(server, http, auth, payload, digest, tmp_path)


def _publish_and_read(
    server: Server, http: httpx.Client, auth: dict[str, str], payload: Path, digest: str, tmp_path: Path
) -> None:
    release = {
        "version": "1.0.0",
        "channel": "beta",
        "artifacts": [
            {"filename": payload.name, "sha256": digest, "platform": "linux-x86_64", "content_type": "application/gzip"}
        ],
    }
    created = http.post("/api/apps/demo/releases", json=release, headers=auth)
    assert created.status_code == 201, created.text
    assert created.json()["created_by"].startswith("token:")

    # A `dist publish` process and HTTP publishes write to the same store at the same time.
    cli_file = tmp_path / "cli.bin"
    cli_file.write_bytes(b"from the cli")
    cli = subprocess.Popen(
        [
            str(BIN / "dist"),
            *store_args(server.location),
            "publish",
            "demo",
            "1.1.0",
            f"{cli_file}=linux-x86_64",
            "--channel",
            "beta",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )

    def http_publish(n: int) -> int:
        data = f"http build {n}".encode()
        sha = http.post("/api/upload", content=data, headers=auth).json()["sha256"]
        spec = {"version": f"0.{n}.0", "artifacts": [{"filename": "a.bin", "sha256": sha}]}
        return http.post("/api/apps/demo/releases", json=spec, headers=auth).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(http_publish, range(1, 9)))
    _, cli_errors = cli.communicate(timeout=60)
    assert cli.returncode == 0, cli_errors
    assert statuses == [201] * 8
    versions = [r["version"] for r in http.get("/api/apps/demo/releases?limit=500").json()["releases"]]
    assert sorted(versions) == sorted(["1.0.0", "1.1.0", *(f"0.{n}.0" for n in range(1, 9))])
    assert http.get("/api/apps/demo/channels/beta").json()["release"] == "1.1.0"

    promoted = http.post("/api/apps/demo/channels/stable/promote", json={"from": "beta"}, headers=auth)
    assert (promoted.status_code, promoted.json()["release"]) == (200, "1.1.0")
    rolled = http.post("/api/apps/demo/channels/beta/rollback", json={}, headers=auth)
    assert (rolled.status_code, rolled.json()["release"]) == (200, "1.0.0")
    check = http.get("/api/apps/demo/channels/beta/latest", params={"platform": "linux-x86_64", "current": "0.9.0"})
    assert check.status_code == 200
    artifact = check.json()["artifact"]
    assert (artifact["filename"], artifact["sha256"]) == (payload.name, digest)
    assert http.get("/api/apps/demo/channels/beta/latest", params={"current": "1.0.0"}).status_code == 404
    assert (
        http.get(
            "/api/apps/demo/channels/beta/latest", params={"platform": "linux-x86_64", "current": "1.0.0"}
        ).status_code
        == 204
    )

    download = http.get(artifact["url"], headers={"Range": "bytes=0-11"})
    assert (download.status_code, download.content) == (206, b"release one ")
    assert download.headers["content-type"] == "application/gzip"
    assert download.headers["content-disposition"] == f'attachment; filename="{payload.name}"'
    etag = http.get(f"/api/objects/{digest}").headers["etag"]
    assert etag == f'"{digest}"'
    assert http.get(f"/api/objects/{digest}", headers={"If-None-Match": etag}).status_code == 304


def test_refusals_over_a_real_connection(server: Server) -> None:
    secret = server.token("--scope", "publish", "--app", "demo")
    with httpx.Client(base_url=server.url, timeout=30) as http:
        _refusals(server, http, secret)


def _refusals(server: Server, http: httpx.Client, secret: str) -> None:
    auth = {"Authorization": f"Bearer {secret}"}
    tmp_dir = server.location.root / "tmp"

    def code(response: httpx.Response) -> tuple[int, str]:
        return response.status_code, response.json()["error"]["code"]

    assert code(http.post("/api/upload", content=b"x")) == (401, "auth.missing")
    assert code(http.post("/api/upload", content=b"x", headers={"Authorization": "Bearer dist_" + "f" * 64})) == (
        401,
        "auth.unknown",
    )
    assert code(http.post("/api/apps/other/channels/beta/rollback", json={}, headers=auth)) == (
        403,
        "auth.app_forbidden",
    )
    assert code(http.post("/api/upload", content=b"x", headers={**auth, "X-Content-SHA256": "0" * 64})) == (
        422,
        "upload.digest_mismatch",
    )
    assert code(http.get("/api/apps/ghost")) == (404, "app.not_found")
    assert code(http.get("/healthz", headers={"X-Big": "b" * 8193})) == (431, "request.headers_too_large")
    assert code(http.post("/api/apps/demo/releases", content=b"{not json", headers=auth)) == (
        400,
        "request.malformed_json",
    )
    assert code(http.post("/api/upload", content=iter([b"chunk"]), headers=auth)) == (411, "request.length_required")

    # Over the cap by Content-Length: refused before a byte of the body is sent.
    status, body = raw_request(
        server.port, f"POST /api/upload HTTP/1.1\nHost: x\nAuthorization: Bearer {secret}\nContent-Length: {CAP + 1}\n"
    )
    assert (status, json.loads(body)["error"]["code"]) == (413, "request.too_large")
    # A body that stops short of its Content-Length: nothing partial is kept.
    raw_request(
        server.port,
        f"POST /api/upload HTTP/1.1\nHost: x\nAuthorization: Bearer {secret}\nContent-Length: {CAP}\n",
        b"a" * 70000,
        close_early=True,
    )
    deadline = time.monotonic() + 10
    while any(tmp_dir.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(tmp_dir.iterdir()) == []
    assert list((server.location.root / "objects").iterdir()) == [], "only refused uploads were sent"
    assert "Traceback" not in server.log.read_text()


def test_distd_with_workers(tmp_path: Path) -> None:
    location = StoreLocation(tmp_path / "store")
    process, port = start(location, tmp_path / "distd.log", "--workers", "2", "--max-upload", "2KiB", program="distd")
    try:
        secret = Server("", port, location, tmp_path / "distd.log").token("--scope", "publish")
        auth = {"Authorization": f"Bearer {secret}"}
        url = f"http://127.0.0.1:{port}"
        for _ in range(4):
            assert httpx.get(f"{url}/api/apps", timeout=10).json() == {"apps": []}
        assert httpx.post(f"{url}/api/upload", content=b"x" * 2048, headers=auth, timeout=10).status_code == 201
        assert httpx.post(f"{url}/api/upload", content=b"x" * 2049, headers=auth, timeout=10).status_code == 413
    finally:
        stop(process)
