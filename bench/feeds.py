"""Update feeds: each feed cached under many connections vs the bare JSON endpoint, and uncached (a commit
before every read) on an app with `--list-releases` releases.

The store is a generated legacy store of one app (tests/legacy/generate.py), plus two releases published
through the API with an artifact for every feed (mac .zip, Windows .exe and full .nupkg, Linux AppImage, Tauri
bundles) and promoted onto channel `bench`. Cached: wrk `--latency` on each feed URL, 32 connections, against
`GET /json` of bench/bare_app.py. Uncached: the two releases are promoted in turn, each promote a commit that
empties the read cache, and only the feed read that follows is timed.

Targets (issue 13): each feed cached >= 0.5 of the bare endpoint's requests/s with p99 <= 20 ms; uncached on a
10,000-release app p99 <= 20 ms.

    python -m bench.feeds [--quick] [--list-releases 10000] [--connections 32] [--duration 8] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    Figure,
    Gap,
    at_least,
    at_most,
    bare,
    distd,
    gap_note,
    log,
    main_for,
    minisign_signature,
    publish_blob,
)
from bench.loadgen import wrk_median
from bench.reads import prepare

NAME = "feeds"
CHANNEL = "bench"
# Above every version the generator writes (it counts up to 99.9.9).
VERSIONS = ("1000.0.0", "1000.1.0")
# The feed paths under /feeds/{slug}/, each answering 200 for the releases published here.
FEEDS = {
    "electron (mac yml)": "electron/bench-mac.yml",
    "squirrel mac": "squirrel/bench/darwin-universal/0.0.1",
    "squirrel RELEASES": "squirrel/bench/windows-x86_64/0.0.1/RELEASES",
    "tauri dynamic": "tauri/bench/linux/x86_64/0.0.1",
    "tauri static": "tauri/bench.json",
    "sparkle appcast": "sparkle/appcast.xml",
}
ARTIFACTS = (
    ("App-{v}-mac.zip", "darwin-universal"),
    ("App Setup {v}.exe", "windows-x86_64"),
    ("App-{v}-full.nupkg", "windows-x86_64"),
    ("App-{v}.AppImage", "linux-x86_64"),
)
UNCACHED_READS = {True: 60, False: 300}


def artifacts(client: httpx.Client, token: str, version: str) -> list[dict[str, Any]]:
    """One 4 KiB artifact per entry of ARTIFACTS, each with a minisign signature (Tauri offers only signed ones)."""
    made = []
    for name, platform in ARTIFACTS:
        data = os.urandom(4096)
        made.append(
            {
                "filename": name.format(v=version),
                "platform": platform,
                "sha256": publish_blob(client, token, data),
                "signatures": {"minisign": minisign_signature(data)},
            }
        )
    return made


def publish_feed_releases(
    client: httpx.Client, token: str, slug: str, *, channel: str = CHANNEL, versions: tuple[str, ...] = VERSIONS
) -> None:
    """Releases with an artifact for every feed, the first promoted onto `channel`."""
    auth = {"Authorization": f"Bearer {token}"}
    for version in versions:
        body: dict[str, Any] = {"version": version, "artifacts": artifacts(client, token, version)}
        if version == versions[0]:
            body["channel"] = channel
        response = client.post(f"/api/apps/{slug}/releases", json=body, headers=auth)
        if response.status_code != 201:
            raise Gap(f"publishing {version} answered {response.status_code}: {response.text[:200]}")


def feed_paths(slug: str, channel: str = CHANNEL) -> dict[str, str]:
    """Each feed's path for `channel` of `slug` (the appcast covers every channel)."""
    return {name: f"/feeds/{slug}/" + path.replace(CHANNEL, channel) for name, path in FEEDS.items()}


def check_feeds(client: httpx.Client, slug: str, channel: str = CHANNEL) -> None:
    for name, path in feed_paths(slug, channel).items():
        answer = client.get(path)
        if answer.status_code != 200:
            raise Gap(f"the {name} feed answered {answer.status_code}: {answer.text[:200]}")


def uncached_p99(client: httpx.Client, token: str, slug: str, path: str, reads: int) -> float:
    """p99 in ms of a feed read made right after a commit (a promote), which empties the read cache."""
    auth = {"Authorization": f"Bearer {token}"}
    times: list[float] = []
    for n in range(reads):
        version = VERSIONS[(n + 1) % 2]
        moved = client.post(f"/api/apps/{slug}/channels/{CHANNEL}/promote", json={"version": version}, headers=auth)
        if moved.status_code != 200:
            raise Gap(f"promote answered {moved.status_code}: {moved.text[:200]}")
        start = time.perf_counter()
        answer = client.get(f"/feeds/{slug}/{path}")
        times.append(time.perf_counter() - start)
        if answer.status_code != 200:
            raise Gap(f"{path} answered {answer.status_code} after a promote: {answer.text[:200]}")
    times.sort()
    return times[min(len(times) - 1, int(len(times) * 0.99))] * 1000


def run(args: argparse.Namespace, work: Path) -> list[Figure]:
    store = work / "store"
    slug, token, note = prepare(store, args.list_releases)
    load = {"connections": args.connections, "duration": args.duration, "repeat": args.repeat}
    conn = f"{args.connections} conn"
    figures: list[Figure] = []
    with distd(store, work) as server, bare(work, work / "bare-out") as reference:
        with httpx.Client(base_url=server.base, timeout=60) as client:
            publish_feed_releases(client, token, slug)
            check_feeds(client, slug)
        bare_load = wrk_median(reference.base + "/json", **load)
        for name, path in FEEDS.items():
            feed_load = wrk_median(f"{server.base}/feeds/{slug}/{path}", **load)
            log(f"feeds: {name} cached {feed_load}, bare {bare_load}")
            figures += [
                Figure(
                    NAME,
                    f"{name}, cached, req/s vs bare JSON, {conn}",
                    f"{feed_load.requests_per_second:,.0f} req/s",
                    f"{bare_load.requests_per_second:,.0f} req/s",
                    *at_least(feed_load.requests_per_second / bare_load.requests_per_second, 0.5),
                    f"p50 {feed_load.p50_ms:.1f} ms, bare p50 {bare_load.p50_ms:.1f} ms",
                ),
                Figure(
                    NAME,
                    f"{name}, cached, p99, {conn}",
                    f"{feed_load.p99_ms:.1f} ms",
                    f"bare {bare_load.p99_ms:.1f} ms",
                    *at_most(feed_load.p99_ms / 20.0, 1.0),
                    "ratio = p99 / 20 ms",
                ),
            ]
        with httpx.Client(base_url=server.base, timeout=60) as client:
            for name, path in FEEDS.items():
                p99 = uncached_p99(client, token, slug, path, UNCACHED_READS[args.quick])
                log(f"feeds: {name} uncached p99 {p99:.1f} ms")
                figures.append(
                    Figure(
                        NAME,
                        f"{name}, uncached p99, {args.list_releases:,}-release app",
                        f"{p99:.1f} ms",
                        "20 ms",
                        *at_most(p99 / 20.0, 1.0),
                        f"ratio = p99 / 20 ms; {UNCACHED_READS[args.quick]} reads, each after a promote",
                    )
                )
    return figures + ([gap_note(NAME, note)] if note else [])


def main() -> None:
    main_for(NAME, run, __doc__ or "")


if __name__ == "__main__":
    main()
