"""What every benchmark shares: sizes, the result table, processes that never outlive the script, and the tools.

Each figure is a ratio against a reference measured in the same run on the same machine, printed next to its
target. The machine may have two cores and be noisy, so measurements are repeated and medians kept; the server
under test is pinned to one core and the load generator to the other where the machine has two.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.legacy.generate import generate

REPO_ROOT = Path(__file__).resolve().parents[1]
BIN_DIR = Path(sys.executable).parent
DIST = str(BIN_DIR / "dist")
MiB = 1024 * 1024
GiB = 1024 * MiB
SERVER_START_TIMEOUT = 120.0
LEGACY_NAME = "db.json"
PG_ADMIN_URL = os.environ.get("DIST_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


class Gap(Exception):
    """A part of dist that the benchmark needs is missing or broken: reported as GAP instead of a figure."""


@dataclass
class Figure:
    """One row of the table: what was measured, against which reference, and whether it meets its target."""

    bench: str
    metric: str
    value: str
    reference: str
    ratio: float | None
    target: str
    ok: bool | None  # None: informational, or a gap
    note: str = ""

    @property
    def status(self) -> str:
        if self.ok is None:
            return "GAP" if self.ratio is None and self.value == "-" else "INFO"
        return "PASS" if self.ok else "MISS"


def gap(bench: str, metric: str, target: str, reason: str) -> Figure:
    return Figure(bench, metric, "-", "-", None, target, None, reason)


def at_least(ratio: float, bound: float) -> tuple[float, str, bool]:
    return ratio, f">= {bound:g}", ratio >= bound


def at_most(ratio: float, bound: float) -> tuple[float, str, bool]:
    return ratio, f"<= {bound:g}", ratio <= bound


# --- sizes and options -------------------------------------------------------------------------------------------


def size(text: str) -> int:
    """`64MiB`, `4KiB`, `1GiB` or a plain number of bytes."""
    units = {"kib": 1024, "mib": MiB, "gib": GiB, "k": 1024, "m": MiB, "g": GiB, "b": 1}
    lowered = text.strip().lower()
    for unit, factor in units.items():
        if lowered.endswith(unit):
            return int(float(lowered[: -len(unit)]) * factor)
    return int(lowered)


def parser(description: str) -> argparse.ArgumentParser:
    """The options every script takes; the defaults are the sizes of issue 7, `--quick` shrinks them."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="small sizes and short runs: a smoke test, not a figure")
    p.add_argument("--upload-size", type=size, default=None, help="upload body (default 1GiB; quick 64MiB)")
    p.add_argument("--large-blob", type=size, default=None, help="large download (default 64MiB; quick 8MiB)")
    p.add_argument("--small-blob", type=size, default=None, help="small download (default 4KiB)")
    p.add_argument("--list-releases", type=int, default=None, help="releases of the listed app (default 10000)")
    p.add_argument("--scale-small", type=int, default=None, help="releases of the small store (default 1000)")
    p.add_argument("--scale-large", type=int, default=None, help="releases of the large store (default 100000)")
    p.add_argument("--import-releases", type=int, default=None, help="releases to import (default 50000)")
    p.add_argument("--migrate-releases", type=int, default=None, help="releases of the migrated store (default 50000)")
    p.add_argument("--duration", type=float, default=None, help="seconds per load-generator run (default 8)")
    p.add_argument("--repeat", type=int, default=None, help="repetitions whose median is kept (default 3)")
    p.add_argument("--connections", type=int, default=32, help="concurrent connections of the read benchmark")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (its path is printed)")
    return p


FULL = {
    "upload_size": GiB,
    "large_blob": 64 * MiB,
    "small_blob": 4096,
    "list_releases": 10_000,
    "scale_small": 1_000,
    "scale_large": 100_000,
    "import_releases": 50_000,
    "migrate_releases": 50_000,
    "duration": 8.0,
    "repeat": 3,
}
QUICK = {
    "upload_size": 64 * MiB,
    "large_blob": 8 * MiB,
    "small_blob": 4096,
    "list_releases": 500,
    "scale_small": 100,
    "scale_large": 2_000,
    "import_releases": 2_000,
    "migrate_releases": 2_000,
    "duration": 2.0,
    "repeat": 1,
}


