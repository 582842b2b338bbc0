"""Migration 0002 over a generated store: its hashing throughput vs `sha512sum` over the same blobs, and its memory.

A legacy store is imported, taken back to the 0001 schema (`alembic downgrade 0001`), then timed as a whole
`alembic -x store=DIR upgrade head` process: it creates the blobs table and hashes every referenced blob for its
SHA-512 and SHA-1. The reference hashes the same files with one `sha512sum` process (SHA-512 only, in C).

Targets (issue 12): >= 0.5 of sha512sum's bytes/s; memory flat: the migration's peak on the full store at most
1.25 times its peak on a store ten times smaller.

    python -m bench.migrate [--quick] [--migrate-releases 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from bench.common import (
    DIST,
    REPO_ROOT,
    SERVER_CPU,
    Figure,
    Gap,
    at_least,
    at_most,
    generate_legacy,
    human_bytes,
    log,
    main_for,
    median,
    need_tool,
    pinned,
    run_measured,
)

NAME = "migrate"
APPS = 20
# Blobs up to this many bytes (a uniform draw): enough that hashing, not the rows, is what is measured.
BLOB_BYTES = 16 * 1024
SMALL_FRACTION = 10
FLAT = 1.25


def alembic(store: Path, *command: str) -> list[str]:
    return [sys.executable, "-m", "alembic", "-c", str(REPO_ROOT / "alembic.ini"), "-x", f"store={store}", *command]


def store_at_0001(source: Path, store: Path) -> None:
    """The generated store imported, then taken back to the previous schema."""
    for command in (
        [DIST, "--store", str(store), "store", "import-legacy", str(source)],
        alembic(store, "downgrade", "0001"),
    ):
        done = subprocess.run(command, capture_output=True, text=True, timeout=3600, cwd=REPO_ROOT)
        if done.returncode != 0:
            raise Gap(f"preparing the 0001 store failed: {done.stderr.strip()[-300:]}")


def blob_files(store: Path) -> list[str]:
    return sorted(str(path) for path in (store / "objects").glob("*/*"))


def sha512sum_seconds(files: list[str], work: Path) -> float:
    listing = work / "blobs.txt"
    listing.write_text("\0".join(files))
    command = ["sh", "-c", f"xargs -0 sha512sum < {listing} > /dev/null"]
    seconds, _, _ = run_measured(pinned(command, SERVER_CPU))
    return seconds


def migrate(source: Path, store: Path) -> tuple[float, int]:
    store_at_0001(source, store)
    seconds, hwm, _ = run_measured(alembic(store, "upgrade", "head"), cpu=SERVER_CPU, cwd=REPO_ROOT)
    return seconds, hwm


def run(args: argparse.Namespace, work: Path) -> list[Figure]:
    need_tool("sha512sum")
    releases = args.migrate_releases
    small_releases = max(releases // SMALL_FRACTION, 1)
    source, small = work / "legacy", work / "legacy-small"
    log(f"migrate: generating legacy stores of {releases:,} and {small_releases:,} releases")
    generate_legacy(source, apps=APPS, releases=releases, blob_bytes=BLOB_BYTES)
    generate_legacy(small, apps=APPS, releases=small_releases, blob_bytes=BLOB_BYTES)
    files = blob_files(source)
    total = sum(os.path.getsize(f) for f in files)
    migrate_seconds, hash_seconds, peak = [], [], 0
    for round_ in range(args.repeat):
        seconds, hwm = migrate(source, work / f"store-{round_}")
        migrate_seconds.append(seconds)
        peak = max(peak, hwm)
        hash_seconds.append(sha512sum_seconds(files, work))
        log(f"migrate round {round_ + 1}: alembic upgrade {seconds:.2f}s, sha512sum {hash_seconds[-1]:.2f}s")
    _, small_peak = migrate(small, work / "store-small")
    migrate_rate, hash_rate = total / median(migrate_seconds), total / median(hash_seconds)
    ratio, target, ok = at_least(migrate_rate / hash_rate, 0.5)
    label = f"0002 upgrade, {releases:,} releases ({len(files):,} blobs, {total / 2**20:,.0f} MiB)"
    figures = [
        Figure(
            NAME,
            f"{label} vs sha512sum",
            human_bytes(migrate_rate),
            human_bytes(hash_rate),
            ratio,
            target,
            ok,
            "the whole `alembic upgrade head` process (SHA-512 and SHA-1, rows written) vs one sha512sum process",
        )
    ]
    ratio, target, ok = at_most(peak / small_peak, FLAT)
    figures.append(
        Figure(
            NAME,
            f"0002 upgrade VmHWM, {releases:,} vs {small_releases:,} releases",
            f"{peak / 1024:,.0f} MiB",
            f"{small_peak / 1024:,.0f} MiB",
            ratio,
            target,
            ok,
            f"flat = grows less than {FLAT}x for {SMALL_FRACTION}x the releases",
        )
    )
    return figures


def main() -> None:
    main_for(NAME, run, __doc__ or "")


if __name__ == "__main__":
    main()
