"""Real updater clients against a real distd: electron-updater on Node, Debian's minisign, Ed25519 checks.

Each tool is found or the test skips saying how to get it (`make clients`); under CI=true a missing tool fails
the test instead, so that CI never passes by skipping.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from dist.persistence.store import StoreLocation
from tests.conftest import REPO_ROOT
from tests.support import Server, start, stop

NODE_MODULES = REPO_ROOT / ".cache" / "node" / "node_modules"
HOW = "run `make clients` (apt: minisign nodejs npm; npm packages into .cache/node), or `bash .ci/run`"


def missing(what: str) -> None:
    message = f"{what} is not installed: {HOW}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        missing(name)
    assert found is not None
    return found


@pytest.fixture
def node() -> str:
    found = tool("node")
    if not (NODE_MODULES / "electron-updater" / "package.json").exists():
        missing("electron-updater (npm)")
    return found


@pytest.fixture
def minisign() -> str:
    return tool("minisign")


@dataclass
class Distd:
    """A real distd and a publish token for it."""

    server: Server
    auth: dict[str, str]

    @property
    def url(self) -> str:
        return self.server.url

    def upload(self, data: bytes) -> str:
        response = httpx.post(f"{self.url}/api/upload", content=data, headers=self.auth, timeout=30)
        assert response.status_code in (200, 201), response.text
        digest: str = response.json()["sha256"]
        assert digest == hashlib.sha256(data).hexdigest()
        return digest

    def publish(self, app: str, version: str, artifacts: list[dict[str, Any]], channel: str | None = None) -> None:
        """Publish `artifacts` (each with its `data` bytes, uploaded here) as `version`."""
        specs = [{k: v for k, v in a.items() if k != "data"} | {"sha256": self.upload(a["data"])} for a in artifacts]
        body: dict[str, Any] = {"version": version, "artifacts": specs, "notes": f"Notes of {version}."}
        if channel is not None:
            body["channel"] = channel
        response = httpx.post(f"{self.url}/api/apps/{app}/releases", json=body, headers=self.auth, timeout=30)
        assert response.status_code == 201, response.text

    def dist_ok(self, *args: str) -> bool:
        """Run a `dist` command on the server's store; True when it succeeds (its stderr shown when not)."""
        done = self.server.dist(*args)
        assert done.returncode == 0, done.stderr
        return True

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=30)


@pytest.fixture
def distd(location: StoreLocation, tmp_path: Path) -> Iterator[Distd]:
    process, port = start(location, tmp_path / "distd.log")
    try:
        server = Server(f"http://127.0.0.1:{port}", port, location, tmp_path / "distd.log")
        yield Distd(server, {"Authorization": f"Bearer {server.token('--scope', 'publish')}"})
    finally:
        stop(process)
