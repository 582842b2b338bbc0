"""Migration 0002 on a store that the previous version filled: that version's own code (checked out of this
repository's history) runs the real commands, then today's `alembic upgrade head` takes the store forward, every
row and digest is checked, `alembic downgrade 0001` takes it back and the old version reads it as before; a second
upgrade fills the digests again. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from dist.persistence.db import make_engine
from dist.persistence.store import StoreLocation
from tests.conftest import PG_URL, REPO_ROOT

MIGRATION = "dist/migrations/versions/0002_blobs_signatures.py"
OLD_TABLES = ["apps", "releases", "artifacts", "channels", "channel_events", "tokens", "audit_events"]


def _git(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(REPO_ROOT), *args], capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def old_code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The source tree as it was just before this migration was added: the previous head's code."""
    added = _git("log", "--diff-filter=A", "--format=%H", "--", MIGRATION)
    commits = [f"{c}^" for c in added.stdout.decode().split()]
    if added.returncode == 0 and not commits and _git("cat-file", "-e", f"HEAD:{MIGRATION}").returncode != 0:
        commits = ["HEAD"]  # the migration is not committed yet: the checked-in code is the previous version
    if added.returncode != 0 or not commits:
        message = "needs the repository's git history (a full clone) to check out the previous version"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    target = tmp_path_factory.mktemp("old-dist")
    archive = target / "old.tar"
    archive.write_bytes(_git("archive", "--format=tar", commits[-1]).stdout)
    with tarfile.open(archive) as tar:
        tar.extractall(target / "src", filter="data")
    return target / "src"


