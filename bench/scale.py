"""Scale: publish, promote and the update check in a store of 1,000 releases vs one of 100,000.

Both stores are written by tests/legacy/generate.py with the same number of apps (so the big store's apps
also hold 100 times more releases each) and imported on first load. Two distd processes serve them side by side
on the server core; the operations alternate between them, so that the machine's drift hits both alike, and
the median time of each operation is compared.

Each round also reads every update feed (bench/feeds.py) of a release of its own, right after the round's
promote emptied the read cache.

Targets (issues 7 and 13): large / small <= 1.5 for each operation and each uncached feed read: their cost does
not grow with the store.

    python -m bench.scale [--quick] [--scale-small 1000] [--scale-large 100000]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from bench.common import (
    CLIENT_CPU,
    Figure,
    Gap,
    at_most,
    distd,
    gap_note,
    generate_legacy,
    log,
    main_for,
    median,
    open_legacy,
    publish_blob,
    publish_release,
)
from bench.feeds import feed_paths, publish_feed_releases

NAME = "scale"
APPS = 10
CHANNEL = "bench"
PLATFORM = "linux-x86_64"
CHECKS_PER_ROUND = 5
# The feeds read a release of their own on this channel; each round's promote (a commit) empties the read cache,
# so every feed read of the round is an uncached one.
FEED_CHANNEL = "feeds"
FEED_VERSIONS = ("2000.0.0",)


@contextlib.contextmanager
def client_core() -> Iterator[None]:
    """Run this process's requests from the client core while the servers keep the other one."""
    if CLIENT_CPU is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {CLIENT_CPU})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


class Target:
    """One store behind its server, and the timings of the operations made on it."""

    def __init__(self, client: httpx.Client, token: str, slug: str) -> None:
        self.client = client
        self.auth = {"Authorization": f"Bearer {token}"}
        self.token = token
        self.slug = slug
        self.times: dict[str, list[float]] = {"publish": [], "promote": [], "update check": []}
        self.feeds = feed_paths(slug, FEED_CHANNEL)
        for name in self.feeds:
            self.times[f"feed, uncached: {name}"] = []

    def round(self, n: int) -> None:
        version = f"1000.{n}.0"
        digest = publish_blob(self.client, self.token, os.urandom(1024))
        start = time.perf_counter()
        publish_release(self.client, self.token, self.slug, version, digest, platform=PLATFORM)
        self.times["publish"].append(time.perf_counter() - start)
        start = time.perf_counter()
        promoted = self.client.post(
            f"/api/apps/{self.slug}/channels/{CHANNEL}/promote", json={"version": version}, headers=self.auth
        )
        self.times["promote"].append(time.perf_counter() - start)
        if promoted.status_code != 200:
            raise Gap(f"promote answered {promoted.status_code}: {promoted.text[:200]}")
        latest = f"/api/apps/{self.slug}/channels/{CHANNEL}/latest?platform={PLATFORM}&current=0.0.1"
        for _ in range(CHECKS_PER_ROUND):
            start = time.perf_counter()
            answer = self.client.get(latest)
            self.times["update check"].append(time.perf_counter() - start)
            if answer.status_code != 200:
                raise Gap(f"the update check answered {answer.status_code}: {answer.text[:200]}")
        for name, path in self.feeds.items():
            start = time.perf_counter()
            answer = self.client.get(path)
            self.times[f"feed, uncached: {name}"].append(time.perf_counter() - start)
            if answer.status_code != 200:
                raise Gap(f"the {name} feed answered {answer.status_code}: {answer.text[:200]}")


def prepare(store: Path, releases: int) -> tuple[str, str, str]:
    log(f"scale: generating and importing a store of {releases:,} releases")
    generated = generate_legacy(store, apps=APPS, releases=releases)
    token, note = open_legacy(store)
    return str(generated["apps"][0]["slug"]), token, note


def run(args: argparse.Namespace, work: Path) -> list[Figure]:
    small_store, large_store = work / "small", work / "large"
    small_slug, small_token, small_note = prepare(small_store, args.scale_small)
    large_slug, large_token, large_note = prepare(large_store, args.scale_large)
    rounds = 8 if args.quick else 30
    with (
        distd(small_store, work) as small_server,
        distd(large_store, work) as large_server,
        httpx.Client(base_url=small_server.base, timeout=60) as small_client,
        httpx.Client(base_url=large_server.base, timeout=60) as large_client,
        client_core(),
    ):
        small = Target(small_client, small_token, small_slug)
        large = Target(large_client, large_token, large_slug)
        for target in (small, large):
            publish_feed_releases(
                target.client, target.token, target.slug, channel=FEED_CHANNEL, versions=FEED_VERSIONS
            )
        for n in range(rounds):
            small.round(n)
            large.round(n)
    figures = []
    for operation in small.times:
        small_ms, large_ms = median(small.times[operation]) * 1000, median(large.times[operation]) * 1000
        log(f"scale {operation}: {small_ms:.2f} ms vs {large_ms:.2f} ms")
        figures.append(
            Figure(
                NAME,
                f"{operation}: {args.scale_large:,} vs {args.scale_small:,} releases",
                f"{large_ms:.2f} ms",
                f"{small_ms:.2f} ms",
                *at_most(large_ms / small_ms, 1.5),
                f"median of {len(small.times[operation])}; apps hold {args.scale_large // APPS:,} vs "
                f"{args.scale_small // APPS:,} releases",
            )
        )
    return figures + [gap_note(NAME, note) for note in dict.fromkeys((small_note, large_note)) if note]


def main() -> None:
    main_for(NAME, run, __doc__ or "")


if __name__ == "__main__":
    main()