def settle(args: argparse.Namespace) -> argparse.Namespace:
    """Fill the sizes not given on the command line from the full or quick defaults."""
    defaults = QUICK if args.quick else FULL
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


# --- the table ---------------------------------------------------------------------------------------------------


def table(figures: Sequence[Figure]) -> str:
    headers = ["bench", "metric", "dist", "reference", "ratio", "target", "status"]
    rows = [
        [f.bench, f.metric, f.value, f.reference, "-" if f.ratio is None else f"{f.ratio:.2f}", f.target, f.status]
        for f in figures
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows]
    notes = [f"- {f.bench} / {f.metric}: {f.note}" for f in figures if f.note]
    return "\n".join(lines + (["", *notes] if notes else []))


def main_for(name: str, run: Callable[[argparse.Namespace, Path], list[Figure]], description: str) -> None:
    """Run one benchmark alone: parse the options, run it in a temporary directory, print its table."""
    args = settle(parser(description).parse_args())
    figures = run_one(name, run, args)
    print(table(figures))


def run_one(
    name: str, run: Callable[[argparse.Namespace, Path], list[Figure]], args: argparse.Namespace
) -> list[Figure]:
    work = Path(tempfile.mkdtemp(prefix=f"dist-bench-{name}-"))
    try:
        return run(args, work)
    except Gap as missing:
        return [gap(name, "(all)", "-", str(missing))]
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def human_bytes(per_second: float) -> str:
    return f"{per_second / MiB:,.0f} MiB/s"


# --- cores, ports, processes -------------------------------------------------------------------------------------


def cores() -> tuple[int | None, int | None]:
    """The core for the server under test and the one for the load generator (None: don't pin)."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2 or shutil.which("taskset") is None:
        return None, None
    return available[0], available[1]


SERVER_CPU, CLIENT_CPU = cores()


def server_cores() -> str | None:
    """The cores for a server that works on several threads: every one but the load generator's when that
    leaves two or more, else all of them (None: not pinned)."""
    others = sorted(set(os.sched_getaffinity(0)) - {CLIENT_CPU}) if CLIENT_CPU is not None else []
    return ",".join(map(str, others)) if len(others) > 1 else None


def pinned(command: Sequence[str], cpu: int | str | None) -> list[str]:
    return ["taskset", "-c", str(cpu), *command] if cpu is not None else list(command)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(process: subprocess.Popen[Any]) -> None:
    """Stop a process and everything it started: its own process group."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    # A worker may outlive its parent: sweep the group whatever the parent did.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def started(
    command: Sequence[str],
    logfile: Path,
    *,
    cpu: int | str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """A background process in its own session, stopped (with its children) when the block ends."""
    with logfile.open("ab") as out:
        process = subprocess.Popen(
            pinned(command, cpu),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
            cwd=cwd,
        )
    try:
        yield process
    finally:
        stop(process)