@dataclass
class Versions:
    """`dist` and `alembic` of the old and the current code, on one store."""

    old_src: Path
    location: StoreLocation
    work: Path

    def _env(self, old: bool) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DIST_") and k != "PYTHONPATH"}
        if old:
            env["PYTHONPATH"] = str(self.old_src)
        if self.location.database_url:
            env["DIST_DATABASE_URL"] = self.location.database_url
        return env

    def dist(self, *args: str, old: bool = False) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", "from dist.cli import main; main()", "--store", str(self.location.root)]
        done = subprocess.run(
            [*command, *args], cwd=self.work, env=self._env(old), capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, (args, done.stderr)
        return done

    def json(self, *args: str, old: bool = False) -> Any:
        return json.loads(self.dist(*args, "--json", old=old).stdout)

    def alembic(self, *args: str, old: bool = False, store: bool = True) -> subprocess.CompletedProcess[str]:
        root = self.old_src if old else REPO_ROOT
        x = ["-x", f"store={self.location.root}"] if store else []
        command = [sys.executable, "-m", "alembic", "-c", str(root / "alembic.ini"), *x, *args]
        done = subprocess.run(command, cwd=root, env=self._env(old), capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done


@pytest.fixture
def versions(old_code: Path, location: StoreLocation, tmp_path: Path) -> Iterator[Versions]:
    """On PostgreSQL the `location` fixture has created today's schema: the old version needs a database of
    its own, created by its own `alembic upgrade head`."""
    if location.database_url is not None:
        engine = make_engine(location.database_url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    work = tmp_path / "work"
    work.mkdir()
    found = Versions(old_code, location, work)
    if location.database_url is not None:
        found.alembic("upgrade", "head", old=True)
    yield found


def rows(location: StoreLocation, tables: list[str]) -> dict[str, list[dict[str, Any]]]:
    engine = location.engine()
    try:
        with engine.connect() as connection:
            return {
                table: [dict(r._mapping) for r in connection.execute(text(f"SELECT * FROM {table} ORDER BY id"))]
                for table in tables
            }
    finally:
        engine.dispose()


def fill_with_old_version(versions: Versions) -> dict[str, bytes]:
    """Two apps, shared and empty blobs, every platform, channel moves, a yank, tokens: through old commands."""
    files = {
        "app.tar.gz": b"linux build\n" * 1000,
        "app.dmg": b"mac build" * 50_000,
        "app.exe": b"windows build",
        "empty.txt": b"",
        "same.bin": b"linux build\n" * 1000,
    }
    for name, data in files.items():
        (versions.work / name).write_bytes(data)
    w = versions.work
    versions.dist("init", old=True)
    versions.dist(
        "publish", "demo", "1.0.0", f"{w / 'app.tar.gz'}=linux-x86_64", f"{w / 'app.dmg'}=darwin-aarch64",
        f"{w / 'empty.txt'}", "--channel", "stable", "--notes", "first", old=True,
    )  # fmt: skip
    versions.dist("publish", "demo", "1.1.0", f"{w / 'app.exe'}=windows-x86_64", f"{w / 'same.bin'}", old=True)
    versions.dist("promote", "demo", "beta", "--version", "1.1.0", old=True)
    versions.dist("promote", "demo", "stable", "--from", "beta", old=True)
    versions.dist("rollback", "demo", "stable", old=True)
    versions.dist("publish", "other", "0.1.0-rc.1", f"{w / 'app.tar.gz'}=linux-x86_64", old=True)
    versions.dist("publish", "other", "0.1.0", f"{w / 'app.exe'}", old=True)
    versions.dist("release", "yank", "other", "0.1.0-rc.1", old=True)
    versions.dist("token", "create", "--name", "ci", "--scope", "publish", "--app", "demo", old=True)
    return files


def old_views(versions: Versions) -> list[Any]:
    """What the old version shows of the store."""
    return [
        versions.json("app", "list", old=True),
        versions.json("release", "list", "demo", old=True),
        versions.json("release", "list", "other", old=True),
        versions.json("channel", "history", "demo", "stable", old=True),
        versions.json("token", "list", old=True),
        versions.json("audit", old=True),
    ]


def check_blobs(location: StoreLocation, contents: list[bytes]) -> None:
    """One row per blob the artifacts name, its digests those of the bytes on disk."""
    found = rows(location, ["blobs"])["blobs"]
    expected = {hashlib.sha256(data).hexdigest(): data for data in contents}
    assert sorted(r["sha256"] for r in found) == sorted(expected)
    for row in found:
        data = (location.root / "objects" / row["sha256"][:2] / row["sha256"]).read_bytes()
        assert data == expected[row["sha256"]]
        assert (row["size"], row["sha512"], row["sha1"]) == (
            len(data),
            hashlib.sha512(data).hexdigest(),
            hashlib.sha1(data).hexdigest(),
        )


def test_upgrade_a_store_the_previous_version_filled_then_downgrade_and_upgrade_again(versions: Versions) -> None:
    location = versions.location
    files = fill_with_old_version(versions)
    before = rows(location, OLD_TABLES)
    seen_by_old = old_views(versions)

    upgraded = versions.alembic("upgrade", "head")
    assert "0002_blobs_signatures" in upgraded.stderr
    # It says what it hashed: every distinct blob the artifacts name, and their bytes.
    distinct = {hashlib.sha256(data).hexdigest(): len(data) for data in files.values()}
    assert re.search(
        rf"0002: hashed {len(distinct)} blobs, {sum(distinct.values())} bytes, in \d+\.\d+ s", upgraded.stderr
    )

    after = rows(location, [*OLD_TABLES, "blobs"])
    for table in OLD_TABLES:
        assert [{k: r[k] for k in before[table][0]} for r in after[table]] == before[table], table
    assert all(a["default_channel"] == "stable" and a["minisign_public_key"] is None for a in after["apps"])
    assert all(a["minisign_signature"] is None and a["ed25519_signature"] is None for a in after["artifacts"])
    check_blobs(location, list(files.values()))
    if location.database_url is not None:
        engine = location.engine()
        columns = {c["name"]: c["type"] for c in inspect(engine).get_columns("channel_events")}
        engine.dispose()
        assert all(str(columns[c]) == "BIGINT" for c in ("id", "channel_id", "release_id"))

    # Today's version reads the store with the digests, and writes to it.
    release = versions.json("release", "show", "demo", "1.0.0")
    mac = next(a for a in release["artifacts"] if a["filename"] == "app.dmg")
    assert mac["sha512"] == hashlib.sha512(files["app.dmg"]).hexdigest()
    new_file = versions.work / "new.zip"
    new_file.write_bytes(b"published after the upgrade")
    versions.dist("publish", "demo", "2.0.0", f"{new_file}=darwin-aarch64", "--channel", "beta")
    versions.dist("app", "set", "demo", "--default-channel", "beta")

    versions.alembic("downgrade", "0001")
    engine = location.engine()
    try:
        assert "blobs" not in inspect(engine).get_table_names()
        assert "default_channel" not in {c["name"] for c in inspect(engine).get_columns("apps")}
    finally:
        engine.dispose()
    # The old version reads what it wrote as before, and the release published since.
    views = old_views(versions)
    assert views[0] == seen_by_old[0]
    assert views[1]["releases"][1:] == seen_by_old[1]["releases"]
    assert views[1]["releases"][0]["version"] == "2.0.0"
    assert views[2:4] == seen_by_old[2:4] and views[4] == seen_by_old[4]
    assert rows(location, OLD_TABLES)["artifacts"][: len(before["artifacts"])] == before["artifacts"]
    versions.dist("publish", "other", "0.2.0", f"{new_file}", old=True)

    versions.alembic("upgrade", "head")
    check_blobs(location, [*files.values(), new_file.read_bytes()])
    assert (
        versions.json("release", "show", "other", "0.2.0")["artifacts"][0]["sha1"]
        == hashlib.sha1(new_file.read_bytes()).hexdigest()
    )


@pytest.mark.skipif(PG_URL is None, reason="needs DIST_TEST_DATABASE_URL (SQLite's objects/ are beside its database)")
@pytest.mark.parametrize("engine_name", ["postgresql"])
def test_without_the_store_the_upgrade_says_so_and_digests_are_filled_on_first_need(versions: Versions) -> None:
    files = fill_with_old_version(versions)
    shutil.move(versions.location.root / "objects", versions.work / "objects-elsewhere")
    upgraded = versions.alembic("upgrade", "head")
    assert "left for dist to compute on first need" in upgraded.stderr
    assert all(r["sha512"] is None for r in rows(versions.location, ["blobs"])["blobs"])
    # The upgrade made an empty objects/ where the store's were.
    (versions.location.root / "objects").rmdir()
    shutil.move(versions.work / "objects-elsewhere", versions.location.root / "objects")

    from dist.persistence.store import open_store
    from dist.services import blobs, releases

    store = open_store(versions.location)
    try:
        release = releases.get_release(store.uow(), "demo", "1.0.0")
        blobs.ensure_digests(store.uow(), release.artifacts)
        assert [a.sha512 for a in release.artifacts] == [
            hashlib.sha512(files[a.filename]).hexdigest() for a in release.artifacts
        ]
    finally:
        store.close()
    filled = {r["sha256"] for r in rows(versions.location, ["blobs"])["blobs"] if r["sha512"] is not None}
    assert filled == {a.sha256 for a in release.artifacts}
