"""Update check and reads: requests/s and p99 under many connections vs a bare Starlette JSON endpoint.

The store is a legacy store of one app with `--list-releases` releases (tests/legacy/generate.py), imported
on first load, plus one release published and promoted onto channel `bench` through the API. wrk runs on the
client core with `--latency`; distd and the bare endpoint (bench/bare_app.py) run one worker on the server core.

Targets: the update check at >= 0.8 of the bare endpoint's requests/s (issue 11: the typed contract and the
telemetry must not cost it) with p99 < 20 ms; the release list of an app with 10,000 releases at p99 <= 10 ms
(issue 11; issue 7 asked for 100 ms).

    python -m bench.reads [--quick] [--list-releases 10000] [--connections 32] [--duration 8] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import httpx

from bench.common import (
    Figure,
    Gap,
    at_least,
    at_most,
    bare,
    distd,
    gap_note,
    generate_legacy,
    log,
    main_for,
    open_legacy,
    publish_blob,
    publish_release,
)
from bench.loadgen import wrk_median

NAME = "reads"
CHANNEL = "bench"
PLATFORM = "linux-x86_64"
# Above every version the generator writes (they stay below 1000.0.0).
BENCH_VERSION = "1000.0.0"


def prepare(store: Path, releases: int) -> tuple[str, str, str]:
    """A store holding one app with `releases` releases: the app's slug, a publish token, how it was loaded."""
    log(f"reads: generating a legacy store of {releases:,} releases")
    generated = generate_legacy(store, apps=1, releases=releases)
    token, note = open_legacy(store)
    return str(generated["apps"][0]["slug"]), token, note


def run(args: argparse.Namespace, work: Path) -> list[Figure]:
    store = work / "store"
    slug, token, note = prepare(store, args.list_releases)
    with distd(store, work) as server, bare(work, work / "bare-out") as reference:
        with httpx.Client(base_url=server.base, timeout=60) as client:
            digest = publish_blob(client, token, os.urandom(4096))
            publish_release(client, token, slug, BENCH_VERSION, digest, channel=CHANNEL, platform=PLATFORM)
            latest = f"/api/apps/{slug}/channels/{CHANNEL}/latest?platform={PLATFORM}&current=0.0.1"
            check = client.get(latest)
            if check.status_code != 200 or check.json().get("release", {}).get("version") != BENCH_VERSION:
                raise Gap(f"the update check answered {check.status_code}: {check.text[:200]}")
            listing = client.get(f"/api/apps/{slug}/releases")
            if listing.status_code != 200 or not listing.json().get("releases"):
                raise Gap(f"the release list answered {listing.status_code}: {listing.text[:200]}")
            listed = len(listing.json()["releases"])
        load = {"connections": args.connections, "duration": args.duration, "repeat": args.repeat}
        bare_load = wrk_median(reference.base + "/json", **load)
        check_load = wrk_median(server.base + latest, **load)
        list_load = wrk_median(f"{server.base}/api/apps/{slug}/releases", **load)
    log(f"reads: bare {bare_load}, latest {check_load}, list {list_load}")
    conn = f"{args.connections} conn"
    figures = [
        Figure(
            NAME,
            f"update check req/s vs bare JSON, {conn}",
            f"{check_load.requests_per_second:,.0f} req/s",
            f"{bare_load.requests_per_second:,.0f} req/s",
            *at_least(check_load.requests_per_second / bare_load.requests_per_second, 0.8),
            f"p50 {check_load.p50_ms:.1f} ms, bare p50 {bare_load.p50_ms:.1f} ms",
        ),
        Figure(
            NAME,
            f"update check p99, {conn}",
            f"{check_load.p99_ms:.1f} ms",
            f"bare {bare_load.p99_ms:.1f} ms",
            *at_most(check_load.p99_ms / 20.0, 1.0),
            "ratio = p99 / 20 ms",
        ),
        Figure(
            NAME,
            f"release list p99, {args.list_releases:,}-release app, {conn}",
            f"{list_load.p99_ms:.1f} ms",
            f"bare {bare_load.p99_ms:.1f} ms",
            *at_most(list_load.p99_ms / 10.0, 1.0),
            f"ratio = p99 / 10 ms; {list_load.requests_per_second:,.0f} req/s; first page of {listed} releases",
        ),
    ]
    return figures + ([gap_note(NAME, note)] if note else [])


def main() -> None:
    main_for(NAME, run, __doc__ or "")


if __name__ == "__main__":
    main()
