"""Issue 2, as a new user tries it: publish, promote, rollback, yank, audit, and every refusal on the way."""

from __future__ import annotations

import hashlib

import pytest

from dist.domain.errors import DistError
from dist.persistence.store import StoreLocation, open_store
from dist.services import releases
from dist.services.releases import ArtifactSpec
from tests.cli.conftest import Dist, snapshot


def test_publish_promote_rollback_yank_and_audit(dist: Dist, location: StoreLocation, cli_actor: str) -> None:
    first, second = dist.cwd / "a.bin", dist.cwd / "b.bin"
    first.write_bytes(b"first build\x00" * 100)
    second.write_bytes(b"second build")
    first_sha = hashlib.sha256(first.read_bytes()).hexdigest()

    published = dist("publish", "demo", "1.0.0", f"{first}=linux-x86_64", "--channel", "beta", "--json").json()
    assert published["app"] == "demo" and published["version"] == "1.0.0"
    assert published["status"] == "published" and published["created_by"] == cli_actor
    assert published["artifacts"] == [
        {
            "filename": "a.bin",
            "platform": "linux-x86_64",
            "sha256": first_sha,
            "sha512": hashlib.sha512(first.read_bytes()).hexdigest(),
            "sha1": hashlib.sha1(first.read_bytes()).hexdigest(),
            "size": 1200,
            "content_type": "application/octet-stream",
            "url": "/api/apps/demo/releases/1.0.0/artifacts/a.bin",
            "signatures": {"minisign": None, "ed25519": None},
            "downloads": 0,
        }
    ]
    assert published["downloads"] == 0
    assert (location.root / "objects" / first_sha[:2] / first_sha).read_bytes() == first.read_bytes()

    newer = dist("publish", "demo", "1.1.0", f"{second}=linux-x86_64", "--channel", "beta", "--json").json()
    assert newer["version"] == "1.1.0"

    stable = dist("promote", "demo", "stable", "--from", "beta", "--json").json()
    assert (stable["app"], stable["name"], stable["release"]) == ("demo", "stable", "1.1.0")

    before = snapshot(location)
    dist("promote", "demo", "stable", "--from", "beta").refused("channel.unchanged")
    assert snapshot(location) == before

    beta = dist("rollback", "demo", "beta", "--json").json()
    assert (beta["name"], beta["release"]) == ("beta", "1.0.0")

    before = snapshot(location)
    dist("rollback", "demo", "beta").refused("channel.nothing_to_roll_back")
    dist("release", "yank", "demo", "1.0.0").refused("release.in_use")
    dist("publish", "demo", "1.0.0", str(second)).refused("release.exists")
    after = snapshot(location)
    assert after["audit"] == before["audit"] and after["releases:demo"] == before["releases:demo"]
    assert after["channels:demo"] == before["channels:demo"]

    dist("publish", "demo", "1.2.0", str(second))
    yanked = dist("release", "yank", "demo", "1.2.0", "--json").json()
    assert (yanked["version"], yanked["status"]) == ("1.2.0", "yanked")
    shown = dist("release", "show", "demo", "1.2.0", "--json").json()
    assert shown == yanked

    listed = dist("release", "list", "demo", "--json").json()
    assert [(r["version"], r["status"]) for r in listed["releases"]] == [
        ("1.2.0", "yanked"),
        ("1.1.0", "published"),
        ("1.0.0", "published"),
    ]
    channels = dist("channel", "list", "demo", "--json").json()
    assert [(c["name"], c["release"]) for c in channels["channels"]] == [("beta", "1.0.0"), ("stable", "1.1.0")]
    history = dist("channel", "history", "demo", "beta", "--json").json()
    assert [(e["kind"], e["version"], e["actor"]) for e in history["events"]] == [
        ("promote", "1.0.0", cli_actor),
        ("promote", "1.1.0", cli_actor),
        ("rollback", "1.0.0", cli_actor),
    ]

    events = dist("audit", "--json").json()["events"]
    assert [(e["action"], e["target"]) for e in events] == [
        ("app_created", "demo"),
        ("release_published", "1.0.0"),
        ("channel_promoted", "beta"),
        ("release_published", "1.1.0"),
        ("channel_promoted", "beta"),
        ("channel_promoted", "stable"),
        ("channel_rolled_back", "beta"),
        ("release_published", "1.2.0"),
        ("release_yanked", "1.2.0"),
    ]
    assert {e["actor"] for e in events} == {cli_actor}
    assert {e["app"] for e in events} == {"demo"}
    newest = dist("audit", "--app", "demo", "--limit", "2", "--json").json()["events"]
    assert newest == events[-2:]
    assert dist("audit", "--app", "other", "--json").json() == {"events": []}


