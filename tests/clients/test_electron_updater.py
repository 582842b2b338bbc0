"""The real electron-updater (npm, pinned in tests/clients/package.json) reads distd's generic-provider feed on
Node: its GenericProvider fetches the channel file, resolves the files, and downloads the installer its
platform's updater would through the SHA-512-checking download of builder-util-runtime."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.clients.conftest import NODE_MODULES, Distd

HARNESS = Path(__file__).with_name("electron_updater.cjs")


def release(version: str) -> list[dict[str, Any]]:
    def data(name: str) -> bytes:
        return f"{name} of {version} ".encode() * 300

    names = {
        "windows-x86_64": f"Demo Setup {version}.exe",
        "darwin-universal": f"Demo-{version}-universal-mac.zip",
        "linux-x86_64": f"Demo-{version}.AppImage",
        "linux-aarch64": f"Demo-{version}-arm64.AppImage",
    }
    artifacts = [{"filename": n, "platform": p, "data": data(n)} for p, n in names.items()]
    # A .dmg beside the .zip, as electron-builder publishes: the mac updater must still take the .zip.
    artifacts.insert(1, {"filename": f"Demo-{version}.dmg", "platform": "darwin-universal", "data": data("dmg")})
    return artifacts


def electron_updater(node: str, url: str, channel: str, platform: str, arch: str, out: Path) -> dict[str, Any]:
    env = {**os.environ, "NODE_PATH": str(NODE_MODULES), "TEST_UPDATER_ARCH": arch}
    done = subprocess.run(
        [node, str(HARNESS), url, channel, platform, str(out)], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


# electron-updater's platform and architecture, and the dist platform its channel file covers.
PLATFORMS = [
    ("win32", "x64", "windows-x86_64"),
    ("darwin", "arm64", "darwin-universal"),
    ("linux", "x64", "linux-x86_64"),
    ("linux", "arm64", "linux-aarch64"),
]


def test_electron_updater_updates_on_every_platform_and_channel(distd: Distd, node: str, tmp_path: Path) -> None:
    published = {"1.0.0": release("1.0.0"), "1.1.0-beta.1": release("1.1.0-beta.1")}
    distd.publish("demo", "1.0.0", published["1.0.0"], channel="stable")
    distd.publish("demo", "1.1.0-beta.1", published["1.1.0-beta.1"], channel="beta")
    url = f"{distd.url}/feeds/demo/electron"
    for channel in ("stable", "beta", "latest"):
        for platform, arch, dist_platform in PLATFORMS:
            out = tmp_path / f"{channel}-{platform}-{arch}"
            answer = electron_updater(node, url, channel, platform, arch, out)
            served = "stable" if channel == "latest" else channel
            check = distd.get(f"/api/apps/demo/channels/{served}/latest?platform={dist_platform}").json()
            assert answer["version"] == check["release"]["version"], (channel, platform, arch)
            assert answer["releaseNotes"] == f"Notes of {answer['version']}."
            assert answer["stagingPercentage"] is None
            files = published[answer["version"]]
            expected = next(a for a in files if a["platform"] == dist_platform and a["filename"][-4:] != ".dmg")
            assert answer["downloaded"].endswith(expected["filename"].replace(" ", "%20"))
            assert out.read_bytes() == expected["data"]
            digest = base64.b64encode(hashlib.sha512(expected["data"]).digest()).decode()
            assert answer["sha512"] == digest


def test_electron_updater_reports_a_missing_channel(distd: Distd, node: str, tmp_path: Path) -> None:
    distd.publish("demo", "1.0.0", release("1.0.0"), channel="stable")
    answer = electron_updater(node, f"{distd.url}/feeds/demo/electron", "nightly", "linux", "x64", tmp_path / "x")
    assert answer["error"] == "ERR_UPDATER_CHANNEL_FILE_NOT_FOUND"


def test_electron_updater_refuses_bytes_that_do_not_match(distd: Distd, node: str, tmp_path: Path) -> None:
    """The harness really checks: bytes changed on disk under distd fail electron-updater's SHA-512 check."""
    artifacts = release("1.0.0")
    distd.publish("demo", "1.0.0", artifacts, channel="stable")
    blob = hashlib.sha256(artifacts[0]["data"]).hexdigest()
    path = distd.server.location.root / "objects" / blob[:2] / blob
    path.chmod(0o644)
    path.write_bytes(artifacts[0]["data"][:-1] + b"!")
    env = {**os.environ, "NODE_PATH": str(NODE_MODULES), "TEST_UPDATER_ARCH": "x64"}
    done = subprocess.run(
        [node, str(HARNESS), f"{distd.url}/feeds/demo/electron", "stable", "win32", str(tmp_path / "setup.exe")],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode != 0 and "sha512 checksum mismatch" in done.stderr
