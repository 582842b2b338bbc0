"""SIGKILL at random points: a `dist publish` of a few MiB, a distd in the middle of uploads and publishes, and
the first load of a legacy store. Afterwards the store opens, `dist store verify` is clean, every release is
whole or absent, every acknowledged write is there, and db.json is either still there or fully imported."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect, text

from dist.persistence.store import StoreLocation, open_store, upgrade_to_head
from dist.services import releases
from tests.conftest import create_pg_database, drop_pg_database
from tests.legacy.generate import generate
from tests.reliability.conftest import Servers, Size, admin_secret, run_dist
from tests.support import BIN, store_args

MIB = 1024 * 1024


def kill_after(process: subprocess.Popen[Any], seconds: float) -> bool:
    """SIGKILL `process` after `seconds` unless it ended first; True when it was killed."""
    try:
        process.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return True


def verify_clean(location: StoreLocation) -> None:
    done = run_dist(location, "store", "verify")
    assert done.returncode == 0, (done.stdout, done.stderr)


def whole_or_absent(location: StoreLocation, app: str, expected: dict[str, dict[str, str]]) -> set[str]:
    """Checks every version of `expected` (version -> filename -> sha256): published with all its artifacts and
    hash-correct blobs, or not there at all. Returns the versions that are there."""
    store = open_store(location)
    try:
        present = set()
        for version, files in expected.items():
            try:
                release = releases.get_release(store.uow(), app, version)
            except Exception as error:
                assert getattr(error, "code", None) in ("release.not_found", "app.not_found"), error
                continue
            assert {a.filename: a.sha256 for a in release.artifacts} == files
            assert all(store.objects.hash_file(sha) == sha for sha in files.values())
            present.add(version)
        return present
    finally:
        store.close()


def test_killed_publishes_leave_whole_releases_or_none(location: StoreLocation, tmp_path: Path, size: Size) -> None:
    rng = random.Random(6)
    # Kills land anywhere in a publish, so some come after it ended: trials go on until enough processes died.
    kills = size.pick(3, 100)
    expected: dict[str, dict[str, str]] = {}
    dist = [str(BIN / "dist"), *store_args(location), "publish", "crash"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIST_")}
    killed, longest, trial = 0, 0.0, -1
    while killed < kills and trial < 4 * kills:
        trial += 1
        files = {}
        for n in range(3):
            data = os.urandom(2 * MIB)
            path = tmp_path / f"t{trial}-{n}.bin"
            path.write_bytes(data)
            files[path.name] = hashlib.sha256(data).hexdigest()
        version = f"1.0.{trial}"
        expected[version] = files
        paths = [str(tmp_path / name) for name in files]
        started = time.monotonic()
        process = subprocess.Popen(
            [*dist, version, *paths], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if trial == 0:
            # The first publish runs whole: its length is the span the kills are spread over.
            assert process.wait(120) == 0
            longest = time.monotonic() - started
            continue
        killed += kill_after(process, rng.uniform(0, longest))
    verify_clean(location)
    present = whole_or_absent(location, "crash", expected)
    print(
        f"\ncrashes: {killed} of {trial} dist publish processes killed; {len(present) - 1} releases came through whole"
    )
    assert "1.0.0" in present
    assert killed == kills


def _writer(url: str, secret: str, acknowledged: dict[str, str], stop: threading.Event, round_: int) -> None:
    """Uploads of 1-4 MiB and publishes until the server dies; every 2xx is recorded."""
    rng = random.Random(round_)
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {secret}"}, timeout=30) as http:
        for n in range(10_000):
            if stop.is_set():
                return
            try:
                data = rng.randbytes(rng.randint(1, 4) * MIB)
                up = http.post("/api/upload", content=data)
                if up.status_code not in (200, 201):
                    return
                version = f"2.{round_}.{n}"
                body = {"version": version, "artifacts": [{"filename": "x.bin", "sha256": up.json()["sha256"]}]}
                done = http.post("/api/apps/served/releases", json=body)
                if done.status_code != 201:
                    return
                acknowledged[version] = up.json()["sha256"]
            except httpx.TransportError:
                return


def test_killed_distd_loses_no_acknowledged_write(
    location: StoreLocation, servers: Servers, tmp_path: Path, size: Size
) -> None:
    rng = random.Random(7)
    rounds = size.pick(2, 50)
    secret = admin_secret(location)
    acknowledged: dict[str, str] = {}
    for round_ in range(rounds):
        server = servers.start()
        process = servers.processes[-1]
        stop = threading.Event()
        writer = threading.Thread(target=_writer, args=(server.url, secret, acknowledged, stop, round_))
        writer.start()
        # Also a raw upload that is always in flight when the kill comes.
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as slow:
            head = f"POST /api/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {secret}\r\n"
            slow.sendall(f"{head}Content-Length: {8 * MIB}\r\n\r\n".encode() + b"s" * MIB)
            time.sleep(rng.uniform(0.1, 1.5))
            process.send_signal(signal.SIGKILL)
            process.wait()
        stop.set()
        writer.join(60)
    verify_clean(location)
    store = open_store(location)
    try:
        for version, sha in acknowledged.items():
            release = releases.get_release(store.uow(), "served", version)
            assert [a.sha256 for a in release.artifacts] == [sha]
            assert store.objects.hash_file(sha) == sha
    finally:
        store.close()
    print(f"\ncrashes: distd killed {rounds} times mid-upload; {len(acknowledged)} acknowledged publishes kept")


def _legacy_rows(location: StoreLocation) -> tuple[int, int]:
    """(apps, releases) in the database, read without opening the store (which would import db.json)."""
    if location.embedded and not location.db_path.exists():
        return 0, 0
    engine = location.engine()
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("releases"):
                return 0, 0
            apps = connection.execute(text("SELECT count(*) FROM apps")).scalar_one()
            found = connection.execute(text("SELECT count(*) FROM releases")).scalar_one()
            return int(apps), int(found)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def legacy_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, int]:
    out = tmp_path_factory.mktemp("legacy") / "store"
    document = generate(out, apps=5, releases=400)
    return out, len(document["apps"]), len(document["releases"])


def test_killed_legacy_imports_leave_db_json_or_everything(
    engine_name: str, tmp_path: Path, legacy_store: tuple[Path, int, int], size: Size
) -> None:
    source, apps, count = legacy_store
    rng = random.Random(8)
    kills = size.pick(2, 60)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIST_")}
    longest, killed, trial = 0.0, 0, -1
    while killed < kills and trial < 4 * kills:
        trial += 1
        root = tmp_path / f"store-{trial}"
        shutil.copytree(source, root)
        url = create_pg_database() if engine_name == "postgresql" else None
        try:
            location = StoreLocation(root, url)
            if url is not None:
                # On PostgreSQL the operator creates the schema; the first load then imports db.json.
                engine = location.engine()
                upgrade_to_head(engine)
                engine.dispose()
            command = [str(BIN / "dist"), *store_args(location), "app", "list"]
            started = time.monotonic()
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if trial == 0:
                assert process.wait(120) == 0
                longest = time.monotonic() - started
            else:
                killed += kill_after(process, rng.uniform(0, longest))
            if (root / "db.json").exists():
                assert _legacy_rows(location) == (0, 0)
            else:
                assert (root / "db.json.imported").exists()
                assert _legacy_rows(location) == (apps, count)
            verify_clean(location)
            assert not (root / "db.json").exists()
            assert _legacy_rows(location) == (apps, count)
        finally:
            if url is not None:
                drop_pg_database(url)
    print(f"\ncrashes: {killed} of {trial} legacy imports killed")
    assert killed == kills
