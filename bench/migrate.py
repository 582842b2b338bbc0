"""Migration 0002 over a generated store: its hashing throughput vs `sha512sum` over the same blobs, and its memory.

A legacy store is imported, taken back to the 0001 schema (`alembic downgrade 0001`), then timed as a whole
`alembic -x store=DIR upgrade 0002_blobs_signatures` process: it creates the blobs table, hashes every referenced
blob for its SHA-512 and SHA-1, and widens the ids (on SQLite, by rebuilding every table). The later migrations
are not part of it. The reference hashes the same files with one `sha512sum` process (SHA-512 only, in C); both
run on the same single core.

Targets (issue 12): its hashing, >= 0.5 of sha512sum's bytes/s: the phase that reads every blob, computes its
SHA-256 (to check it), SHA-512 and SHA-1 and writes its row, as the migration itself reports it ("0002: hashed N
blobs, B bytes, in S s"); memory flat: the migration's peak on the full store at most 1.25 times its peak on a
store ten times smaller. The whole process (interpreter start, the tables rebuilt) is shown beside it.

    python -m bench.migrate [--quick] [--migrate-releases 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import re
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
MIGRATION = "0002_blobs_signatures"
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


HASHED = re.compile(r"0002: hashed (\d+) blobs, (\d+) bytes, in ([0-9.]+) s")


def migrate(source: Path, store: Path) -> tuple[float, int, float]:
    """The upgrade's whole time, its VmHWM and the time of its hashing phase."""
    store_at_0001(source, store)
    command = alembic(store, "upgrade", MIGRATION)
    seconds, hwm, output = run_measured(command, cpu=SERVER_CPU, cwd=REPO_ROOT, with_stderr=True)
    found = HASHED.search(output)
    if found is None:
        raise Gap(f"the migration did not report its hashing: {output.strip()[-300:]}")
    return seconds, hwm, float(found.group(3))


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
    migrate_seconds, hashing_seconds, hash_seconds, peak = [], [], [], 0
    for round_ in range(args.repeat):
        seconds, hwm, hashing = migrate(source, work / f"store-{round_}")
        migrate_seconds.append(seconds)
        hashing_seconds.append(hashing)
        peak = max(peak, hwm)
        hash_seconds.append(sha512sum_seconds(files, work))
        log(
            f"migrate round {round_ + 1}: alembic upgrade {MIGRATION} {seconds:.2f}s (hashing {hashing:.2f}s), "
            f"sha512sum {hash_seconds[-1]:.2f}s"
        )
    _, small_peak, _ = migrate(small, work / "store-small")
    migrate_rate, hash_rate = total / median(migrate_seconds), total / median(hash_seconds)
    hashing_rate = total / median(hashing_seconds)
    ratio, target, ok = at_least(hashing_rate / hash_rate, 0.5)
    label = f"0002 hashing, {releases:,} releases ({len(files):,} blobs, {total / 2**20:,.0f} MiB)"
    figures = [
        Figure(
            NAME,
            f"{label} vs sha512sum",
            human_bytes(hashing_rate),
            human_bytes(hash_rate),
            ratio,
            target,
            ok,
            "SHA-256, SHA-512 and SHA-1 of every blob and its row written, as the migration reports it, on one core",
        ),
        Figure(
            NAME,
            "the whole `alembic upgrade 0002` process vs sha512sum",
            human_bytes(migrate_rate),
            human_bytes(hash_rate),
            migrate_rate / hash_rate,
            "-",
            None,
            "with the interpreter's start and every table rebuilt to widen its ids (SQLite)",
        ),
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
