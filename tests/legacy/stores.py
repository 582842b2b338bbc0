"""The legacy fixture stores, written on demand into a test's directory (an import renames db.json, so every test
gets a fresh copy). Each is a db.json with its objects/, in the format of docs/legacy.md:

- minimal: the smallest real store: one app without a name, one release without notes or status, one artifact
  without platform or content_type; no channels, tokens or audit members at all.
- pre-tokens: a file written before API tokens existed (no `tokens` member): two apps, channels with promote and
  rollback history and one channel without a `history` member, bytes shared by artifacts of several releases and
  apps, an id gap.
- typical: every member present: three apps, channels with rollbacks in their history, yanked and pre-release
  versions, Unicode and 2,000-character notes, fractional-second timestamps, id gaps in every kind but audit,
  identical bytes in several releases and apps, audit events without `detail`, tokens in every lifecycle state
  (active, used, expired, revoked, app- and channel-scoped, scoped to an app that does not exist yet).
- broken/*: pre-tokens with one defect each, which an import must refuse whole, naming the record: `broken-json`
  (the file cut short), `dangling-release` (a channel serving release 99999), `duplicate-slug` (app 3 takes app
  2's slug), `bad-enum` (release 3 has status `deleted`), `missing-blob` (the only blob of artifact 9 is gone),
  `cross-app-channel` (app 3's channel serves a release of app 2).

Stores of any size come from tests/legacy/generate.py.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.legacy.builder import File, LegacyStore

GOOD = ["minimal", "pre-tokens", "typical"]


def minimal(root: Path) -> None:
    store = LegacyStore(root)
    hello = store.app("hello")
    store.release(hello, "1.0.0", [File("hello.txt", b"hello world")], actor="cli:root")
    store.save(leave_out=("channels", "tokens", "audit"))


def pre_tokens(root: Path) -> None:
    """Apps 2 (desk) and 3 (term-tool); desk's releases 1-4 with two artifacts each, term-tool's 5 and 6 with one.
    Channel 1 (desk/stable) ends on release 2 after a rollback, channel 2 (desk/beta) has two promotions ending on
    release 4, channel 3 (term-tool/stable) has no history member and serves release 6."""
    store = LegacyStore(root)
    desk = store.app("desk", name="Desk", gap=1)
    term = store.app("term-tool", name="Term Tool")
    installer = b"MZ desk installer that did not change between 1.0.0 and 1.0.1\n"

    def desk_files(version: str, linux: bytes, windows: bytes) -> list[File]:
        return [
            File(f"desk-{version}-linux.tar.gz", linux, "linux-x86_64", "application/gzip"),
            File(f"desk-{version}-setup.exe", windows, "windows-x86_64"),
        ]

    first = store.release(desk, "1.0.0", desk_files("1.0.0", b"desk 1.0.0 for linux\n", installer), notes="First.")
    second = store.release(desk, "1.0.1", desk_files("1.0.1", b"desk 1.0.1 for linux\n", installer), actor="cli:bob")
    third = store.release(
        desk, "1.1.0", desk_files("1.1.0", b"desk 1.1.0 for linux\n", b"MZ desk 1.1.0\n"), status="published"
    )
    beta = store.release(desk, "2.0.0-beta.1", desk_files("2.0.0-beta.1", b"desk 2 beta\n", b"MZ desk 2 beta\n"))
    store.release(term, "0.1.0", [File("term-tool-0.1.0.tar.gz", b"term-tool 0.1.0\n")], notes="")
    latest = store.release(
        term, "0.2.0", [File("term-tool-0.2.0.tar.gz", b"desk 1.0.1 for linux\n", content_type="application/gzip")]
    )

    stable = store.channel(desk, "stable")
    for release in (first, second, third):
        store.promote(desk, stable, release)
    store.rollback(desk, stable, actor="cli:bob")
    channel = store.channel(desk, "beta")
    store.promote(desk, channel, third)
    store.promote(desk, channel, beta)
    term_stable = store.channel(term, "stable", history=False)
    store.promote(term, term_stable, latest)
    store.save(leave_out=("tokens",))


def secret(name: str) -> str:
    """The secret of the typical store's token called `name` (a legacy file holds only its hash)."""
    return "dist_" + hashlib.sha256(f"typical token {name}".encode()).hexdigest()


