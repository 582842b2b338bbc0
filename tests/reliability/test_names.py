"""Path-like names (`../`, NUL, `%2e%2e`, over-long) for slugs, channels, versions and file names are refused
over HTTP and by the CLI, and nothing is written outside the store."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from dist.persistence.store import StoreLocation
from tests.reliability.conftest import Outputs, Servers, admin_secret, run_dist
from tests.support import raw_request

CLI_NAMES = ["../x", "%2e%2e", "x" * 300]
HOSTILE = ["../x", "../../etc/passwd", "..", ".", "%2e%2e", "%2e%2e%2fx", "a/b", "a\\b", "x\x00y", "x" * 300, "/abs"]


def tree(root: Path, skip: Path) -> set[str]:
    """Every path under `root` except those under `skip`."""
    return {str(p.relative_to(root)) for p in root.rglob("*") if skip not in p.parents and p != skip}


def refused(response: httpx.Response) -> bool:
    return 400 <= response.status_code < 500 and "error" in response.json()


@pytest.fixture
def servers(tmp_path: Path, outputs: Outputs) -> Iterator[Servers]:
    """On an embedded store only: names are refused before any database is asked."""
    running = Servers(StoreLocation(tmp_path / "store"), tmp_path, outputs)
    try:
        yield running
    finally:
        running.stop_all()


def test_path_like_names_are_refused_over_http_and_cli(servers: Servers, outputs: Outputs, tmp_path: Path) -> None:
    location = servers.location
    server = servers.start()
    secret = admin_secret(location)
    auth = {"Authorization": f"Bearer {secret}"}
    before = tree(tmp_path, location.root)
    with httpx.Client(base_url=server.url, headers=auth, timeout=30) as http:
        sha = http.post("/api/upload", content=b"payload").json()["sha256"]
        good = {"version": "1.0.0", "channel": "stable", "artifacts": [{"filename": "a.bin", "sha256": sha}]}
        assert http.post("/api/apps/demo/releases", json=good).status_code == 201
        for name in HOSTILE:
            # Dots escaped too: a client would otherwise resolve `..` itself before sending.
            part = quote(name, safe="").replace(".", "%2E")
            answers = {
                "slug read": http.get(f"/api/apps/{part}"),
                "slug publish": http.post(f"/api/apps/{part}/releases", json=good),
                "version read": http.get(f"/api/apps/demo/releases/{part}"),
                "version publish": http.post("/api/apps/demo/releases", json={**good, "version": name}),
                "channel read": http.get(f"/api/apps/demo/channels/{part}"),
                "channel promote": http.post(f"/api/apps/demo/channels/{part}/promote", json={"version": "1.0.0"}),
                "channel publish": http.post(
                    "/api/apps/demo/releases", json={**good, "version": "9.9.9", "channel": name}
                ),
                "filename publish": http.post(
                    "/api/apps/demo/releases",
                    json={"version": "9.9.8", "artifacts": [{"filename": name, "sha256": sha}]},
                ),
                "filename download": http.get(f"/api/apps/demo/releases/1.0.0/artifacts/{part}"),
                "object download": http.get(f"/api/objects/{part}"),
            }
            wrong = {what: (r.status_code, r.text[:200]) for what, r in answers.items() if not refused(r)}
            assert wrong == {}, name
        # Traversal sent as it is, without the client normalising it.
        for path in ("/api/objects/../../dist.db", "/api/apps/demo/releases/1.0.0/artifacts/../../../../dist.db"):
            status, _ = raw_request(server.port, f"GET {path} HTTP/1.1\nHost: x\n")
            assert status == 404, path
        assert [a["slug"] for a in http.get("/api/apps").json()["apps"]] == ["demo"]
        assert [r["version"] for r in http.get("/api/apps/demo/releases").json()["releases"]] == ["1.0.0"]

    payload = tmp_path / "payload.bin"
    payload.write_bytes(b"cli payload")
    # Each name where each kind of name goes (a process each, so one name per kind for the rarer places).
    runs = [["app", "create", name] for name in CLI_NAMES]
    runs += [["publish", name, "1.0.0", str(payload)] for name in CLI_NAMES]
    runs += [["publish", "demo", name, str(payload), "--channel", "stable"] for name in CLI_NAMES]
    runs += [["promote", "demo", name, "--version", "1.0.0"] for name in CLI_NAMES]
    runs += [
        ["publish", "demo", "9.9.7", str(payload), "--channel", "../x"],
        ["rollback", "demo", "%2e%2e"],
        ["release", "show", "demo", "../1.0.0"],
        ["channel", "history", "demo", ".."],
    ]
    for args in runs:
        done = run_dist(location, *args, outputs=outputs)
        assert done.returncode in (1, 2), (args, done.stdout, done.stderr)
        assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr, (args, done.stderr)
    assert tree(tmp_path, location.root) == before | {"payload.bin"}
    # objects/ holds the blob uploaded on purpose, and the one the CLI uploads before its publish is refused
    # (unreferenced, so `dist store gc` sweeps it).
    blobs = {p.name for p in (location.root / "objects").rglob("*") if p.is_file()}
    assert blobs <= {hashlib.sha256(b"payload").hexdigest(), hashlib.sha256(b"cli payload").hexdigest()}
