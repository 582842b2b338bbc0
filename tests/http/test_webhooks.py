"""/api/webhooks (admin scope), and the delivery worker running inside the app: a receiver on loopback gets
signed deliveries when private addresses are allowed, and a delivery there is refused, saying why, when not."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from dist.http.app import create_app
from dist.persistence.store import Store
from tests.http.conftest import assert_error, bearer, make_token, publish
from tests.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    try:
        yield running
    finally:
        running.stop()


def wait_for_state(client: TestClient, admin: dict[str, str], state: str, timeout: float = 20) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        found = client.get("/api/webhooks/deliveries", headers=admin).json()["deliveries"]
        if found and all(d["state"] == state or d["last_error"] for d in found) and found[0]["attempts"]:
            first: dict[str, object] = found[-1]
            return first
        assert time.monotonic() < deadline, found
        time.sleep(0.05)


def test_webhook_routes_need_the_admin_scope(client: TestClient, store: Store) -> None:
    publisher = bearer(make_token(store, "publish")[1])
    assert_error(client.get("/api/webhooks"), 401, "auth.missing")
    assert_error(client.get("/api/webhooks", headers=publisher), 403, "auth.missing_scope")
    assert_error(
        client.post("/api/webhooks", json={"url": "https://a.example/"}, headers=publisher), 403, "auth.missing_scope"
    )
    assert_error(client.get("/api/webhooks/deliveries", headers=publisher), 403, "auth.missing_scope")
    assert_error(client.delete("/api/webhooks/1", headers=publisher), 403, "auth.missing_scope")
    assert_error(client.post("/api/webhooks/deliveries/1/redeliver", headers=publisher), 403, "auth.missing_scope")


def test_create_list_delete_over_http(client: TestClient, admin: dict[str, str]) -> None:
    created = client.post(
        "/api/webhooks",
        json={"url": "https://hooks.example/dist", "events": ["release_published"], "app": "demo"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert {k: v for k, v in body.items() if k not in ("secret", "created_at")} == {
        "id": 1,
        "url": "https://hooks.example/dist",
        "events": ["release_published"],
        "app": "demo",
    }
    listed = client.get("/api/webhooks", headers=admin)
    assert listed.json() == {"webhooks": [{k: v for k, v in body.items() if k != "secret"}]}
    assert body["secret"] not in listed.text
    assert_error(client.post("/api/webhooks", json={"url": "gopher://x/"}, headers=admin), 422, "webhook.invalid_url")
    assert_error(
        client.post("/api/webhooks", json={"url": "https://x.example/", "events": "all"}, headers=admin),
        422,
        "request.invalid_field",
    )
    assert_error(
        client.post("/api/webhooks", json={"url": "https://x.example/", "secret": "mine"}, headers=admin),
        422,
        "request.unknown_field",
    )
    assert client.delete("/api/webhooks/1", headers=admin).json()["url"] == "https://hooks.example/dist"
    assert_error(client.delete("/api/webhooks/1", headers=admin), 404, "webhook.not_found")
    assert client.get("/api/webhooks", headers=admin).json() == {"webhooks": []}
    audit_actions = [e["action"] for e in client.get("/api/webhooks/deliveries", headers=admin).json()["deliveries"]]
    assert audit_actions == []


def test_the_worker_delivers_signed_events_to_a_local_receiver(
    store: Store, admin: dict[str, str], receiver: Receiver
) -> None:
    with TestClient(create_app(store, webhooks_allow_private=True), raise_server_exceptions=False) as client:
        created = client.post(
            "/api/webhooks", json={"url": receiver.url, "events": ["release_published"]}, headers=admin
        )
        receiver.secret = created.json()["secret"]
        publish(client, admin, "1.0.0", {"a.bin": (b"a", "any")})
        [got] = receiver.wait_for(1)
        assert receiver.rejected == []
        assert got.body["action"] == "release_published" and got.body["target"] == "1.0.0"
        assert got.body["detail"]["version"] == "1.0.0"
        delivered = wait_for_state(client, admin, "delivered")
        assert (delivered["message_id"], delivered["last_status"]) == (got.message_id, 204)

        again = client.post(f"/api/webhooks/deliveries/{delivered['id']}/redeliver", headers=admin)
        assert again.status_code == 200 and again.json()["state"] == "pending"
        receiver.wait_for(1)
        deadline = time.monotonic() + 20
        while len(receiver.ids()) < 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        # A redelivery is the same message: the receiver can tell it already has it.
        assert receiver.ids() == [got.message_id, got.message_id]
        assert_error(
            client.post("/api/webhooks/deliveries/99/redeliver", headers=admin), 404, "webhook.delivery_not_found"
        )


def test_a_private_address_is_refused_unless_allowed(store: Store, admin: dict[str, str], receiver: Receiver) -> None:
    with TestClient(create_app(store), raise_server_exceptions=False) as client:
        client.post("/api/webhooks", json={"url": receiver.url}, headers=admin)
        refused = wait_for_state(client, admin, "pending")
        assert refused["state"] == "pending" and refused["last_status"] is None
        assert refused["last_error"] == (
            "refused: 127.0.0.1 is a loopback address; distd --webhooks-allow-private allows it"
        )
        assert receiver.attempts == 0
        failed = client.get("/api/webhooks/deliveries?failed=true", headers=admin).json()
        assert failed == {"deliveries": []}


def test_an_admin_token_of_one_app_manages_only_that_apps_webhooks(client: TestClient, store: Store) -> None:
    limited = bearer(make_token(store, "admin", app="demo")[1])
    mine = client.post("/api/webhooks", json={"url": "https://a.example/", "app": "demo"}, headers=limited)
    assert mine.status_code == 201, mine.text
    assert_error(
        client.post("/api/webhooks", json={"url": "https://a.example/"}, headers=limited), 403, "auth.app_forbidden"
    )
    assert_error(client.get("/api/webhooks", headers=limited), 403, "auth.app_forbidden")
    assert_error(client.delete("/api/webhooks/1", headers=limited), 403, "auth.app_forbidden")
