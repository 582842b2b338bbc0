"""Two distd processes and the CLI on one store agree on a rollout at the same instant: the same share, the same
answer for every client, each change made by one seen by all; and a ramp moves on by itself, with no write, on
both servers, past their read caches."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from dist.domain.render import parse_timestamp
from dist.persistence.store import StoreLocation
from tests.reliability.conftest import Servers, run_dist

CLIENTS = [f"fleet-{i}" for i in range(400)]
LATEST = "/api/apps/demo/channels/stable/latest"


def answers(http: httpx.Client, url: str) -> dict[str, str]:
    found = {}
    for client in CLIENTS:
        response = http.get(f"{url}{LATEST}", headers={"X-Dist-Client": client})
        assert response.status_code == 200, response.text
        found[client] = response.json()["release"]["version"]
    return found


def rollout(http: httpx.Client, url: str) -> dict[str, object]:
    shown: dict[str, object] = http.get(f"{url}/api/apps/demo/channels/stable").json()["rollout"]
    return shown


def cli(location: StoreLocation, *args: str) -> dict[str, object]:
    done = run_dist(location, *args, "--json")
    assert done.returncode == 0, done.stderr
    document: dict[str, object] = json.loads(done.stdout)
    return document


def test_two_servers_and_the_cli_agree(location: StoreLocation, servers: Servers, tmp_path: Path) -> None:
    first, second = servers.start(), servers.start()
    build = tmp_path / "app.bin"
    build.write_bytes(b"build")
    cli(location, "publish", "demo", "1.0.0", str(build), "--channel", "stable")
    cli(location, "publish", "demo", "2.0.0", str(build))
    with httpx.Client(timeout=30) as http:
        # Cached answers on both servers before the rollout: the CLI's promote must reach them.
        assert set(answers(http, first.url).values()) == {"1.0.0"}
        assert set(answers(http, second.url).values()) == {"1.0.0"}
        cli(location, "promote", "demo", "stable", "--version", "2.0.0", "--ramp", "20,60,100", "--every", "24h")
        for percent in (20, 45):
            if percent == 45:
                cli(location, "rollout", "set", "demo", "stable", "45")
            shown = cli(location, "rollout", "demo", "stable")["rollout"]
            assert rollout(http, first.url) == rollout(http, second.url) == shown
            here, there = answers(http, first.url), answers(http, second.url)
            assert here == there
            share = sum(v == "2.0.0" for v in here.values()) / len(CLIENTS) * 100
            assert abs(share - percent) <= 6, share
        halted = http.post(
            f"{first.url}/api/apps/demo/channels/stable/rollout",
            json={"action": "halt"},
            headers={"Authorization": f"Bearer {admin(location)}"},
        )
        assert halted.status_code == 200
        assert cli(location, "rollout", "demo", "stable")["rollout"] == halted.json()["rollout"]
        assert rollout(http, second.url) == halted.json()["rollout"]


def test_a_ramp_moves_on_by_itself_on_every_server(location: StoreLocation, servers: Servers, tmp_path: Path) -> None:
    first, second = servers.start(), servers.start()
    build = tmp_path / "app.bin"
    build.write_bytes(b"build")
    cli(location, "publish", "demo", "1.0.0", str(build), "--channel", "stable")
    cli(location, "publish", "demo", "2.0.0", str(build))
    staged = cli(location, "promote", "demo", "stable", "--version", "2.0.0", "--ramp", "1,100", "--every", "1m")
    step = parse_timestamp(str(staged["rollout"]["next_step_at"]))  # type: ignore[index]
    with httpx.Client(timeout=30) as http:
        before = {url: answers(http, url) for url in (first.url, second.url)}
        assert before[first.url] == before[second.url]
        assert sum(v == "2.0.0" for v in before[first.url].values()) < len(CLIENTS) * 0.05
        time.sleep(max(0.0, (step - datetime.now(UTC)).total_seconds()) + 0.5)
        # No write since: the cached answers of the first step are gone, and every client gets 2.0.0.
        for url in (first.url, second.url):
            assert set(answers(http, url).values()) == {"2.0.0"}
            assert rollout(http, url)["state"] == "complete"
    assert cli(location, "rollout", "demo", "stable")["rollout"]["state"] == "complete"  # type: ignore[index]


def admin(location: StoreLocation) -> str:
    made = cli(location, "token", "create", "--name", "ops", "--scope", "publish")
    return str(made["secret"])
