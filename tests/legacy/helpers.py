"""Legacy stores for tests: the fixture stores, documents with their defaults filled in, and real `dist` runs."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dist.cli import main
from dist.persistence.legacy.loader import MEMBERS as EXPORTED_MEMBERS
from dist.persistence.legacy.loader import database_counts
from dist.persistence.store import StoreLocation

DIST = Path(sys.executable).parent / "dist"
ALEMBIC = Path(sys.executable).parent / "alembic"


def with_defaults(document: dict[str, Any]) -> dict[str, Any]:
    """The document as docs/legacy.md says it loads: absent members filled in with their documented defaults."""
    # Every member an export writes, those newer than the legacy format (webhooks) included.
    filled = {member: [dict(record) for record in document.get(member, [])] for member in EXPORTED_MEMBERS}
    for app in filled["apps"]:
        app.setdefault("name", app["slug"])
        app.setdefault("default_channel", "stable")
        app.setdefault("minisign_public_key", None)
        app.setdefault("ed25519_public_key", None)
    for release in filled["releases"]:
        release.setdefault("notes", "")
        release.setdefault("status", "published")
    for artifact in filled["artifacts"]:
        artifact.setdefault("platform", "any")
        artifact.setdefault("content_type", "application/octet-stream")
    for channel in filled["channels"]:
        channel.setdefault("history", [])
    for event in filled["audit"]:
        event.setdefault("detail", {})
    return filled


def read_document(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        assert self.code == 0, (self.code, self.err)
        return json.loads(self.out)


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> Result:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DIST_")}
    completed = subprocess.run(
        command, cwd=cwd, env={**clean, **(env or {})}, capture_output=True, text=True, timeout=120
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def _global_options(location: StoreLocation) -> list[str]:
    options = ["--store", str(location.root)]
    if location.database_url is not None:
        options += ["--database-url", location.database_url]
    return options


def dist_process(location: StoreLocation, *args: str) -> Result:
    """`dist --store … [--database-url …] ARGS` in a fresh process, off a terminal."""
    return run([str(DIST), *_global_options(location), *args], cwd=location.root.parent)


def dist(location: StoreLocation, *args: str) -> Result:
    """The same command line run in this process (a process costs a second; most tests need only the output)."""
    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["dist", *_global_options(location), *args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
        code = 0
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else 1
    finally:
        sys.argv = argv
    return Result(code, out.getvalue(), err.getvalue())


def database_leftovers(root: Path) -> list[str]:
    """dist.db and its companions, if any were left in a store directory."""
    return sorted(p.name for p in root.glob("dist.db*"))


def database_counts_of(location: StoreLocation) -> dict[str, int]:
    """The number of rows of each entity table in the store's database."""
    engine = location.engine()
    try:
        with engine.connect() as connection:
            return database_counts(connection)
    finally:
        engine.dispose()
