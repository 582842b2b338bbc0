"""The reliability suite's sizes and its running distd.

Every figure scales with `--stress` (or DIST_STRESS=1): the CI size proves each property in seconds, the
stress size repeats it until the figures in the test ids mean something.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dist.persistence.store import StoreLocation
from tests.support import BIN, Server, start, stop, store_args


@dataclass(frozen=True)
class Size:
    stress: bool

    def pick(self, ci: int, stress: int) -> int:
        return stress if self.stress else ci

    def seconds(self, ci: float, stress: float) -> float:
        return stress if self.stress else ci


@pytest.fixture(scope="session")
def size(request: pytest.FixtureRequest) -> Size:
    return Size(bool(request.config.getoption("--stress")) or os.environ.get("DIST_STRESS") == "1")


@dataclass
class Outputs:
    """Every CLI output and server log of a test, for the secret search and the "database is locked" check."""

    texts: list[str] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def all(self) -> str:
        return "\n".join(self.texts + [log.read_text(errors="replace") for log in self.logs if log.exists()])


def run_dist(location: StoreLocation, *args: str, outputs: Outputs | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIST_")}
    done = subprocess.run(
        [str(BIN / "dist"), *store_args(location), *args], capture_output=True, text=True, timeout=120, env=env
    )
    if outputs is not None:
        outputs.texts += [done.stdout, done.stderr]
    return done


class Servers:
    """distd processes on one store, stopped at the end of the test."""

    def __init__(self, location: StoreLocation, tmp_path: Path, outputs: Outputs):
        self.location = location
        self.tmp_path = tmp_path
        self.outputs = outputs
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, *extra: str) -> Server:
        log = self.tmp_path / f"distd-{len(self.processes)}.log"
        process, port = start(self.location, log, *extra)
        self.processes.append(process)
        self.outputs.logs.append(log)
        return Server(f"http://127.0.0.1:{port}", port, self.location, log)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                stop(process)


@pytest.fixture
def outputs() -> Outputs:
    return Outputs()


@pytest.fixture
def servers(location: StoreLocation, tmp_path: Path, outputs: Outputs) -> Iterator[Servers]:
    running = Servers(location, tmp_path, outputs)
    try:
        yield running
    finally:
        running.stop_all()


def admin_secret(location: StoreLocation, outputs: Outputs | None = None) -> str:
    import json

    done = run_dist(location, "token", "create", "--name", "admin", "--scope", "publish", "--scope", "admin", "--json")
    assert done.returncode == 0, done.stderr
    if outputs is not None:
        outputs.texts.append(done.stderr)
    secret: str = json.loads(done.stdout)["secret"]
    return secret
