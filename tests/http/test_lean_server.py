"""The serving process of distd: `dist serve` hands over to `python -m dist.http.server`, which never loads the
command line's or the migrations' modules, and knows the schema's head without alembic."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
from alembic.script import ScriptDirectory

from dist.persistence.store import StoreLocation, alembic_config, head_revision
from tests.support import start, stop

# The command line's and the migrations' modules, the download pages' renderer (loaded by the first page), the
# webhooks' HTTP client (by the first delivery).
HEAVY = (
    "alembic",
    "cyclopts",
    "rich",
    "psycopg",
    "mako",
    "jinja2",
    "markdown_it",
    "nh3",
    "httpcore",
    "httpx",
)


def test_the_head_revision_is_alembics() -> None:
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_the_server_module_loads_no_cli_nor_migration_module() -> None:
    probe = "import json, sys, dist.http.server, dist.http.app; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    modules = set(json.loads(done.stdout))
    loaded = {m.split(".")[0] for m in modules}
    assert "uvicorn" in loaded and "sqlalchemy" in loaded
    assert loaded.isdisjoint(HEAVY)
    # A store on SQLite never needs PostgreSQL's dialect.
    assert not [m for m in modules if m.startswith("sqlalchemy.dialects.postgresql")]


def test_dist_serve_becomes_the_lean_server(tmp_path: Path) -> None:
    location = StoreLocation(tmp_path / "store")
    process, port = start(location, tmp_path / "distd.log", "--max-upload", "1KiB")
    try:
        command = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
        assert command[1:4] == [b"-m", b"dist.http.server", b"127.0.0.1"]
        # The options travel with it: a body over the cap is refused before it is read.
        refused = httpx.post(f"http://127.0.0.1:{port}/api/upload", content=b"x" * 2048, timeout=10)
        assert refused.status_code == 413
        assert httpx.get(f"http://127.0.0.1:{port}/api/apps", timeout=10).json() == {"apps": []}
    finally:
        stop(process)
    assert "distd serving" in (tmp_path / "distd.log").read_text()
