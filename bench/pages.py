"""Download pages and counting: downloads with counting on vs off, and the app page of a large app.

- Downloads of a release's file (`GET /api/apps/{slug}/releases/{version}/artifacts/{filename}`, the route that
  counts per artifact) of a 64 MiB and a 4 KiB file, wrk, from a distd counting (`--counts-interval 5`, the
  default) and from the same store served by a distd with `--counts-interval 0`. Target (issue 15): >= 0.95.
- The app page `/apps/{slug}` of an app with 10,000 releases (the test suite's generator), wrk `--latency` at
  32 connections, against `GET /json` of `bench/bare_app.py`. Targets: p99 <= 50 ms; >= 0.3 of the bare
  endpoint's req/s; HTML + CSS <= 60 KB.

    python -m bench.pages [--quick] [--large-blob 64MiB] [--small-blob 4KiB] [--list-releases 10000]
                          [--connections 32] [--duration 8] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

import httpx

from bench.common import (
    Figure,
    Gap,
    at_least,
    at_most,
    bare,
    create_token,
    distd,
    gap_note,
    generate_legacy,
    human_bytes,
    log,
    main_for,
    need_tool,
    open_legacy,
    publish_blob,
    publish_release,
)
from bench.loadgen import wrk_median

NAME = "pages"
LARGE_CONNECTIONS = 4
SMALL_CONNECTIONS = 32
PLATFORM = "linux-x86_64"
# Above every version the generator writes (they stay below 1000.0.0).
BENCH_VERSION = "1000.0.0"


def run(args: argparse.Namespace, work: Path) -> list[Figure]:
    need_tool("wrk")
    return _downloads(args, work) + _app_page(args, work)


def _downloads(args: argparse.Namespace, work: Path) -> list[Figure]:
    store = work / "downloads-store"
    token = create_token(store)
    blobs = {"large": os.urandom(args.large_blob), "small": os.urandom(args.small_blob)}
    urls: dict[str, str] = {}
    with distd(store, work) as counting, distd(store, work, "--counts-interval", "0") as plain:
        with httpx.Client(base_url=counting.base, timeout=300) as client:
            for kind, data in blobs.items():
                version = f"1.0.{len(urls)}"
                publish_release(client, token, "bench", version, publish_blob(client, token, data), platform=PLATFORM)
                urls[kind] = f"/api/apps/bench/releases/{version}/artifacts/bench-{version}-{PLATFORM}.tar.gz"
                if client.get(urls[kind]).content != data:
                    raise Gap(f"the {kind} file did not download whole")
        figures = []
        for kind, url in urls.items():
            load = {
                "connections": LARGE_CONNECTIONS if kind == "large" else SMALL_CONNECTIONS,
                "duration": args.duration,
                "repeat": args.repeat,
            }
            on = wrk_median(counting.base + url, **load)
            off = wrk_median(plain.base + url, **load)
            log(f"pages downloads {kind}: counting {on}, not counting {off}")
            length = len(blobs[kind])
            size = f"{length // (1024 * 1024)} MiB" if length >= 1024 * 1024 else f"{length // 1024} KiB"
            if kind == "large":
                value, reference = human_bytes(on.bytes_per_second), human_bytes(off.bytes_per_second)
                ratio = on.bytes_per_second / off.bytes_per_second
            else:
                value, reference = f"{on.requests_per_second:,.0f} req/s", f"{off.requests_per_second:,.0f} req/s"
                ratio = on.requests_per_second / off.requests_per_second
            figures.append(
                Figure(
                    NAME,
                    f"artifact download {size}, {load['connections']} conn, counting vs not",
                    value,
                    reference,
                    *at_least(ratio, 0.95),
                    f"p99 {on.p99_ms:.1f} ms vs {off.p99_ms:.1f} ms",
                )
            )
        stats = httpx.get(f"{counting.base}/api/apps/bench/stats?days=1", timeout=30).json()
        log(f"pages downloads: {stats.get('downloads')} counted so far (flushed every 5 s)")
    return figures


def _app_page(args: argparse.Namespace, work: Path) -> list[Figure]:
    store = work / "pages-store"
    log(f"pages: generating a legacy store of {args.list_releases:,} releases")
    slug = str(generate_legacy(store, apps=1, releases=args.list_releases)["apps"][0]["slug"])
    token, note = open_legacy(store)
    with distd(store, work) as server, bare(work, work / "bare-out") as reference:
        with httpx.Client(base_url=server.base, timeout=60) as client:
            digest = publish_blob(client, token, os.urandom(4096))
            publish_release(client, token, slug, BENCH_VERSION, digest, channel="stable", platform=PLATFORM)
            page = client.get(f"/apps/{slug}")
            if page.status_code != 200 or BENCH_VERSION not in page.text:
                raise Gap(f"the app page answered {page.status_code}: {page.text[:200]}")
            css_url = re.search(r'<link rel="stylesheet" href="([^"]+)">', page.text)
            if css_url is None:
                raise Gap("the app page links no stylesheet")
            weight = len(page.content) + len(client.get(css_url.group(1)).content)
        load = {"connections": args.connections, "duration": args.duration, "repeat": args.repeat}
        bare_load = wrk_median(reference.base + "/json", **load)
        page_load = wrk_median(f"{server.base}/apps/{slug}", **load)
    log(f"pages: bare {bare_load}, app page {page_load}")
    conn = f"{args.connections} conn"
    app = f"{args.list_releases:,}-release app"
    figures = [
        Figure(
            NAME,
            f"app page req/s vs bare JSON, {app}, {conn}",
            f"{page_load.requests_per_second:,.0f} req/s",
            f"{bare_load.requests_per_second:,.0f} req/s",
            *at_least(page_load.requests_per_second / bare_load.requests_per_second, 0.3),
            f"p50 {page_load.p50_ms:.1f} ms, bare p50 {bare_load.p50_ms:.1f} ms",
        ),
        Figure(
            NAME,
            f"app page p99, {app}, {conn}",
            f"{page_load.p99_ms:.1f} ms",
            f"bare {bare_load.p99_ms:.1f} ms",
            *at_most(page_load.p99_ms / 50.0, 1.0),
            "ratio = p99 / 50 ms",
        ),
        Figure(
            NAME,
            f"app page HTML + CSS, {app}",
            f"{weight / 1024:.1f} KiB",
            "60 KiB",
            *at_most(weight / (60 * 1024), 1.0),
            "ratio = bytes / 60 KiB",
        ),
    ]
    return figures + ([gap_note(NAME, note)] if note else [])


def main() -> None:
    main_for(NAME, run, __doc__ or "")


if __name__ == "__main__":
    main()
