"""Write a legacy store (db.json + objects/, docs/legacy.md) of any size, for tests and benchmarks.

    python -m tests.legacy.generate OUT [--apps 3] [--releases 30] [--artifacts-per-release 2] [--tokens 6]
                                        [--blob-bytes 512] [--seed 1] [--no-tokens-member]

What a store of the JSON-file era held, drawn from a seeded random source, so the same arguments write the same
bytes: ids with gaps, apps with and without a name, SemVer versions (some pre-releases, all below 1000.0.0 up to
ten million releases per app), Unicode and empty notes, yanked releases, artifacts with and without their
optional members, identical bytes shipped again by later releases, channels with promote and rollback history
(and some without a history member), tokens in every lifecycle state, and the audit event of every action.
Releases are spread evenly over the apps.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Any

from tests.legacy.builder import File, LegacyStore, Record

PLATFORMS = ("linux-x86_64", "linux-aarch64", "darwin-aarch64", "darwin-x86_64", "windows-x86_64", "any")
CHANNELS = ("stable", "beta", "nightly", "rc.1", "edge_internal")
NAMES = ("Atlas Desktop", "Nordwind Büro", "工具", "Términal ✓")
NOTES = ("", "Crash fix.", "Schnellere Updates — äöü ß", "修复了崩溃问题", 'emoji 🚀, "quotes"\nand a line')
LONG_NOTES = "A long changelog line. " * 87
PRE_RELEASES = ("-beta.1", "-rc.2+build.7", "-alpha")
ACTORS = ("cli:alice", "cli:bob", "token:1")
EXPIRIES = (None, "2024-02-01T00:00:00Z", "2099-01-01T00:00:00Z")
# Blobs kept in memory for shipping again: a bound, so that memory stays flat with the store's size.
RECENT_BLOBS = 64


def version(number: int) -> str:
    """The number-th version of an app: 0.0.0, 0.0.1, … 0.0.99, 0.1.0, … (unique, and below 1000.0.0)."""
    return f"{number // 10_000}.{number // 100 % 100}.{number % 100}"


def gap(rng: random.Random) -> int:
    """Ids skipped before the next record: mostly none, sometimes a few (records deleted in the file's life)."""
    return rng.choice((0, 0, 0, 0, 1, 6))


def generate(
    out: Path,
    *,
    apps: int = 3,
    releases: int = 30,
    artifacts_per_release: int = 2,
    tokens: int = 6,
    blob_bytes: int = 512,
    seed: int = 1,
    tokens_member: bool = True,
) -> dict[str, list[Record]]:
    """The store written into `out` (created if need be); returns its db.json document."""
    rng = random.Random(seed)
    store = LegacyStore(out)
    recent: list[bytes] = []

    def blob() -> bytes:
        if recent and rng.random() < 0.2:
            return rng.choice(recent)
        data = rng.randbytes(rng.randint(0, blob_bytes))
        recent.append(data)
        if len(recent) > RECENT_BLOBS:
            recent.pop(0)
        return data

    app_records = []
    for n in range(apps):
        slug = f"{rng.choice(('acme', 'north-wind', 'x', 'tool9'))}-{n}"
        name = rng.choice(NAMES) if rng.random() < 0.8 else None
        app_records.append(store.app(slug, name=name, gap=gap(rng)))

    for index, app in enumerate(app_records):
        count = releases // apps + (1 if index < releases % apps else 0)
        published = []
        for number in range(count):
            files = []
            name = version(number) + (rng.choice(PRE_RELEASES) if rng.random() < 0.1 else "")
            for platform in rng.sample(PLATFORMS, min(artifacts_per_release, len(PLATFORMS))):
                files.append(
                    File(
                        f"{app['slug']}-{name}-{platform}.tar.gz",
                        blob(),
                        platform if platform != "any" or rng.random() < 0.5 else None,
                        "application/gzip" if rng.random() < 0.5 else None,
                    )
                )
            notes = rng.choice((*NOTES, LONG_NOTES)) if rng.random() < 0.8 else None
            status = "published" if rng.random() < 0.5 else None
            release = store.release(
                app,
                name,
                files,
                notes=notes,
                status=status,
                actor=rng.choice(ACTORS),
                minutes=rng.randint(1, 600),
                milliseconds=rng.choice((0, 0, 250, 999)),
                gap=gap(rng),
            )
            if rng.random() < 0.05:
                store.yank(app, release, actor=rng.choice(ACTORS))
            else:
                published.append(release)
        if published:
            _channels(store, rng, app, published)

    for n in range(tokens):
        store.token(
            f"ci-{n}",
            "dist_" + rng.randbytes(32).hex(),
            scopes=rng.choice((["publish"], ["publish", "admin"], ["admin"], ["admin", "publish"])),
            app=rng.choice((None, app_records[0]["slug"] if app_records else None, "not-created-yet")),
            channel=rng.choice((None, None, "beta")),
            expires_at=rng.choice(EXPIRIES),
            revoked=rng.random() < 0.3,
            used=rng.random() < 0.5,
            gap=gap(rng),
        )

    return store.save(leave_out=() if tokens_member else ("tokens",))


def _channels(store: LegacyStore, rng: random.Random, app: Record, published: list[Record]) -> None:
    """Up to three channels of the app, each moved a few times between its published releases."""
    for name in rng.sample(CHANNELS, rng.randint(0, 3)):
        channel = store.channel(app, name, history=rng.random() < 0.9, gap=gap(rng))
        depth = 0
        for _ in range(rng.randint(1, 6)):
            actor = rng.choice(ACTORS)
            if depth > 1 and rng.random() < 0.3:
                store.rollback(app, channel, actor=actor)
                depth -= 1
                continue
            choices = [r for r in published if r["id"] != channel["release_id"]]
            if choices:
                store.promote(app, channel, rng.choice(choices), actor=actor)
                depth += 1
        if channel["release_id"] is None:
            store.promote(app, channel, published[0])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.legacy.generate", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("out", type=Path, help="the store directory to write (db.json and objects/)")
    parser.add_argument("--apps", type=int, default=3)
    parser.add_argument("--releases", type=int, default=30, help="in all, spread evenly over the apps")
    parser.add_argument("--artifacts-per-release", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=6)
    parser.add_argument("--blob-bytes", type=int, default=512, help="the largest blob; 0 makes every blob empty")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-tokens-member", action="store_true", help="write a file from before API tokens")
    args = parser.parse_args(argv)
    if args.apps < 1 and args.releases > 0:
        parser.error("releases need at least one app")
    document: dict[str, Any] = generate(
        args.out,
        apps=args.apps,
        releases=args.releases,
        artifacts_per_release=args.artifacts_per_release,
        tokens=args.tokens,
        blob_bytes=args.blob_bytes,
        seed=args.seed,
        tokens_member=not args.no_tokens_member,
    )
    print(" ".join(f"{member}={len(records)}" for member, records in document.items()))


if __name__ == "__main__":
    main()
