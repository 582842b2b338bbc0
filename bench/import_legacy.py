"""Import: rows/s of a legacy store imported into SQLite and PostgreSQL vs a raw `executemany` of the same rows.

The legacy store is written by tests/legacy/generate.py. dist imports it with `dist store import-legacy`
into a store whose schema is already at head; the reference (bench/raw_import.py) writes the same rows into
the same schema with one DB-API `executemany` per table. Both are whole processes, timed from start to end, and
their peak resident memory (VmHWM, from wait4) is reported. PostgreSQL databases are created and dropped here.

Targets (issue 7, raised by issue 12): >= 0.6 of the raw rows/s; memory flat: the importer's peak on the full
store at most 1.25 times its peak on a store ten times smaller.

    python -m bench.import_legacy [--quick] [--import-releases 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from bench.common import (
    DIST,
    PG_ADMIN_URL,
    REPO_ROOT,
    SERVER_CPU,
    Figure,
    Gap,
    at_least,
    at_most,
    dist,
    generate_legacy,
    log,
    main_for,
    median,
    run_measured,
)

NAME = "import"
APPS = 20
# Memory is flat when an import of SMALL_FRACTION times more rows peaks less than FLAT times higher.
SMALL_FRACTION = 10
FLAT = 1.25


@contextlib.contextmanager
def postgres_database(name: str) -> Iterator[str]:
    """A new PostgreSQL database at the schema's head, dropped when the block ends."""
    import psycopg

    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True)
    except psycopg.Error as error:
        raise Gap(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {error}") from error
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
            run_measured(
                [str(Path(sys.executable).parent / "alembic"), "upgrade", "head"],
                env={"DIST_DATABASE_URL": url},
                cwd=REPO_ROOT,
            )
            yield url
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def target(engine: str, work: Path, label: str) -> Iterator[tuple[Path, str | None, str]]:
    """An empty store at head: its directory, its database URL (None: embedded SQLite) and a DB-API URL."""
    store = work / label
    if engine == "sqlite":
        dist(store, "init")
        yield store, None, f"sqlite:///{store / 'dist.db'}"
        return
    with postgres_database(f"dist_bench_{os.getpid()}_{label}".replace("-", "_")) as url:
        yield store, url, url


def measure(engine: str, source: Path, work: Path, repeat: int) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {"dist": [], "raw": [], "dist_hwm": [], "raw_hwm": [], "rows": []}
    for n in range(repeat):
        with target(engine, work, f"{engine}-dist-{n}") as (store, url, _):
            command = [DIST, "--store", str(store)] + (["--database-url", url] if url else [])
            seconds, hwm, _ = run_measured([*command, "store", "import-legacy", str(source)], cpu=SERVER_CPU)
            found["dist"].append(seconds)
            found["dist_hwm"].append(hwm)
        with target(engine, work, f"{engine}-raw-{n}") as (_, _, raw_url):
            seconds, hwm, out = run_measured(
                [sys.executable, "-m", "bench.raw_import", raw_url, str(source)], cpu=SERVER_CPU, cwd=REPO_ROOT
            )
            found["raw"].append(seconds)
            found["raw_hwm"].append(hwm)
            found["rows"].append(float(out.strip()))
        log(f"import {engine} round {n + 1}: dist {found['dist'][-1]:.2f}s raw {found['raw'][-1]:.2f}s")
    return found


def importer_peak(engine: str, source: Path, work: Path) -> float:
    """The importer's VmHWM in MiB for one import of `source`."""
    with target(engine, work, f"{engine}-small") as (store, url, _):
        command = [DIST, "--store", str(store)] + (["--database-url", url] if url else [])
        return run_measured([*command, "store", "import-legacy", str(source)], cpu=SERVER_CPU)[1] / 1024


def run(args: argparse.Namespace, work: Path) -> list[Figure]:
    source, small = work / "legacy", work / "legacy-small"
    small_releases = max(100, args.import_releases // SMALL_FRACTION)
    log(f"import: generating legacy stores of {args.import_releases:,} and {small_releases:,} releases")
    generate_legacy(source, apps=APPS, releases=args.import_releases, blob_bytes=256)
    generate_legacy(small, apps=APPS, releases=small_releases, blob_bytes=256)
    figures = []
    for engine in ("sqlite", "postgresql"):
        try:
            found = measure(engine, source, work, args.repeat)
            small_peak = importer_peak(engine, small, work)
        except Gap as missing:
            figures.append(
                Figure(NAME, f"{engine}: rows/s vs raw executemany", "-", "-", None, ">= 0.6", None, str(missing))
            )
            continue
        rows = found["rows"][0]
        dist_rate, raw_rate = rows / median(found["dist"]), rows / median(found["raw"])
        figures.append(
            Figure(
                NAME,
                f"{engine}: {args.import_releases:,} releases ({rows:,.0f} rows) vs raw executemany",
                f"{dist_rate:,.0f} rows/s",
                f"{raw_rate:,.0f} rows/s",
                *at_least(dist_rate / raw_rate, 0.6),
                f"dist {median(found['dist']):.2f}s vs raw {median(found['raw']):.2f}s, whole processes",
            )
        )
        peak, raw_peak = max(found["dist_hwm"]) / 1024, max(found["raw_hwm"]) / 1024
        figures.append(
            Figure(
                NAME,
                f"{engine}: importer VmHWM, {args.import_releases:,} vs {small_releases:,} releases",
                f"{peak:,.0f} MiB",
                f"{small_peak:,.0f} MiB",
                *at_most(peak / small_peak, FLAT),
                f"flat = grows less than {FLAT:g}x for {SMALL_FRACTION}x the rows; the raw reference, which "
                f"holds db.json parsed whole, peaks at {raw_peak:,.0f} MiB",
            )
        )
    return figures


def main() -> None:
    main_for(NAME, run, __doc__ or "")


if __name__ == "__main__":
    main()
