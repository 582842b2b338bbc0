"""The wheel, built as `make wheel` builds it and installed into a fresh virtualenv away from the source tree,
gives working `dist` and `distd` commands: `dist db upgrade` on a legacy store and on a fresh PostgreSQL database,
a publish, and distd serving it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from dist.persistence.legacy.loader import document_counts
from dist.persistence.store import StoreLocation, head_revision
from tests.conftest import PG_URL, REPO_ROOT, create_pg_database, drop_pg_database
from tests.legacy.helpers import database_counts_of
from tests.legacy.stores import write_fixture
from tests.support import free_port

pytestmark = pytest.mark.slow


class Installed:
    """The console scripts of the virtualenv, run from a directory outside the source tree."""

    def __init__(self, bin_dir: Path, cwd: Path) -> None:
        self.bin_dir = bin_dir
        self.cwd = cwd
        # Nothing may lead back to the source tree or the test run's own environment.
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("DIST_", "PYTHON", "VIRTUAL_ENV", "COLUMNS"))
        }

    def run(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / program), *args]
        return subprocess.run(command, cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=120)

    def ok(self, program: str, *args: str) -> str:
        done = self.run(program, *args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("wheel")
    build = [sys.executable, "-m", "build", "--outdir", str(work / "wheels"), str(REPO_ROOT)]
    subprocess.run(build, cwd=work, check=True, capture_output=True, timeout=900)
    (wheel,) = (work / "wheels").glob("dist-*-py3-none-any.whl")
    (sdist,) = (work / "wheels").glob("dist-*.tar.gz")
    assert sdist.stat().st_size > 0
    # A virtualenv of its own, filled by this environment's pip (pip's cache is fine; bytecode is compiled on use).
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet", "--no-compile"]
    subprocess.run([*pip, str(wheel)], cwd=work, check=True, capture_output=True, timeout=900)
    (work / "elsewhere").mkdir()
    return Installed(venv / "bin", work / "elsewhere")


def test_the_installed_package_is_the_wheel_not_the_source_tree(installed: Installed) -> None:
    found = installed.ok("python", "-c", "import dist.migrations, sys; print(dist.migrations.__file__, sys.prefix)")
    module, prefix = found.split()

    assert Path(module).is_relative_to(prefix) and not Path(module).is_relative_to(REPO_ROOT)
    assert any((Path(module).parent / "versions").glob(f"{head_revision()}_*.py"))


def test_dist_and_distd_answer_help(installed: Installed) -> None:
    assert installed.ok("dist", "--help").startswith("Usage: dist COMMAND")
    assert "db" in installed.ok("dist", "--help")
    assert "--max-upload" in installed.ok("distd", "--help")


def test_db_upgrade_imports_a_legacy_store(installed: Installed, tmp_path: Path) -> None:
    store = write_fixture("pre-tokens", tmp_path / "legacy")

    upgraded = json.loads(installed.ok("dist", "db", "upgrade", "--store", str(store), "--json"))

    assert upgraded["revision"] == head_revision() and upgraded["imported_legacy"] is True
    assert database_counts_of(StoreLocation(store)) == document_counts(store / "db.json.imported")


@pytest.mark.skipif(PG_URL is None, reason="needs DIST_TEST_DATABASE_URL")
def test_db_upgrade_on_a_fresh_postgresql_database_then_a_publish(installed: Installed, tmp_path: Path) -> None:
    url = create_pg_database()
    try:
        where = ["--database-url", url, "--store", str(tmp_path / "store")]
        refused = installed.run("dist", *where, "app", "list")
        assert refused.returncode == 1 and "store.schema_outdated" in refused.stderr

        upgraded = json.loads(installed.ok("dist", *where, "db", "upgrade", "--json"))
        (tmp_path / "app.tar.gz").write_bytes(b"bytes on postgresql")
        payload = str(tmp_path / "app.tar.gz")
        published = json.loads(installed.ok("dist", *where, "publish", "pgapp", "1.0.0", payload, "--json"))

        assert upgraded["before"] is None and upgraded["revision"] == head_revision()
        assert published["version"] == "1.0.0"
    finally:
        drop_pg_database(url)


def test_a_publish_served_by_distd(installed: Installed, tmp_path: Path) -> None:
    store = tmp_path / "store"
    (tmp_path / "app.tar.gz").write_bytes(b"the bytes of myapp 1.0.0")
    installed.ok(
        "dist", "--store", str(store), "publish", "myapp", "1.0.0", f"{tmp_path / 'app.tar.gz'}=linux-x86_64",
        "--channel", "stable",
    )  # fmt: skip
    port = free_port()
    with (tmp_path / "distd.log").open("wb") as log:
        server = subprocess.Popen(
            [str(installed.bin_dir / "distd"), "--store", str(store), "--port", str(port)],
            cwd=installed.cwd,
            env=installed.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        health = _wait_for(f"{base}/healthz", server)
        latest = httpx.get(f"{base}/api/apps/myapp/channels/stable/latest", params={"platform": "linux-x86_64"})
        download = httpx.get(base + latest.json()["artifact"]["url"])
    finally:
        server.terminate()
        server.wait(30)

    assert health.json() == {"status": "ok"}
    assert latest.status_code == 200 and latest.json()["release"]["version"] == "1.0.0"
    assert download.content == b"the bytes of myapp 1.0.0"


def _wait_for(url: str, server: subprocess.Popen[bytes]) -> httpx.Response:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "distd exited"
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"distd did not answer {url}")
