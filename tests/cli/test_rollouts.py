"""`dist promote --rollout/--ramp`, `dist rollout …` and `--expect`, as real processes: on a local store, and
against a real distd with the same output, --json and exit codes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from dist.persistence.store import StoreLocation
from tests.cli.conftest import Dist, snapshot
from tests.cli.test_remote import Runner, comparable, server  # noqa: F401  (the fixture)

TIME = re.compile(r"\d{4}-\d\d-\d\dT[0-9:.]+Z")
SEQUENCE: list[tuple[str, ...]] = [
    ("publish", "demo", "1.0.0", "a.bin", "--channel", "stable"),
    ("publish", "demo", "2.0.0", "a.bin"),
    ("promote", "demo", "beta", "--version", "2.0.0", "--rollout", "10"),
    ("promote", "demo", "stable", "--version", "2.0.0", "--rollout", "0"),
    ("promote", "demo", "stable", "--version", "2.0.0", "--ramp", "1,50,40,100", "--every", "1h"),
    ("promote", "demo", "stable", "--version", "2.0.0", "--ramp", "1,50,100", "--every", "10s"),
    ("promote", "demo", "stable", "--version", "2.0.0", "--ramp", "1,50,100"),
    ("promote", "demo", "stable", "--version", "2.0.0", "--rollout", "5", "--ramp", "5,100", "--every", "1h"),
    ("rollout", "halt", "demo", "stable"),
    ("promote", "demo", "stable", "--version", "2.0.0", "--ramp", "1,50,100", "--every", "24h", "--expect", "0.1.0"),
    ("promote", "demo", "stable", "--version", "2.0.0", "--ramp", "1,50,100", "--every", "24h", "--expect", "1.0.0"),
    ("rollout", "demo", "stable"),
    ("channel", "show", "demo", "stable"),
    ("channel", "list", "demo"),
    ("rollout", "resume", "demo", "stable"),
    ("rollout", "halt", "demo", "stable", "--expect", "1.0.0"),
    ("rollout", "halt", "demo", "stable", "--expect", "2.0.0"),
    ("rollout", "halt", "demo", "stable"),
    ("rollout", "resume", "demo", "stable"),
    ("rollout", "set", "demo", "stable", "101"),
    ("rollout", "set", "demo", "stable", "30"),
    ("rollout", "complete", "demo", "stable"),
    ("rollout", "complete", "demo", "stable"),
    ("rollback", "demo", "stable", "--expect", "1.0.0"),
    ("rollback", "demo", "stable", "--expect", "2.0.0"),
    ("rollout", "demo", "stable"),
]
EXPECTED_CODES = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0]
REFUSALS = {
    2: "rollout.empty_channel",
    3: "rollout.invalid_percent",
    4: "rollout.invalid_ramp",
    5: "rollout.invalid_interval",
    6: "rollout.invalid_arguments",
    7: "rollout.invalid_arguments",
    8: "rollout.none",
    9: "channel.precondition_failed",
    14: "rollout.not_halted",
    15: "channel.precondition_failed",
    17: "rollout.already_halted",
    19: "rollout.invalid_percent",
    22: "rollout.not_rolling",
    23: "channel.precondition_failed",
}


def moving(document: Any) -> Any:
    """Less what differs between two runs by nature: the instant each started its ramp."""
    if isinstance(document, dict):
        return {k: "<time>" if k == "next_step_at" and v is not None else moving(v) for k, v in document.items()}
    if isinstance(document, list):
        return [moving(item) for item in document]
    return document


def test_rollout_commands_refuse_with_their_codes_and_write_nothing(
    dist: Dist, location: StoreLocation, tmp_path: Path
) -> None:
    (dist.cwd / "a.bin").write_bytes(b"build")
    for index, command in enumerate(SEQUENCE):
        if index in REFUSALS:
            before = snapshot(location)
            dist(*command).refused(REFUSALS[index])
            assert snapshot(location) == before, command
            continue
        done = dist(*command, "--json")
        assert done.code == EXPECTED_CODES[index] == 0, (command, done.err)
        shown = done.json()
        if command[:2] == ("rollout", "set"):
            assert (shown["rollout"]["percent"], shown["rollout"]["ramp"]) == (30, None)
        if command[:2] == ("rollout", "complete"):
            assert shown["rollout"]["state"] == "complete"
        if command[-2:] == ("--expect", "1.0.0"):
            assert shown["rollout"]["percent"] == 1 and shown["rollout"]["ramp"] == [1, 50, 100]
            assert shown["rollout"]["every"] == "24h" and shown["rollout"]["base"] == "1.0.0"
    assert dist("rollout", "demo", "stable", "--json").json()["rollout"] is None
    actions = [e["action"] for e in dist("audit", "--json").json()["events"]]
    assert actions.count("rollout_changed") == 4
    listed = dist("channel", "list", "demo")
    assert listed.code == 0 and "stable" in listed.out


def test_remote_rollout_commands_match_local_ones(server: tuple[str, str], tmp_path: Path) -> None:  # noqa: F811
    url, secret = server
    local_dir, remote_dir = tmp_path / "local", tmp_path / "elsewhere"
    for directory in (local_dir, remote_dir):
        directory.mkdir()
        (directory / "a.bin").write_bytes(b"build")
    local = Runner(local_dir, "--store", str(tmp_path / "local-store"))
    remote = Runner(remote_dir, "--server", url, env={"DIST_TOKEN": secret, "HOME": str(tmp_path / "home")})
    for index, command in enumerate(SEQUENCE):
        # Text for the reads, JSON for everything (a write run twice would be refused the second time).
        reads = command[:2] in (("channel", "show"), ("channel", "list")) or command == ("rollout", "demo", "stable")
        for flags in ((), ("--json",)) if reads else (("--json",),):
            here, there = local(*command, *flags), remote(*command, *flags)
            assert (here.code, there.code) == (EXPECTED_CODES[index],) * 2, (command, here, there)
            if here.code != 0:
                assert there.err == here.err and there.out == "", (command, here.err, there.err)
            elif flags:
                assert moving(comparable(there.json())) == moving(comparable(here.json())), command
            else:
                # Off a terminal: the same lines but for the instants (when the channel moved, the next step).
                assert len(there.out.splitlines()) == len(here.out.splitlines()), (here.out, there.out)
                assert TIME.sub("<time>", there.out) == TIME.sub("<time>", here.out), (here.out, there.out)
