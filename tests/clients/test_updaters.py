"""The real updaters against a real distd: electron-updater's GenericProvider on Node resolving and downloading on
three platforms and two channels, Tauri's signatures through Debian's `minisign -V`, Sparkle's appcast through an
XML parser and Ed25519, Squirrel.Windows' RELEASES through SHA-1; and each answer against the update check's."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.clients.conftest import NODE_MODULES, Distd
from tests.signing import Ed25519Key, MinisignKey, make_ed25519_key, make_minisign_key

HARNESS = Path(__file__).with_name("electron_updater.cjs")
SPARKLE = "http://www.andymatuschak.org/xml-namespaces/sparkle"
STABLE, BETA = "1.4.0", "1.5.0-beta.2"


def payload(name: str, version: str) -> bytes:
    """Distinct bytes per file and version, a few hundred KiB so a download takes more than one read."""
    seed = hashlib.sha256(f"{name} {version}".encode()).digest()
    return seed * (300 * 1024 // len(seed)) + name.encode()


# (filename pattern, platform): what electron-builder, Forge, Tauri and Squirrel.Windows put in a release.
FILES = [
    ("Demo-Setup-{v}.exe", "windows-x86_64"),
    ("demo-{v}-full.nupkg", "windows-x86_64"),
    ("Demo-{v}-mac.zip", "darwin-universal"),
    ("Demo-{v}.dmg", "darwin-universal"),
    ("Demo_{v}_aarch64.app.tar.gz", "darwin-aarch64"),
    ("Demo-{v}.AppImage", "linux-x86_64"),
    ("Demo-{v}-arm64.AppImage", "linux-aarch64"),
    ("demo_{v}_amd64.AppImage.tar.gz", "linux-x86_64"),
]


@dataclass
class Published:
    files: dict[str, bytes]
    minisign: MinisignKey
    ed25519: Ed25519Key


def publish_signed(distd: Distd, tmp_path: Path, minisign: MinisignKey, ed25519: Ed25519Key) -> Published:
    """demo 1.4.0 on stable and 1.5.0-beta.2 on beta, every file signed with both keys."""
    distd.dist_ok("app", "create", "demo", "--name", "Demo")
    distd.dist_ok(
        "app", "set", "demo", "--minisign-public-key", minisign.public_line, "--ed25519-public-key", ed25519.public
    )
    files: dict[str, bytes] = {}
    for version, channel in ((STABLE, "stable"), (BETA, "beta")):
        artifacts: list[dict[str, Any]] = []
        for pattern, platform in FILES:
            name = pattern.format(v=version)
            data = payload(name, version)
            path = tmp_path / name
            path.write_bytes(data)
            signatures = {"minisign": minisign.sign(path), "ed25519": ed25519.sign(data)}
            artifacts.append({"filename": name, "platform": platform, "data": data, "signatures": signatures})
            files[name] = data
        distd.publish("demo", version, artifacts, channel)
    return Published(files, minisign, ed25519)


@pytest.fixture
def published(distd: Distd, tmp_path: Path) -> Published:
    return publish_signed(distd, tmp_path, make_minisign_key(tmp_path / "minisign"), make_ed25519_key())


def served_by_update_check(distd: Distd, channel: str, platform: str, current: str = "0.1.0") -> str | None:
    """The version /latest answers for a client of `platform` running `current`; None for 204."""
    answer = distd.get(f"/api/apps/demo/channels/{channel}/latest?platform={platform}&current={current}")
    if answer.status_code == 204:
        return None
    assert answer.status_code == 200, answer.text
    version: str = answer.json()["release"]["version"]
    return version


def b64_sha512(data: bytes) -> str:
    return base64.b64encode(hashlib.sha512(data).digest()).decode()


# electron-updater's platform, its TEST_UPDATER_ARCH, and the dist platform its channel file covers.
ELECTRON = [("win32", "x64", "windows-x86_64"), ("darwin", "x64", "darwin-universal"),
            ("linux", "x64", "linux-x86_64"), ("linux", "arm64", "linux-aarch64")]  # fmt: skip


@pytest.mark.parametrize(("channel", "dist_channel"), [("latest", "stable"), ("beta", "beta")])
def test_electron_updater_resolves_and_downloads_on_every_platform(
    node: str, distd: Distd, published: Published, tmp_path: Path, channel: str, dist_channel: str
) -> None:
    for platform, arch, dist_platform in ELECTRON:
        out = tmp_path / f"download-{platform}-{arch}"
        env = os.environ | {"NODE_PATH": str(NODE_MODULES), "TEST_UPDATER_ARCH": arch}
        command = [node, str(HARNESS), f"{distd.url}/feeds/demo/electron", channel, platform, str(out)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=NODE_MODULES.parent)
        assert done.returncode == 0, done.stderr
        seen = json.loads(done.stdout)
        assert "error" not in seen, seen
        # The version the real updater sees is the one the update check serves to the same platform.
        assert seen["version"] == served_by_update_check(distd, dist_channel, dist_platform), (platform, arch)
        version = seen["version"]
        expected_names = [p.format(v=version) for p, plat in FILES if plat == dist_platform]
        if platform == "win32":
            expected_names = [p.format(v=version) for p, plat in FILES if plat.startswith("windows-")]
        if platform == "darwin":
            expected_names = [p.format(v=version) for p, plat in FILES if plat.startswith("darwin-")]
        assert [f["url"].rsplit("/", 1)[1] for f in seen["files"]] == expected_names
        for file in seen["files"]:
            data = published.files[file["url"].rsplit("/", 1)[1]]
            assert (file["sha512"], file["size"]) == (b64_sha512(data), len(data))
        # The bytes it downloaded (checked by electron-updater itself against the SHA-512) are the published ones.
        downloaded = seen["downloaded"].rsplit("/", 1)[1]
        assert out.read_bytes() == published.files[downloaded]
        assert seen["sha512"] == b64_sha512(out.read_bytes())
        assert seen["releaseNotes"] == f"Notes of {version}."
        assert seen["stagingPercentage"] is None


def test_electron_updater_refuses_a_download_whose_sha512_is_not_the_feeds(
    node: str, distd: Distd, published: Published, tmp_path: Path
) -> None:
    """The harness is the real checking path: a file that differs from what the feed says fails to download."""
    feed = distd.get("/feeds/demo/electron/latest-linux.yml")
    assert feed.status_code == 200
    stable_sha = b64_sha512(published.files[f"Demo-{STABLE}.AppImage"])
    beta_sha = b64_sha512(published.files[f"Demo-{BETA}.AppImage"])
    tampered = feed.text.replace(stable_sha, beta_sha)
    assert tampered != feed.text
    served = tmp_path / "feeds" / "latest-linux.yml"
    served.parent.mkdir()
    served.write_text(tampered)
    with StaticServer(tmp_path / "feeds", distd) as url:
        env = os.environ | {"NODE_PATH": str(NODE_MODULES), "TEST_UPDATER_ARCH": "x64"}
        command = [node, str(HARNESS), url, "latest", "linux", str(tmp_path / "out")]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=NODE_MODULES.parent)
    assert done.returncode != 0
    assert "sha512 checksum mismatch" in done.stderr


class StaticServer:
    """A plain HTTP server for one directory, whose feed points at distd's files (a tampered copy of a feed)."""

    def __init__(self, directory: Path, distd: Distd):
        import functools
        import http.server
        import threading

        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
        handler.log_message = lambda *args: None  # type: ignore[attr-defined]
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def minisign_verifies(key: MinisignKey, data: bytes, signature_text: str, tmp_path: Path, name: str) -> bool:
    """`minisign -V` on the bytes and the signature file's text, as Tauri's updater checks them."""
    target, sig = tmp_path / f"check-{name}", tmp_path / f"check-{name}.minisig"
    target.write_bytes(data)
    sig.write_text(signature_text)
    command = [key.binary, "-V", "-q", "-P", key.public_line, "-m", str(target), "-x", str(sig)]
    return subprocess.run(command, capture_output=True, timeout=60).returncode == 0