def typical(root: Path) -> None:
    store = LegacyStore(root)
    atlas = store.app("atlas", name="Atlas Desktop")
    nordwind = store.app("nordwind", name="Nordwind Büro", gap=1)
    tool = store.app("x", name="工具 X", gap=4)
    for name, options in [
        ("ci-active", {"scopes": ["publish"], "used": True}),
        ("ci-unused", {"scopes": ["publish", "admin"]}),
        ("admin-expired", {"scopes": ["admin"], "expires_at": "2024-03-05T00:00:00Z", "used": True}),
        ("ci-revoked", {"scopes": ["admin", "publish"], "revoked": True, "used": True, "gap": 2}),
        ("atlas-ci", {"scopes": ["publish"], "app": "atlas", "expires_at": "2099-12-31T23:59:59.500Z"}),
        ("atlas-beta", {"scopes": ["publish"], "app": "atlas", "channel": "beta", "used": True}),
        ("future-app", {"scopes": ["publish"], "app": "not-created-yet"}),
        ("beta-everywhere", {"scopes": ["publish"], "channel": "beta", "revoked": True}),
    ]:
        store.token(name, secret(name), **options)
    shared = b"\x00\x01 runtime bundle shipped unchanged by several releases and apps \xff" * 8

    def atlas_files(version: str) -> list[File]:
        return [
            File(f"atlas-{version}-linux-x86_64.tar.gz", f"atlas {version} linux".encode(), "linux-x86_64"),
            File(f"Atlas-{version}.dmg", f"atlas {version} mac".encode(), "darwin-aarch64", "application/x-apple"),
            File("runtime.bin", shared, "any", "application/octet-stream"),
        ]

    releases = {}
    for version, notes, minutes, milliseconds in [
        ("1.0.0", "First public release.", 60, 0),
        ("1.1.0", "Schnellere Updates — äöü ß", 1440, 250),
        ("1.2.0", "修复了崩溃问题", 30, 999),
        ("2.0.0-rc.1", 'emoji 🚀 and "quotes"\nsecond line', 90, 1),
        ("2.0.0", ("Everything that changed since 1.2.0. " * 60)[:2000], 45, 0),
        ("2.0.1-beta.2+build.7", "", 5, 500),
    ]:
        gap = 2 if version == "2.0.0" else 0
        releases[version] = store.release(
            atlas,
            version,
            atlas_files(version),
            notes=notes,
            status="published",
            minutes=minutes,
            milliseconds=milliseconds,
            gap=gap,
        )

    nordwind_releases = [
        store.release(
            nordwind,
            version,
            [File(f"nordwind-{version}.zip", f"nordwind {version}".encode(), "windows-x86_64", "application/zip")],
            notes=notes,
            status=status,
            actor="token:3",
        )
        for version, notes, status in [
            ("0.9.0", "Vorabversion", "published"),
            ("1.0.0", "", "published"),
            ("1.0.1", "Zurückgezogen: falsche Signatur", "yanked"),
        ]
    ]
    tool_files = [File("x.tar.gz", shared, "linux-aarch64", "application/gzip"), File("x.txt", b"", "any", "text/x")]
    tool_release = store.release(tool, "3.0.0-alpha", tool_files, notes="", status="published", actor="cli:root")
    store.artifact(tool_release, File("x-extra.bin", b"x extra", "linux-x86_64", "application/octet-stream"), gap=3)

    stable = store.channel(atlas, "stable")
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        store.promote(atlas, stable, releases[version])
    store.rollback(atlas, stable, actor="token:1")
    store.yank(atlas, releases["1.2.0"], actor="token:1")
    store.promote(atlas, stable, releases["2.0.0"])
    beta = store.channel(atlas, "beta", gap=1)
    store.promote(atlas, beta, releases["2.0.0-rc.1"], actor="token:1")
    store.promote(atlas, beta, releases["2.0.1-beta.2+build.7"], actor="token:1")
    nightly = store.channel(atlas, "edge_internal")
    store.promote(atlas, nightly, releases["2.0.1-beta.2+build.7"])
    nordwind_stable = store.channel(nordwind, "stable")
    store.promote(nordwind, nordwind_stable, nordwind_releases[0])
    store.promote(nordwind, nordwind_stable, nordwind_releases[1])
    store.rollback(nordwind, nordwind_stable)
    rc = store.channel(tool, "rc.1")
    store.promote(tool, rc, tool_release)

    store.save()


def _edit(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    """A broken store: pre-tokens with `change` made to its document."""

    def write(root: Path) -> None:
        pre_tokens(root)
        document = json.loads((root / "db.json").read_text(encoding="utf-8"))
        change(document)
        (root / "db.json").write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    return write


def _record(document: dict[str, Any], member: str, record_id: int) -> dict[str, Any]:
    return next(record for record in document[member] if record["id"] == record_id)


def _cut_short(root: Path) -> None:
    pre_tokens(root)
    text = (root / "db.json").read_bytes()
    (root / "db.json").write_bytes(text[: len(text) // 2])


def _missing_blob(root: Path) -> None:
    pre_tokens(root)
    document = json.loads((root / "db.json").read_text(encoding="utf-8"))
    sha256 = _record(document, "artifacts", 9)["sha256"]
    (root / "objects" / sha256[:2] / sha256).unlink()


BROKEN: dict[str, Callable[[Path], None]] = {
    "bad-enum": _edit(lambda d: _record(d, "releases", 3).update(status="deleted")),
    "broken-json": _cut_short,
    "cross-app-channel": _edit(lambda d: _record(d, "channels", 3).update(release_id=2)),
    "dangling-release": _edit(lambda d: _record(d, "channels", 3).update(release_id=99999)),
    "duplicate-slug": _edit(lambda d: _record(d, "apps", 3).update(slug="desk")),
    "missing-blob": _missing_blob,
}
WRITERS: dict[str, Callable[[Path], None]] = {
    "minimal": minimal,
    "pre-tokens": pre_tokens,
    "typical": typical,
    **{f"broken/{name}": write for name, write in BROKEN.items()},
}


def write_fixture(name: str, root: Path) -> Path:
    """The fixture store `name` ("typical", "broken/bad-enum", …) written into `root` (created if need be)."""
    root.mkdir(parents=True, exist_ok=True)
    WRITERS[name](root)
    return root
