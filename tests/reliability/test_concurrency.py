"""Eight publishers over HTTP (spread over two distd processes on one store) and two `dist` processes write
to the same apps and channels at once: nothing acknowledged is lost, nothing fails with a 500 or "database is
locked", every channel serves the replay of its events and the audit log holds one event per mutation."""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from dist.domain.entities import Release
from dist.domain.enums import ChannelEventKind
from dist.domain.rules import replay
from dist.domain.values import MAX_PAGE
from dist.persistence.store import Store, StoreLocation, open_store
from dist.services import audit, channels, releases
from tests.reliability.conftest import Outputs, Servers, Size, admin_secret, run_dist

APPS = ["shared", "late"]
CHANNELS = ["stable", "beta"]
ROLLOUT_ACTIONS = ("halt", "resume", "complete")
# Refusals that a race makes legitimate: they change nothing and leave no audit event.
EXPECTED_REFUSALS = {
    "channel.unchanged",
    "channel.nothing_to_roll_back",
    "channel.not_found",
    "release.exists",
    "rollout.empty_channel",
    "rollout.none",
    "rollout.already_halted",
    "rollout.not_halted",
    "rollout.not_rolling",
}


class Ledger:
    """What the writers were told happened, and what went wrong."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.mutations: Counter[tuple[str, str | None, str]] = Counter()
        self.published: dict[tuple[str, str], list[str]] = {}
        self.requests = 0
        self.refusals: Counter[str] = Counter()
        self.failures: list[str] = []

    def acknowledged(self, action: str, app: str | None, target: str) -> None:
        with self.lock:
            self.mutations[(action, app, target)] += 1

    def versions(self, app: str) -> list[str]:
        with self.lock:
            return [version for (slug, version) in self.published if slug == app]

    def answer(self, what: str, status: int, body: Any, ok: tuple[int, ...]) -> bool:
        """True when `status` is a success; records an unexpected refusal as a failure."""
        with self.lock:
            self.requests += 1
            if status in ok:
                return True
            code = body.get("error", {}).get("code") if isinstance(body, dict) else None
            if status in (404, 409) and code in EXPECTED_REFUSALS:
                self.refusals[code] += 1
            else:
                self.failures.append(f"{what}: {status} {body}")
            return False


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def http_writer(index: int, url: str, secret: str, ledger: Ledger, deadline: float) -> None:
    rng = random.Random(index)
    auth = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=url, headers=auth, timeout=60) as http:
        for n in range(1_000_000):
            if time.monotonic() > deadline:
                return
            app = rng.choice(APPS)
            known = ledger.versions(app)
            operations = ["publish", "publish", "promote", "rollback", "duplicate", "stage", "rollout"]
            operation = rng.choice(operations) if known else "publish"
            if operation == "publish":
                data = f"http {index} {n} ".encode() * rng.randint(1, 4000)
                up = http.post("/api/upload", content=data)
                if not ledger.answer("upload", up.status_code, _json(up), (200, 201)):
                    continue
                version = f"1.{index}.{n}"
                channel = rng.choice([None, *CHANNELS])
                body: dict[str, Any] = {
                    "version": version,
                    "artifacts": [{"filename": "a.bin", "sha256": up.json()["sha256"]}],
                }
                if channel:
                    body["channel"] = channel
                done = http.post(f"/api/apps/{app}/releases", json=body)
                if ledger.answer("publish", done.status_code, _json(done), (201,)):
                    ledger.acknowledged("release_published", app, version)
                    with ledger.lock:
                        ledger.published[(app, version)] = [up.json()["sha256"]]
                    if channel:
                        ledger.acknowledged("channel_promoted", app, channel)
            elif operation == "duplicate":
                version = rng.choice(known)
                sha = ledger.published[(app, version)][0]
                body = {"version": version, "artifacts": [{"filename": "a.bin", "sha256": sha}]}
                done = http.post(f"/api/apps/{app}/releases", json=body)
                if done.status_code != 409 or _json(done)["error"]["code"] != "release.exists":
                    ledger.answer("duplicate publish", done.status_code, _json(done), ())
                else:
                    ledger.answer("duplicate publish", done.status_code, _json(done), (409,))
            elif operation == "promote":
                channel = rng.choice(CHANNELS)
                done = http.post(f"/api/apps/{app}/channels/{channel}/promote", json={"version": rng.choice(known)})
                if ledger.answer("promote", done.status_code, _json(done), (200,)):
                    ledger.acknowledged("channel_promoted", app, channel)
            elif operation == "stage":
                channel = rng.choice(CHANNELS)
                staged = rng.choice([{"percent": rng.randint(1, 99)}, {"ramp": [5, 50, 100], "every": "1h"}])
                body = {"version": rng.choice(known), "rollout": staged}
                done = http.post(f"/api/apps/{app}/channels/{channel}/promote", json=body)
                if ledger.answer("staged promote", done.status_code, _json(done), (200,)):
                    ledger.acknowledged("channel_promoted", app, channel)
            elif operation == "rollout":
                channel = rng.choice(CHANNELS)
                change = rng.choice([{"percent": rng.randint(1, 100)}, *({"action": a} for a in ROLLOUT_ACTIONS)])
                done = http.post(f"/api/apps/{app}/channels/{channel}/rollout", json=change)
                if ledger.answer("rollout", done.status_code, _json(done), (200,)):
                    ledger.acknowledged("rollout_changed", app, channel)
            else:
                channel = rng.choice(CHANNELS)
                done = http.post(f"/api/apps/{app}/channels/{channel}/rollback", json={})
                if ledger.answer("rollback", done.status_code, _json(done), (200,)):
                    ledger.acknowledged("channel_rolled_back", app, channel)


def cli_writer(
    index: int, location: StoreLocation, ledger: Ledger, outputs: Outputs, deadline: float, work: Path
) -> None:
    rng = random.Random(100 + index)

    def run(what: str, *args: str) -> dict[str, Any] | None:
        done = run_dist(location, *args, "--json", outputs=outputs)
        with ledger.lock:
            ledger.requests += 1
            if done.returncode == 0:
                result: dict[str, Any] = json.loads(done.stdout)
                return result
            code = done.stderr.removeprefix("error: ").split(":", 1)[0]
            if done.returncode == 1 and code in EXPECTED_REFUSALS:
                ledger.refusals[code] += 1
            else:
                ledger.failures.append(f"dist {what}: exit {done.returncode}: {done.stderr.strip()}")
        return None

    for n in range(1_000_000):
        if time.monotonic() > deadline:
            return
        app = rng.choice(APPS)
        known = ledger.versions(app)
        operation = rng.choice(["publish", "promote", "rollback", "token", "stage", "rollout"]) if known else "publish"
        if operation == "publish":
            files = []
            for f in range(rng.randint(1, 2)):
                path = work / f"cli-{index}-{n}-{f}.bin"
                path.write_bytes(f"cli {index} {n} {f} ".encode() * rng.randint(1, 4000))
                files.append(path)
            version, channel = f"2.{index}.{n}", rng.choice(CHANNELS)
            if run("publish", "publish", app, version, *map(str, files), "--channel", channel) is not None:
                ledger.acknowledged("release_published", app, version)
                ledger.acknowledged("channel_promoted", app, channel)
                with ledger.lock:
                    ledger.published[(app, version)] = [hashlib.sha256(p.read_bytes()).hexdigest() for p in files]
        elif operation == "promote":
            channel = rng.choice(CHANNELS)
            if run("promote", "promote", app, channel, "--version", rng.choice(known)) is not None:
                ledger.acknowledged("channel_promoted", app, channel)
        elif operation == "stage":
            channel = rng.choice(CHANNELS)
            staged = ("--rollout", str(rng.randint(1, 99)))
            if run("staged promote", "promote", app, channel, "--version", rng.choice(known), *staged) is not None:
                ledger.acknowledged("channel_promoted", app, channel)
        elif operation == "rollout":
            channel = rng.choice(CHANNELS)
            change = rng.choice([("set", str(rng.randint(1, 100))), *((a,) for a in ROLLOUT_ACTIONS)])
            if run("rollout", "rollout", change[0], app, channel, *change[1:]) is not None:
                ledger.acknowledged("rollout_changed", app, channel)
        elif operation == "rollback":
            channel = rng.choice(CHANNELS)
            if run("rollback", "rollback", app, channel) is not None:
                ledger.acknowledged("channel_rolled_back", app, channel)
        else:
            token = run("token create", "token", "create", "--name", f"cli-{index}-{n}", "--scope", "publish")
            if token is not None:
                ledger.acknowledged("token_created", None, str(token["id"]))


def run_all(calls: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
        assert not thread.is_alive()


def test_http_and_cli_writers_lose_nothing(
    location: StoreLocation, servers: Servers, outputs: Outputs, size: Size, tmp_path: Path
) -> None:
    first, second = servers.start(), servers.start()
    secret = admin_secret(location)
    ledger = Ledger()
    work = tmp_path / "files"
    work.mkdir()
    deadline = time.monotonic() + size.seconds(6, 120)
    urls = [first.url, second.url]
    run_all(
        [lambda i=i: http_writer(i, urls[i % 2], secret, ledger, deadline) for i in range(8)]
        + [lambda i=i: cli_writer(i, location, ledger, outputs, deadline, work) for i in range(2)]
    )
    print(f"\nconcurrency: {ledger.requests} writes answered, {len(ledger.published)} releases published")
    print(f"concurrency: expected refusals {dict(ledger.refusals)}")
    assert ledger.failures == []
    assert len(ledger.published) > 20
    assert "database is locked" not in outputs.all()
    assert re.search(r'HTTP/1\.1" 5[0-9][0-9]', outputs.all()) is None

    # What one distd acknowledged, the other serves.
    with httpx.Client(timeout=30) as http:
        for (app, version), shas in ledger.published.items():
            for url in urls:
                release = http.get(f"{url}/api/apps/{app}/releases/{version}")
                assert release.status_code == 200, release.text
                assert [a["sha256"] for a in release.json()["artifacts"]] == shas
    _check_store(location, ledger)


def _all_releases(store: Store, app: str) -> list[Release]:
    found: list[Release] = []
    cursor: str | None = None
    while True:
        page, cursor = releases.list_releases(store.uow(), app, limit=MAX_PAGE, cursor=cursor)
        found += page
        if cursor is None:
            return found


def _check_store(location: StoreLocation, ledger: Ledger) -> None:
    store = open_store(location)
    try:
        for (app, version), shas in ledger.published.items():
            release = releases.get_release(store.uow(), app, version)
            assert [a.sha256 for a in release.artifacts] == shas
            assert all(store.objects.hash_file(sha) == sha for sha in shas)
        for app in APPS:
            by_version = {r.version: r for r in _all_releases(store, app)}
            for channel in channels.list_channels(store.uow(), app):
                events = channels.history(store.uow(), app, channel.name)
                stack = replay((e.kind, by_version[e.version].id or 0) for e in events)
                ids = {r.id: v for v, r in by_version.items()}
                assert channel.release == (ids[stack[-1]] if stack else None), channel
                # A rollout stages the top of the stack over the release below it, which a rollback returns to.
                if channel.rollout is not None:
                    assert (channel.rollout.version, channel.rollout.base) == (channel.release, ids[stack[-2]])
                assert all(e.kind in (ChannelEventKind.PROMOTE, ChannelEventKind.ROLLBACK) for e in events)
        logged = Counter((e.action.value, e.app, e.target) for e in audit.list_events(store.uow()))
    finally:
        store.close()
    # The admin token and each app's creation are the only events no writer was told about.
    created = {key for key in logged if key[0] == "app_created"}
    assert created == {("app_created", app, app) for app in APPS}
    assert all(logged[key] == 1 for key in created)
    mutations = {key for key in logged if key[0] not in ("app_created", "token_created")}
    assert {key: logged[key] for key in mutations} == {
        key: n for key, n in ledger.mutations.items() if key[0] != "token_created"
    }
    tokens = Counter({key: n for key, n in logged.items() if key[0] == "token_created"})
    # The admin token is the one token no writer created.
    assert sum((tokens - ledger_tokens(ledger)).values()) == 1
    assert ledger_tokens(ledger) - tokens == Counter()


def ledger_tokens(ledger: Ledger) -> Counter[tuple[str, str | None, str]]:
    return Counter({key: n for key, n in ledger.mutations.items() if key[0] == "token_created"})


def test_racing_publishes_of_one_version_get_one_201_and_release_exists(
    location: StoreLocation, servers: Servers
) -> None:
    first, second = servers.start(), servers.start()
    secret = admin_secret(location)
    auth = {"Authorization": f"Bearer {secret}"}
    sha = httpx.post(f"{first.url}/api/upload", content=b"raced", headers=auth).json()["sha256"]
    answers: list[tuple[int, str]] = []
    for round_ in range(5):
        barrier = threading.Barrier(8)
        body = {"version": f"1.0.{round_}", "channel": "stable", "artifacts": [{"filename": "a", "sha256": sha}]}
        # Odd rounds race on an app that does not exist yet, so its creation races too.
        path = f"/api/apps/race{round_}/releases" if round_ % 2 else "/api/apps/race/releases"

        def publish(
            url: str, body: dict[str, Any] = body, barrier: threading.Barrier = barrier, path: str = path
        ) -> None:
            with httpx.Client(base_url=url, headers=auth, timeout=60) as http:
                barrier.wait()
                done = http.post(path, json=body)
                answers.append((done.status_code, _json(done).get("error", {}).get("code", "")))

        run_all([lambda url=url: publish(url) for url in [first.url, second.url] * 4])
    assert Counter(answers) == Counter({(201, ""): 5, (409, "release.exists"): 35})