# Tauri's {{target}} and {{arch}}: the dist platform `{target}-{arch}`.
TAURI = [("linux", "x86_64"), ("darwin", "aarch64"), ("windows", "x86_64")]


@pytest.mark.parametrize("channel", ["stable", "beta"])
def test_tauri_signatures_pass_minisign(distd: Distd, published: Published, tmp_path: Path, channel: str) -> None:
    served_static = distd.get(f"/feeds/demo/tauri/{channel}.json")
    assert served_static.status_code == 200, served_static.text
    static = served_static.json()
    for target, arch in TAURI:
        answer = distd.get(f"/feeds/demo/tauri/{channel}/{target}/{arch}/0.1.0")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["version"] == served_by_update_check(distd, channel, f"{target}-{arch}")
        data = httpx.get(body["url"], timeout=30).content
        assert data == published.files[body["url"].rsplit("/", 1)[1]]
        text = base64.b64decode(body["signature"]).decode()
        assert minisign_verifies(published.minisign, data, text, tmp_path, f"{channel}-{target}")
        # The same signature does not pass for other bytes: the check is real.
        assert not minisign_verifies(published.minisign, data + b"!", text, tmp_path, f"{channel}-{target}-x")
    for platform, entry in static["platforms"].items():
        data = httpx.get(entry["url"], timeout=30).content
        text = base64.b64decode(entry["signature"]).decode()
        assert minisign_verifies(published.minisign, data, text, tmp_path, f"static-{platform}"), platform
    assert static["version"] == served_by_update_check(distd, channel, "linux-x86_64")
    # Up to date: 204, as the update check answers.
    assert distd.get(f"/feeds/demo/tauri/{channel}/linux/x86_64/{static['version']}").status_code == 204


