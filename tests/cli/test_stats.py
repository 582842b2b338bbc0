"""`dist stats` against a real distd: counts written every interval and when distd stops (also with several
workers), the same document from the local store and over --server, a chart on the terminal, clear refusals."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from dist.persistence.store import StoreLocation
from tests.cli.conftest import DIST
from tests.support import start, stop, store_args

DATA = b"stats" * 1000


def dist(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIST_")}
    return subprocess.run([str(DIST), *args], capture_output=True, text=True, timeout=60, env=env)


def publish(location: StoreLocation, tmp_path: Path) -> None:
    artifact = tmp_path / "app.tar.gz"
    artifact.write_bytes(DATA)
    done = dist(*store_args(location), "publish", "demo", "1.0.0", f"{artifact}=linux-x86_64", "--channel", "stable")
    assert done.returncode == 0, done.stderr


def local_stats(location: StoreLocation) -> dict[str, object]:
    done = dist(*store_args(location), "stats", "demo", "--days", "3", "--json")
    assert done.returncode == 0, done.stderr
    document: dict[str, object] = json.loads(done.stdout)
    return document


def test_counts_reach_the_store_every_interval_and_read_the_same_over_server(
    location: StoreLocation, tmp_path: Path
) -> None:
    publish(location, tmp_path)
    process, port = start(location, tmp_path / "distd.log", "--counts-interval", "0.2", "--workers", "2")
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base) as client:
            for _ in range(4):
                assert client.get("/api/apps/demo/releases/1.0.0/artifacts/app.tar.gz").status_code == 200
            for current in ("1.0.0", "1.0.0", "0.9.0"):
                check = client.get(
                    "/api/apps/demo/channels/stable/latest", params={"current": current, "platform": "linux-x86_64"}
                )
                assert check.status_code in (200, 204)
        deadline = time.monotonic() + 10
        while local_stats(location)["downloads"] != 4 or local_stats(location)["checks"] != 3:
            assert time.monotonic() < deadline, local_stats(location)
            time.sleep(0.2)
        local = local_stats(location)
        remote = dist("--server", base, "stats", "demo", "--days", "3", "--json")
        assert remote.returncode == 0, remote.stderr
        assert json.loads(remote.stdout) == local
        assert local["checks_by_version"] == [{"version": "1.0.0", "count": 2}, {"version": "0.9.0", "count": 1}]
        chart = dist("--server", base, "stats", "demo", "--days", "3")
        assert chart.returncode == 0, chart.stderr
        assert "demo: 4 downloads and 3 update checks" in chart.stdout
        assert "█" in chart.stdout and "Versions in use" in chart.stdout and "66.7%" in chart.stdout
        refused = dist("--server", base, "stats", "nope")
        assert refused.returncode == 1 and refused.stderr.startswith("error: app.not_found: ")
    finally:
        stop(process)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_counts_are_written_when_distd_stops(location: StoreLocation, tmp_path: Path, workers: str) -> None:
    publish(location, tmp_path)
    process, port = start(location, tmp_path / "distd.log", "--counts-interval", "3600", "--workers", workers)
    try:
        url = f"http://127.0.0.1:{port}/api/apps/demo/releases/1.0.0/artifacts/app.tar.gz"
        assert httpx.get(url).status_code == 200
        assert httpx.get(url, headers={"Range": "bytes=0-9"}).status_code == 206
        assert httpx.get(url, headers={"Range": "bytes=10-19"}).status_code == 206
        assert httpx.head(url).status_code == 200
        assert local_stats(location)["downloads"] == 0
    finally:
        stop(process)
    assert local_stats(location)["downloads"] == 2
    done = dist(*store_args(location), "release", "show", "demo", "1.0.0", "--json")
    assert json.loads(done.stdout)["artifacts"][0]["downloads"] == 2


def test_bad_days_is_refused(location: StoreLocation, tmp_path: Path) -> None:
    publish(location, tmp_path)
    done = dist(*store_args(location), "stats", "demo", "--days", "0")
    assert done.returncode == 1 and done.stderr.startswith("error: stats.invalid_days: "), done.stderr
    done = dist(*store_args(location), "stats", "demo", "--days", "1")
    assert done.returncode == 0 and "demo: 0 downloads and 0 update checks" in done.stdout