def test_publish_of_a_blob_not_in_the_store_is_refused_and_changes_nothing(location: StoreLocation) -> None:
    # The CLI always uploads before it publishes, so `object.missing` is reached through the shared service.
    before = snapshot(location)
    store = open_store(location)
    try:
        missing = ArtifactSpec("a.bin", hashlib.sha256(b"never uploaded").hexdigest())
        with pytest.raises(DistError) as refused:
            releases.publish(store.uow(), app="demo", version="1.0.0", artifacts=[missing], actor="cli:test")
    finally:
        store.close()
    assert refused.value.code == "object.missing"
    assert snapshot(location) == before == {"apps": [], "audit": [], "blobs": []}


def test_the_same_bytes_in_two_releases_are_stored_once(dist: Dist, location: StoreLocation) -> None:
    (dist.cwd / "v1").mkdir()
    (dist.cwd / "v2").mkdir()
    notes = dist.cwd / "NOTES.md"
    notes.write_text("Fixes the *frobnicator*.\n")
    for folder in ("v1", "v2"):
        (dist.cwd / folder / "tool.tar.gz").write_bytes(b"identical archive bytes")
        (dist.cwd / folder / "README.txt").write_text(f"read me {folder}")

    one = dist("publish", "tool", "1.0.0", "v1/tool.tar.gz=darwin-aarch64", "v1/README.txt", "--json").json()
    two = dist("publish", "tool", "2.0.0", "v2/tool.tar.gz", "v2/README.txt", "--notes-file", str(notes), "--json")
    second = two.json()

    assert [(a["filename"], a["platform"], a["content_type"]) for a in one["artifacts"]] == [
        ("tool.tar.gz", "darwin-aarch64", "application/gzip"),
        ("README.txt", "any", "text/plain"),
    ]
    assert second["notes"] == "Fixes the *frobnicator*.\n"
    assert one["artifacts"][0]["sha256"] == second["artifacts"][0]["sha256"]
    blobs = sorted(p.name for p in (location.root / "objects").glob("*/*"))
    assert blobs == sorted({a["sha256"] for a in one["artifacts"] + second["artifacts"]})
    assert len(blobs) == 3
    assert list((location.root / "tmp").iterdir()) == []


def test_human_output_off_a_terminal_is_plain_text(sqlite_dist: Dist) -> None:
    dist = sqlite_dist
    archive = dist.cwd / "demo.zip"
    archive.write_bytes(b"zip")
    published = dist("publish", "demo", "1.0.0", str(archive), "--channel", "stable", "--notes", "First.")
    assert published.code == 0 and published.err == ""
    assert published.out == "Published demo 1.0.0 (1 artifact), serving on stable\n"
    shown = dist("release", "show", "demo", "1.0.0")
    assert shown.code == 0
    assert "\x1b" not in shown.out
    assert "demo 1.0.0 (published)" in shown.out and "First." in shown.out
    row = next(line for line in shown.out.splitlines() if "demo.zip" in line)
    assert row.split()[:3] == ["demo.zip", "any", "3"] and "application/zip" in row
    assert "stable" in dist("channel", "list", "demo").out
