"""wrk, the load generator: run it on the client core and read back requests/s, latency percentiles and errors."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.common import CLIENT_CPU, Gap, median, need_tool, pinned

BYTE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass
class Load:
    requests_per_second: float
    p99_ms: float
    p50_ms: float
    bytes_per_second: float


def wrk(url: str, *, connections: int, duration: float, threads: int = 1, script: Path | None = None) -> Load:
    """One wrk run (with a Lua `script` shaping the requests, if given); any socket error or non-2xx/3xx answer
    makes the figure meaningless, so it is a gap."""
    need_tool("wrk")
    command = ["wrk", "--latency", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", url]
    if script is not None:
        command[1:1] = ["-s", str(script)]
    done = subprocess.run(pinned(command, CLIENT_CPU), capture_output=True, text=True, timeout=duration + 120)
    out = done.stdout
    if done.returncode != 0:
        raise Gap(f"wrk failed on {url}: {done.stderr[-300:]}")
    if "Non-2xx or 3xx responses" in out or re.search(r"Socket errors: .*(read|write|timeout) [1-9]", out):
        raise Gap(f"wrk saw errors on {url}: {' '.join(out.split())[-300:]}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rps is None:
        raise Gap(f"wrk printed no Requests/sec for {url}: {out[-300:]}")
    # Transfer/sec counts every byte read, including those of responses still in flight when the run ends.
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)([KMGT]?B)", out)
    rate = float(transfer.group(1)) * BYTE_UNITS[transfer.group(2)] if transfer else 0.0
    return Load(float(rps.group(1)), _percentile(out, "99%"), _percentile(out, "50%"), rate)


def _percentile(out: str, label: str) -> float:
    found = re.search(rf"^\s+{re.escape(label)}\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
    if found is None:
        raise Gap(f"wrk printed no {label} latency: {out[-300:]}")
    return float(found.group(1)) * UNITS[found.group(2)]


def wrk_median(url: str, *, connections: int, duration: float, repeat: int, script: Path | None = None) -> Load:
    """The median of several runs (each statistic on its own)."""
    runs = [wrk(url, connections=connections, duration=duration, script=script) for _ in range(repeat)]
    return Load(
        median([r.requests_per_second for r in runs]),
        median([r.p99_ms for r in runs]),
        median([r.p50_ms for r in runs]),
        median([r.bytes_per_second for r in runs]),
    )
