"""Remote CLI: `dist --server URL publish` of a large file vs `curl -T` of the same bytes to the same distd, the
client's peak memory while it publishes, and `dist --server URL app list` from start to exit vs a bare
`python -c "import httpx; httpx.get(URL)"`.

Targets (issue 11): publish >= 0.8 of curl's rate; client VmHWM <= 64 MiB; app list <= 1.5x the bare httpx GET.
dist hashes each file before sending it (to skip what the server holds and to have it checked there): that read
is part of its time, as it is of a user's.

    python -m bench.remote [--quick] [--upload-size 1GiB] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench.common import (
    CLIENT_CPU,
    DIST,
    Figure,
    at_least,
    at_most,
    create_token,
    distd,
    human_bytes,
    log,
    main_for,
    median,
    need_tool,
    run_measured,
)
from bench.upload import curl_upload, make_file, vary, wait_idle

NAME = "remote"
MEMORY_LIMIT_MIB = 64
START_RUNS = 7


def run(args: argparse.Namespace, work: Path) -> list[Figure]:
    need_tool("curl")
    length = args.upload_size
    body = work / "build.bin"
    log(f"remote: writing {length / (1024 * 1024):,.0f} MiB of random bytes")
    make_file(body, length)
    store = work / "store"
    token = create_token(store)
    cap = str(max(length * 2, 1024 * 1024 * 1024))
    env = {"DIST_TOKEN": token, "XDG_CONFIG_HOME": str(work / "config")}
    curl_seconds, settled_seconds, dist_seconds, peaks = [], [], [], []
    with distd(store, work, "--max-upload", cap) as server:
        for round_ in range(args.repeat):
            vary(body, 2 * round_)
            started = time.perf_counter()
            curl_seconds.append(curl_upload(server.base + "/api/upload", body, token))
            # distd computes that upload's SHA-512 and SHA-1 right after answering: not while dist runs.
            wait_idle(server)
            settled_seconds.append(time.perf_counter() - started)
            vary(body, 2 * round_ + 1)
            command = [DIST, "--server", server.base, "publish", "bench", f"1.0.{round_}", str(body), "--json"]
            seconds, peak_kib, _ = run_measured(command, cpu=CLIENT_CPU, env=env)
            dist_seconds.append(seconds)
            peaks.append(peak_kib)
            wait_idle(server)
        bare_code = f"import httpx; httpx.get({server.base + '/api/apps'!r})"
        bare_runs, list_runs = [], []
        for _ in range(START_RUNS):
            bare_runs.append(run_measured([sys.executable, "-c", bare_code], cpu=CLIENT_CPU)[0])
            list_runs.append(run_measured([DIST, "--server", server.base, "app", "list"], cpu=CLIENT_CPU, env=env)[0])
    curl_rate, dist_rate = length / median(curl_seconds), length / median(dist_seconds)
    settled_rate = length / median(settled_seconds)
    peak_mib = max(peaks) / 1024
    size = f"{length / (1024 * 1024):,.0f} MiB"
    return [
        Figure(
            NAME,
            f"dist --server publish of {size} vs curl -T",
            human_bytes(dist_rate),
            f"curl {human_bytes(curl_rate)}",
            *at_least(dist_rate / curl_rate, 0.8),
            f"median of {args.repeat}; dist hashes the file first, then streams it",
        ),
        Figure(
            NAME,
            f"dist --server publish of {size} vs curl -T until distd has all three digests",
            human_bytes(dist_rate),
            f"curl {human_bytes(settled_rate)}",
            dist_rate / settled_rate,
            "-",
            None,
            "curl's upload is answered once SHA-256 is checked; a publish needs SHA-512 and SHA-1 too",
        ),
        Figure(
            NAME,
            f"dist --server publish client peak RSS, {size}",
            f"{peak_mib:.1f} MiB",
            f"limit {MEMORY_LIMIT_MIB} MiB",
            *at_most(peak_mib / MEMORY_LIMIT_MIB, 1.0),
            "VmHWM of the dist process",
        ),
        Figure(
            NAME,
            "dist --server app list, start to exit",
            f"{median(list_runs) * 1000:.0f} ms",
            f"python -c httpx.get {median(bare_runs) * 1000:.0f} ms",
            *at_most(median(list_runs) / median(bare_runs), 1.5),
            f"median of {START_RUNS}",
        ),
    ]


def main() -> None:
    main_for(NAME, run, __doc__ or "")


if __name__ == "__main__":
    main()
