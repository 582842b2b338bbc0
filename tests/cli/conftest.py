"""Real `dist` processes against the store under test (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dist.domain.render import render_app, render_audit_event, render_channel, render_release
from dist.domain.values import MAX_PAGE
from dist.persistence.store import StoreLocation, open_store
from dist.services import apps, audit, channels, releases

DIST = Path(sys.executable).parent / "dist"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        assert self.code == 0, self.err
        return json.loads(self.out)

    def refused(self, code: str) -> None:
        """Exit 1 with exactly one `error: <code>: …` line on stderr and nothing on stdout."""
        assert self.code == 1, (self.code, self.out, self.err)
        assert self.out == ""
        lines = self.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {code}: "), self.err


def usage_failed(result: Result, code: str) -> None:
    assert result.code == 2, (result.code, result.out, result.err)
    assert result.out == ""
    assert result.err.startswith(f"error: {code}: "), result.err


class Dist:
    """Runs `dist --store … [--database-url …] ARGS` in a fresh process, off a terminal."""

    def __init__(self, location: StoreLocation, cwd: Path):
        self.location = location
        self.cwd = cwd

    def global_options(self) -> list[str]:
        options = ["--store", str(self.location.root)]
        if self.location.database_url is not None:
            options += ["--database-url", self.location.database_url]
        return options

    def raw(self, *args: str, stdin: str = "") -> Result:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DIST_")}
        completed = subprocess.run(
            [str(DIST), *args], cwd=self.cwd, env=env, input=stdin, capture_output=True, text=True, timeout=60
        )
        return Result(completed.returncode, completed.stdout, completed.stderr)

    def __call__(self, *args: str) -> Result:
        return self.raw(*self.global_options(), *args)


@pytest.fixture
def dist(location: StoreLocation, tmp_path: Path) -> Dist:
    work = tmp_path / "work"
    work.mkdir()
    return Dist(location, work)


@pytest.fixture
def sqlite_dist(tmp_path: Path) -> Dist:
    """For what fails before any database is touched: run once, on an embedded store."""
    work = tmp_path / "work"
    work.mkdir()
    return Dist(StoreLocation(tmp_path / "store"), work)


@pytest.fixture(scope="session")
def cli_actor() -> str:
    return f"cli:{getpass.getuser()}"


def snapshot(location: StoreLocation) -> dict[str, Any]:
    """Everything a user could read back from the store, read in this process: the baseline that a refused
    command must leave untouched."""
    store = open_store(location)
    try:
        state: dict[str, Any] = {"apps": [render_app(a) for a in apps.list_apps(store.uow())]}
        for app in state["apps"]:
            page, _ = releases.list_releases(store.uow(), app["slug"], limit=MAX_PAGE)
            state[f"releases:{app['slug']}"] = [render_release(r) for r in page]
            state[f"channels:{app['slug']}"] = [
                render_channel(c) for c in channels.list_channels(store.uow(), app["slug"])
            ]
        state["audit"] = [render_audit_event(e) for e in audit.list_events(store.uow())]
        state["blobs"] = sorted(entry.name for entry in store.objects.listing())
        return state
    finally:
        store.close()