def test_sparkle_appcast_parses_and_its_ed25519_signatures_verify(distd: Distd, published: Published) -> None:
    answer = distd.get("/feeds/demo/sparkle/appcast.xml")
    assert answer.status_code == 200 and "xml" in answer.headers["content-type"]
    root = ET.fromstring(answer.content)
    items = root.findall("./channel/item")
    channels = [item.findtext(f"{{{SPARKLE}}}channel") for item in items]
    assert channels == [None, "beta"]  # the default channel has no sparkle:channel
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(published.ed25519.public))
    for item, channel in zip(items, ("stable", "beta"), strict=True):
        version = item.findtext(f"{{{SPARKLE}}}version")
        assert version == item.findtext(f"{{{SPARKLE}}}shortVersionString")
        assert version == served_by_update_check(distd, channel, "darwin-universal")
        enclosure = item.find("enclosure")
        assert enclosure is not None
        data = httpx.get(enclosure.attrib["url"], timeout=30).content
        assert int(enclosure.attrib["length"]) == len(data)
        signature = base64.b64decode(enclosure.attrib[f"{{{SPARKLE}}}edSignature"])
        public.verify(signature, data)
        with pytest.raises(InvalidSignature):
            public.verify(signature, data + b"!")


def test_squirrel_windows_releases_hash_the_nupkg_bytes(distd: Distd, published: Published) -> None:
    for channel in ("stable", "beta"):
        answer = distd.get(f"/feeds/demo/squirrel/{channel}/windows-x86_64/0.1.0/RELEASES")
        assert answer.status_code == 200, answer.text
        lines = answer.text.splitlines()
        assert len(lines) == 1
        sha1, url, size = lines[0].split(" ")
        data = httpx.get(url, timeout=30).content
        assert url.endswith(f"-{served_by_update_check(distd, channel, 'windows-x86_64')}-full.nupkg")
        assert (sha1, int(size)) == (hashlib.sha1(data).hexdigest().upper(), len(data))
        assert data == published.files[url.rsplit("/", 1)[1]]


def test_a_rollout_reaches_the_real_updaters_as_each_expects(
    node: str, distd: Distd, published: Published, tmp_path: Path
) -> None:
    """1.5.0-beta.2 rolls out to 30% of stable: electron-updater reads stagingPercentage (and buckets by
    itself), Tauri and Squirrel get by client id what the update check gives that client, signed as ever."""
    promoted = httpx.post(
        f"{distd.url}/api/apps/demo/channels/stable/promote",
        json={"version": BETA, "rollout": {"percent": 30}},
        headers=distd.auth,
        timeout=30,
    )
    assert promoted.status_code == 200, promoted.text
    env = os.environ | {"NODE_PATH": str(NODE_MODULES), "TEST_UPDATER_ARCH": "x64"}
    command = [node, str(HARNESS), f"{distd.url}/feeds/demo/electron", "latest", "linux", str(tmp_path / "out")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=NODE_MODULES.parent)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert (seen["version"], seen["stagingPercentage"]) == (BETA, 30)
    assert (tmp_path / "out").read_bytes() == published.files[f"Demo-{BETA}.AppImage"]

    versions = set()
    for n in range(60):
        client = f"install-{n}"
        expected = distd.get(
            f"/api/apps/demo/channels/stable/latest?platform=linux-x86_64&current=0.1.0&client={client}"
        )
        want = expected.json()["release"]["version"]
        tauri = distd.get(f"/feeds/demo/tauri/stable/linux/x86_64/0.1.0?client={client}")
        assert tauri.json()["version"] == want, client
        squirrel = httpx.get(
            f"{distd.url}/feeds/demo/squirrel/stable/windows-x86_64/0.1.0/RELEASES",
            headers={"X-Dist-Client": client},
            timeout=30,
        )
        assert squirrel.text.split(" ")[1].endswith(f"-{want}-full.nupkg"), client
        versions.add(want)
        if n < 10:
            data = httpx.get(tauri.json()["url"], timeout=30).content
            text = base64.b64decode(tauri.json()["signature"]).decode()
            assert minisign_verifies(published.minisign, data, text, tmp_path, f"rollout-{n}")
    # At 30%, sixty clients land on both sides.
    assert versions == {STABLE, BETA}
