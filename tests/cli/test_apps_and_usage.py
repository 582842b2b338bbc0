"""init and app commands, global options, help, and the usage errors that exit 2 before anything runs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from dist.persistence.store import StoreLocation
from tests.cli.conftest import DIST, Dist, snapshot, usage_failed


def test_init_and_apps(dist: Dist, location: StoreLocation, cli_actor: str) -> None:
    initialised = dist("init", "--json").json()
    assert initialised["store"] == str(location.root.resolve())
    assert (location.root / "objects").is_dir() and (location.root / "tmp").is_dir()
    assert location.embedded == (location.root / "dist.db").is_file()

    created = dist("app", "create", "demo", "--name", "Demo App", "--json").json()
    assert (created["slug"], created["name"]) == ("demo", "Demo App")
    dist("app", "create", "demo").refused("app.exists")
    dist("app", "create", "Not-A-Slug").refused("app.invalid_slug")
    dist("app", "show", "ghost").refused("app.not_found")

    assert dist("app", "list", "--json").json() == {"apps": [created]}
    assert dist("app", "show", "demo", "--json").json() == {**created, "channels": []}
    state = snapshot(location)
    assert [(e["action"], e["actor"]) for e in state["audit"]] == [("app_created", cli_actor)]

    # Global options may also follow the command.
    after = dist.raw("app", "list", *dist.global_options())
    assert after.code == 0 and "Demo App" in after.out


def test_init_reports_an_existing_store(sqlite_dist: Dist) -> None:
    assert sqlite_dist("init", "--json").json()["created"] is True
    again = sqlite_dist("init")
    assert again.code == 0 and "already initialised" in again.out


def test_store_from_the_environment(tmp_path: Path) -> None:
    env = {**os.environ, "DIST_STORE": str(tmp_path / "env-store")}
    env.pop("DIST_DATABASE_URL", None)
    done = subprocess.run([str(DIST), "app", "create", "envapp"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert snapshot(StoreLocation(tmp_path / "env-store"))["apps"][0]["slug"] == "envapp"


def test_help_reads_well(sqlite_dist: Dist) -> None:
    top = sqlite_dist.raw("--help")
    assert top.code == 0
    for command in ("init", "app", "publish", "release", "promote", "rollback", "channel", "token", "audit"):
        assert command in top.out
    token = sqlite_dist("token", "--help")
    assert token.code == 0 and "Usage: dist token" in token.out
    assert all(sub in token.out for sub in ("create", "list", "revoke"))


def test_usage_errors_exit_2_and_change_nothing(sqlite_dist: Dist) -> None:
    run = sqlite_dist
    work = run.cwd
    (work / "a.bin").write_bytes(b"x")
    (work / "notes.md").write_text("n")
    usage_failed(run("publish", "demo", "1.0.0", "missing.bin"), "publish.file_not_found")
    usage_failed(run("publish", "demo", "1.0.0", str(work)), "publish.not_a_file")
    both = ["--notes", "n", "--notes-file", "notes.md"]
    usage_failed(run("publish", "demo", "1.0.0", "a.bin", *both), "usage.conflicting_options")
    usage_failed(run("publish", "demo", "1.0.0"), "usage.invalid")
    usage_failed(run("promote", "demo", "stable"), "usage.missing_option")
    usage_failed(run("promote", "demo", "stable", "--version", "1.0.0", "--from", "beta"), "usage.conflicting_options")
    usage_failed(run("frobnicate"), "usage.invalid")
    usage_failed(run.raw("--store"), "usage.invalid")
    assert not run.location.root.exists()