def wait_http(url: str, process: subprocess.Popen[Any], logfile: Path, timeout: float = SERVER_START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise Gap(f"server exited with {process.returncode}: {tail(logfile)}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise Gap(f"server did not answer {url} within {timeout:.0f}s: {tail(logfile)}")


def tail(path: Path, chars: int = 400) -> str:
    try:
        return path.read_text(errors="replace")[-chars:].strip().replace("\n", " | ")
    except OSError:
        return ""


def group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == pgid:
                    pids.append(int(entry.name))
    return pids


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB."""
    found: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    return found


def run_measured(
    command: Sequence[str],
    *,
    cpu: int | str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 1800,
    with_stderr: bool = False,
) -> tuple[float, int, str]:
    """Run a command to its end: its wall time in seconds, its peak resident memory (VmHWM) in KiB, its stdout
    (followed by its stderr, `with_stderr`)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            pinned(command, cpu),
            stdout=out,
            stderr=err,
            start_new_session=True,
            env={**os.environ, **(env or {})},
            cwd=cwd,
        )
        # VmHWM is read from /proc while the process runs: wait4's ru_maxrss would also count the parent's
        # resident set, which Linux carries over through fork and exec.
        peak = 0
        deadline = start + timeout
        try:
            while process.poll() is None:
                peak = max(peak, memory_kib(process.pid).get("VmHWM", 0))
                if time.perf_counter() > deadline:
                    raise Gap(f"`{command[0]}` did not finish within {timeout:.0f}s")
                time.sleep(0.02)
            elapsed = time.perf_counter() - start
        finally:
            stop(process)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if process.returncode != 0:
        shown = " ".join(Path(part).name if part.startswith("/") else part for part in command)
        raise Gap(f"`{shown[:120]}` exited {process.returncode}: {stderr.strip()[-300:]}")
    return elapsed, peak, stdout + stderr if with_stderr else stdout


def need_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise Gap(f"`{name}` is not installed (`make bench` installs it from the system's packages)")
    return found


# --- dist: stores, servers, tokens -------------------------------------------------------------------------------


def dist(store: Path, *arguments: str, database_url: str | None = None, timeout: float = 1800) -> str:
    """Run the dist CLI on a store and return its stdout; a failure is a gap in dist."""
    command = [DIST, "--store", str(store)]
    if database_url:
        command += ["--database-url", database_url]
    done = subprocess.run([*command, *arguments], capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise Gap(f"`dist {' '.join(arguments[:3])}` exited {done.returncode}: {done.stderr.strip()[-300:]}")
    return done.stdout


def create_token(store: Path) -> str:
    document = json.loads(
        dist(store, "token", "create", "--name", "bench", "--scope", "publish", "--scope", "admin", "--json")
    )
    secret = _find_secret(document)
    if secret is None:
        raise Gap("`dist token create --json` printed no dist_… secret")
    return secret


def _find_secret(document: Any) -> str | None:
    if isinstance(document, str):
        return document if document.startswith("dist_") and len(document) == 69 else None
    values = document.values() if isinstance(document, dict) else document if isinstance(document, list) else []
    for value in values:
        found = _find_secret(value)
        if found:
            return found
    return None


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    logfile: Path


@contextlib.contextmanager
def distd(store: Path, work: Path, *extra: str, cpu: int | str | None = SERVER_CPU) -> Iterator[Server]:
    """A real `dist serve` process on a free loopback port, stopped when the block ends."""
    port = free_port()
    logfile = work / f"distd-{port}.log"
    command = [DIST, "--store", str(store), "serve", "--host", "127.0.0.1", "--port", str(port), *extra]
    with started(command, logfile, cpu=cpu) as process:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/healthz", process, logfile)
        yield Server(base, process, logfile)


@contextlib.contextmanager
def bare(work: Path, upload_dir: Path, cpu: int | str | None = SERVER_CPU) -> Iterator[Server]:
    """The bare Starlette reference (bench/bare_app.py) under the uvicorn settings of `dist serve`."""
    port = free_port()
    logfile = work / f"bare-{port}.log"
    command = [sys.executable, "-m", "bench.bare_app", "--port", str(port), "--upload-dir", str(upload_dir)]
    with started(command, logfile, cpu=cpu, cwd=REPO_ROOT) as process:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/healthz", process, logfile)
        yield Server(base, process, logfile)


def generate_legacy(out: Path, *, apps: int, releases: int, blob_bytes: int = 0, seed: int = 7) -> dict[str, Any]:
    """A legacy store written by the test suite's generator (tests/legacy/generate.py); returns its db.json apps
    and the rows an import of it writes."""
    document = generate(out, apps=apps, releases=releases, blob_bytes=blob_bytes, seed=seed)
    return {"apps": document["apps"], "rows": count_rows(document)}


def count_rows(document: dict[str, Any]) -> int:
    """Rows an import writes: one per record, plus one channel event per history entry."""
    kinds = ("apps", "channels", "releases", "artifacts", "tokens", "audit")
    events = sum(len(c.get("history", [])) for c in document.get("channels", []))
    return sum(len(document.get(kind, [])) for kind in kinds) + events


def import_store(source: Path, target: Path, database_url: str | None = None) -> float:
    """Import a legacy store into a new store with `dist store import-legacy`; returns the seconds it took."""
    start = time.perf_counter()
    dist(target, "store", "import-legacy", str(source), database_url=database_url)
    return time.perf_counter() - start


def publish_blob(client: httpx.Client, token: str, data: bytes) -> str:
    response = client.post("/api/upload", content=data, headers={"Authorization": f"Bearer {token}"})
    if response.status_code not in (200, 201):
        raise Gap(f"POST /api/upload answered {response.status_code}: {response.text[:200]}")
    return str(response.json()["sha256"])


def publish_release(
    client: httpx.Client,
    token: str,
    app: str,
    version: str,
    sha256: str,
    channel: str | None = None,
    platform: str = "linux-x86_64",
) -> httpx.Response:
    body: dict[str, Any] = {
        "version": version,
        "artifacts": [{"filename": f"{app}-{version}-{platform}.tar.gz", "sha256": sha256, "platform": platform}],
    }
    if channel:
        body["channel"] = channel
    response = client.post(f"/api/apps/{app}/releases", json=body, headers={"Authorization": f"Bearer {token}"})
    if response.status_code != 201:
        raise Gap(f"POST /api/apps/{app}/releases answered {response.status_code}: {response.text[:200]}")
    return response


def open_legacy(store: Path) -> tuple[str, str]:
    """The first command on a generated legacy store imports it (dist imports db.json on first load); returns a
    publish token and a note. Should the importer fail, the same rows are written by the raw reference loader
    (bench/raw_import.py) so that the other figures can still be measured, and the note says so."""
    try:
        return create_token(store), ""
    except Gap as failure:
        if not (store / LEGACY_NAME).exists():
            raise
        reason = str(failure)
    aside = store.parent / f"{store.name}-legacy"
    aside.mkdir()
    (store / LEGACY_NAME).rename(aside / LEGACY_NAME)
    for leftover in store.glob("dist.db*"):
        leftover.unlink()
    dist(store, "init")
    subprocess.run(
        [sys.executable, "-m", "bench.raw_import", sqlite_dbapi_url(store), str(aside)],
        check=True,
        capture_output=True,
        cwd=REPO_ROOT,
        timeout=1800,
    )
    code = re.search(r"error: ([\w.]+)", reason)
    why = code.group(1) if code else reason[:120]
    return create_token(store), f"legacy import failed ({why}): stores loaded by bench/raw_import.py instead"


def sqlite_dbapi_url(store: Path) -> str:
    return f"sqlite:///{store / 'dist.db'}"


def gap_note(bench: str, note: str) -> Figure:
    return gap(bench, "store loading", "-", note)


def minisign_signature(data: bytes) -> str:
    """A well-formed minisign signature file (prehashed) of `data` by a throwaway key: the app under benchmark
    has no public key set, so distd keeps it as given, and Tauri's feeds offer the artifact."""
    import base64
    import hashlib

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key, key_id = Ed25519PrivateKey.generate(), os.urandom(8)
    signature = key.sign(hashlib.blake2b(data, digest_size=64).digest())
    trusted = "timestamp:0\tfile:bench"
    global_signature = key.sign(signature + trusted.encode())
    return "\n".join(
        [
            "untrusted comment: signature from a benchmark key",
            base64.b64encode(b"ED" + key_id + signature).decode(),
            f"trusted comment: {trusted}",
            base64.b64encode(global_signature).decode(),
            "",
        ]
    )
