"""Staged rollouts over HTTP: a promote staged by percent or ramp, the update check by client id, the rollout
route, If-Match preconditions and the channel's ETag, and the read cache following the ramp."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from dist.persistence.store import Store
from dist.services import audit
from tests.conftest import Clock
from tests.http.conftest import assert_error, publish

LATEST = "/api/apps/demo/channels/stable/latest"
PROMOTE = "/api/apps/demo/channels/stable/promote"
ROLLOUT = "/api/apps/demo/channels/stable/rollout"
CLIENTS = [f"device-{i:04d}" for i in range(2000)]
# Fewer where only growth is watched: every request goes through the whole app in process.
SOME_CLIENTS = CLIENTS[:400]


def two_releases(client: TestClient, headers: dict[str, str]) -> None:
    publish(client, headers, "1.0.0", {"app-1.bin": (b"one", "any")}, channel="stable")
    publish(client, headers, "2.0.0", {"app-2.bin": (b"two", "any")})


def served_version(client: TestClient, client_id: str | None = None, *, header: bool = False) -> str:
    params: dict[str, str] = {}
    headers: dict[str, str] = {}
    if client_id is not None and header:
        headers["X-Dist-Client"] = client_id
    elif client_id is not None:
        params["client"] = client_id
    response = client.get(LATEST, params=params, headers=headers)
    assert response.status_code == 200, response.text
    version: str = response.json()["release"]["version"]
    return version


def shares(client: TestClient, clients: list[str] = CLIENTS) -> set[str]:
    return {c for c in clients if served_version(client, c) == "2.0.0"}


def test_a_percent_rollout_serves_the_share_and_grows_stickily(
    client: TestClient, store: Store, publisher: dict[str, str]
) -> None:
    two_releases(client, publisher)
    staged = client.post(PROMOTE, json={"version": "2.0.0", "rollout": {"percent": 10}}, headers=publisher)
    assert staged.status_code == 200, staged.text
    assert staged.json()["release"] == "2.0.0"
    assert staged.json()["rollout"] == {
        "version": "2.0.0",
        "base": "1.0.0",
        "percent": 10,
        "ramp": None,
        "every": None,
        "state": "rolling",
        "next_step_at": None,
    }
    previous: set[str] = set()
    for percent in (10, 60):
        if percent != 10:
            changed = client.post(ROLLOUT, json={"percent": percent}, headers=publisher)
            assert changed.status_code == 200, changed.text
            assert changed.json()["rollout"]["percent"] == percent
        inside = shares(client)
        assert abs(len(inside) / len(CLIENTS) * 100 - percent) <= 2.5
        assert previous <= inside
        previous = inside
    # The header counts as the parameter does; no id at all gets the base.
    member = sorted(previous)[0]
    assert served_version(client, member, header=True) == "2.0.0"
    assert served_version(client) == "1.0.0"
    up_to_date = client.get(LATEST, params={"client": member, "current": "2.0.0"})
    assert up_to_date.status_code == 204

    completed = client.post(ROLLOUT, json={"action": "complete"}, headers=publisher)
    assert completed.json()["rollout"]["state"] == "complete"
    assert served_version(client) == "2.0.0"
    actions = [e.action.value for e in audit.list_events(store.uow(), app="demo")]
    assert actions.count("rollout_changed") == 2


def test_a_ramp_follows_the_clock_without_writes(client: TestClient, clock: Clock, publisher: dict[str, str]) -> None:
    two_releases(client, publisher)
    body: dict[str, Any] = {"version": "2.0.0", "rollout": {"ramp": [1, 20, 100], "every": "1h"}}
    staged = client.post(PROMOTE, json=body, headers=publisher).json()["rollout"]
    assert (staged["percent"], staged["ramp"], staged["every"], staged["state"]) == (1, [1, 20, 100], "1h", "rolling")
    first = shares(client, SOME_CLIENTS)
    # The cached answers of the first step do not outlive it.
    clock.advance(hours=1)
    shown = client.get("/api/apps/demo/channels/stable").json()["rollout"]
    assert shown["percent"] == 20
    second = shares(client, SOME_CLIENTS)
    assert first < second and abs(len(second) / len(SOME_CLIENTS) * 100 - 20) <= 6
    halted = client.post(ROLLOUT, json={"action": "halt"}, headers=publisher).json()["rollout"]
    assert (halted["state"], halted["percent"], halted["next_step_at"]) == ("halted", 20, None)
    clock.advance(hours=5)
    assert client.get("/api/apps/demo/channels/stable").json()["rollout"]["percent"] == 20
    assert_error(client.post(ROLLOUT, json={"action": "halt"}, headers=publisher), 409, "rollout.already_halted")
    resumed = client.post(ROLLOUT, json={"action": "resume"}, headers=publisher).json()["rollout"]
    assert resumed["state"] == "rolling" and resumed["percent"] == 20
    clock.advance(hours=1)
    assert client.get("/api/apps/demo/channels/stable").json()["rollout"]["state"] == "complete"
    assert served_version(client) == "2.0.0"


def test_rollback_returns_everyone_to_the_base_and_ends_the_rollout(
    client: TestClient, publisher: dict[str, str]
) -> None:
    two_releases(client, publisher)
    client.post(PROMOTE, json={"version": "2.0.0", "rollout": {"percent": 50}}, headers=publisher)
    rolled = client.post("/api/apps/demo/channels/stable/rollback", json={}, headers=publisher)
    assert (rolled.json()["release"], rolled.json()["rollout"]) == ("1.0.0", None)
    assert shares(client, SOME_CLIENTS) == set()
    assert_error(client.post(ROLLOUT, json={"action": "halt"}, headers=publisher), 409, "rollout.none")
    # A plain promote ends a rollout too.
    client.post(PROMOTE, json={"version": "2.0.0", "rollout": {"percent": 50}}, headers=publisher)
    client.post("/api/apps/demo/channels/stable/rollback", json={}, headers=publisher)
    plain = client.post(PROMOTE, json={"version": "2.0.0"}, headers=publisher)
    assert plain.json()["rollout"] is None
    assert served_version(client) == "2.0.0"


def test_bad_rollouts_are_refused_and_write_nothing(
    client: TestClient, store: Store, publisher: dict[str, str]
) -> None:
    two_releases(client, publisher)
    before = len(audit.list_events(store.uow()))
    refusals = [
        ({"version": "2.0.0", "rollout": {"percent": 0}}, 422, "rollout.invalid_percent"),
        ({"version": "2.0.0", "rollout": {"percent": 101}}, 422, "rollout.invalid_percent"),
        ({"version": "2.0.0", "rollout": {"ramp": [10, 5, 100], "every": "1h"}}, 422, "rollout.invalid_ramp"),
        ({"version": "2.0.0", "rollout": {"ramp": [10, 50], "every": "1h"}}, 422, "rollout.invalid_ramp"),
        ({"version": "2.0.0", "rollout": {"ramp": [10, 100], "every": "30s"}}, 422, "rollout.invalid_interval"),
        ({"version": "2.0.0", "rollout": {"ramp": [10, 100], "every": "soon"}}, 422, "rollout.invalid_interval"),
        ({"version": "2.0.0", "rollout": {"ramp": [10, 100]}}, 422, "rollout.invalid_arguments"),
        (
            {"version": "2.0.0", "rollout": {"percent": 5, "ramp": [10, 100], "every": "1h"}},
            422,
            "rollout.invalid_arguments",
        ),
    ]
    for body, status, code in refusals:
        assert_error(client.post(PROMOTE, json=body, headers=publisher), status, code)
    empty = client.post(
        "/api/apps/demo/channels/beta/promote", json={"version": "2.0.0", "rollout": {"percent": 5}}, headers=publisher
    )
    assert_error(empty, 409, "rollout.empty_channel")
    assert_error(client.post(ROLLOUT, json={"action": "pause"}, headers=publisher), 422, "rollout.invalid_action")
    assert_error(client.post(ROLLOUT, json={}, headers=publisher), 422, "rollout.invalid_arguments")
    assert_error(client.post(ROLLOUT, json={"percent": 10}, headers=publisher), 409, "rollout.none")
    assert_error(client.post(ROLLOUT, json={"action": "resume"}, headers=publisher), 409, "rollout.none")
    assert client.get("/api/apps/demo/channels/stable").json()["release"] == "1.0.0"
    assert client.get("/api/apps/demo/channels/beta").status_code == 404
    assert len(audit.list_events(store.uow())) == before
    client.post(PROMOTE, json={"version": "2.0.0", "rollout": {"percent": 5}}, headers=publisher)
    assert_error(client.post(ROLLOUT, json={"action": "resume"}, headers=publisher), 409, "rollout.not_halted")
    assert_error(client.post(ROLLOUT, json={"percent": 0}, headers=publisher), 422, "rollout.invalid_percent")
    both = client.post(ROLLOUT, json={"percent": 10, "action": "halt"}, headers=publisher)
    assert_error(both, 422, "rollout.invalid_arguments")
    # 20.0 is the number 20 in JSON.
    assert client.post(ROLLOUT, json={"percent": 20.0}, headers=publisher).json()["rollout"]["percent"] == 20
    assert_error(client.post(ROLLOUT, json={"percent": 20.5}, headers=publisher), 422, "request.invalid_field")


def test_preconditions_and_the_channel_etag(client: TestClient, store: Store, publisher: dict[str, str]) -> None:
    publish(client, publisher, "1.0.0", {"a.bin": (b"one", "any")})
    publish(client, publisher, "2.0.0", {"a.bin": (b"two", "any")})
    created = client.post(PROMOTE, json={"version": "1.0.0"}, headers={**publisher, "If-Match": '"none"'})
    assert created.status_code == 200, created.text
    shown = client.get("/api/apps/demo/channels/stable")
    assert shown.headers["etag"] == '"1.0.0"'
    before = len(audit.list_events(store.uow()))
    stale = {**publisher, "If-Match": '"0.9.0"'}
    assert_error(client.post(PROMOTE, json={"version": "2.0.0"}, headers=stale), 412, "channel.precondition_failed")
    assert_error(
        client.post(PROMOTE, json={"version": "2.0.0"}, headers={**publisher, "If-Match": '"none"'}),
        412,
        "channel.precondition_failed",
    )
    assert len(audit.list_events(store.uow())) == before
    assert client.get("/api/apps/demo/channels/stable").json()["release"] == "1.0.0"

    current = {**publisher, "If-Match": shown.headers["etag"]}
    staged = client.post(PROMOTE, json={"version": "2.0.0", "rollout": {"percent": 20}}, headers=current)
    assert staged.status_code == 200
    assert client.get("/api/apps/demo/channels/stable").headers["etag"] == '"2.0.0"'
    assert_error(client.post(ROLLOUT, json={"action": "halt"}, headers=current), 412, "channel.precondition_failed")
    assert_error(
        client.post("/api/apps/demo/channels/stable/rollback", json={}, headers=current),
        412,
        "channel.precondition_failed",
    )
    assert client.get("/api/apps/demo/channels/stable").json()["rollout"]["state"] == "rolling"
    now = {**publisher, "If-Match": '"2.0.0"'}
    assert client.post(ROLLOUT, json={"action": "halt"}, headers=now).status_code == 200
    assert client.post("/api/apps/demo/channels/stable/rollback", json={}, headers=now).status_code == 200
    assert client.get("/api/apps/demo/channels/stable").headers["etag"] == '"1.0.0"'


def test_new_clients_are_answered_from_the_cache_by_their_side_of_the_share(
    client: TestClient, clock: Clock, publisher: dict[str, str]
) -> None:
    two_releases(client, publisher)
    client.post(PROMOTE, json={"version": "2.0.0", "rollout": {"ramp": [30, 100], "every": "1h"}}, headers=publisher)
    cache = client.app.state.read_cache  # type: ignore[attr-defined]
    first = {c: served_version(client, c) for c in CLIENTS[:20]}
    hits = cache.hits
    # Once an answer of each side is kept, every other client is a hit, and gets its own side's answer.
    later = {c: served_version(client, c, header=True) for c in CLIENTS[20:220]}
    assert cache.hits - hits >= 195
    assert later == {c: served_version(client, c) for c in CLIENTS[20:220]}
    share = sum(v == "2.0.0" for v in {**first, **later}.values()) / 220 * 100
    assert abs(share - 30) <= 7
    clock.advance(hours=1)
    assert {served_version(client, c) for c in CLIENTS[:50]} == {"2.0.0"}
    # A channel without a rollout answers every client alike: one answer kept for all.
    hits = cache.hits
    assert {served_version(client, c) for c in CLIENTS[300:400]} == {"2.0.0"}
    assert cache.hits - hits >= 99
