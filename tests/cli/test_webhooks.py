"""`dist webhook …` on a local store: the secret printed once, listings without it, deliveries, redeliver,
delete, and the errors of each."""

from __future__ import annotations

import re

from sqlalchemy import text

from dist.persistence.store import StoreLocation
from tests.cli.conftest import Dist, usage_failed

SECRET_RE = re.compile(r"whsec_[A-Za-z0-9+/]{43}=")


def _fail_deliveries(location: StoreLocation) -> None:
    engine = location.engine()
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE webhook_deliveries SET state = 'failed', attempts = 21"))
    finally:
        engine.dispose()


def test_create_list_deliveries_redeliver_delete(dist: Dist, location: StoreLocation, cli_actor: str) -> None:
    created = dist(
        "webhook", "create", "https://hooks.example/dist", "--event", "app_created", "--app", "demo", "--json"
    ).json()
    secret = created.pop("secret")
    assert SECRET_RE.fullmatch(secret)
    assert {k: v for k, v in created.items() if k != "created_at"} == {
        "id": 1,
        "url": "https://hooks.example/dist",
        "events": ["app_created"],
        "app": "demo",
    }
    text_created = dist("webhook", "create", "https://all.example/")
    assert text_created.code == 0 and SECRET_RE.search(text_created.out)
    assert "will not be shown again" in text_created.out

    listed = dist("webhook", "list", "--json").json()
    assert [w["url"] for w in listed["webhooks"]] == ["https://hooks.example/dist", "https://all.example/"]
    table = dist("webhook", "list")
    assert "https://hooks.example/dist" in table.out and "whsec_" not in table.out + str(listed)

    assert dist("app", "create", "demo").code == 0
    found = dist("webhook", "deliveries", "--json").json()["deliveries"]
    # Newest first; the endpoint for every event also heard of its own creation.
    assert [(d["webhook"], d["action"], d["state"]) for d in found] == [
        (2, "app_created", "pending"),
        (1, "app_created", "pending"),
        (2, "webhook_created", "pending"),
    ]
    assert dist("webhook", "deliveries", "--webhook", "1", "--json").json()["deliveries"] == [found[1]]
    assert dist("webhook", "deliveries", "--limit", "1", "--json").json()["deliveries"] == [found[0]]
    assert dist("webhook", "deliveries", "--failed", "--json").json() == {"deliveries": []}
    dist("webhook", "redeliver", str(found[0]["id"])).refused("webhook.delivery_pending")

    _fail_deliveries(location)
    failed = dist("webhook", "deliveries", "--failed", "--json").json()["deliveries"]
    assert [d["id"] for d in failed] == [d["id"] for d in found]
    assert "failed" in dist("webhook", "deliveries", "--failed").out
    again = dist("webhook", "redeliver", str(found[1]["id"]), "--json").json()
    assert (again["state"], again["attempts"], again["message_id"]) == ("pending", 0, found[1]["message_id"])

    deleted = dist("webhook", "delete", "1", "--json").json()
    assert deleted["url"] == "https://hooks.example/dist"
    dist("webhook", "delete", "1").refused("webhook.not_found")
    dist("webhook", "redeliver", "999").refused("webhook.delivery_not_found")
    actions = [e["action"] for e in dist("audit", "--json").json()["events"]]
    assert actions == [
        "webhook_created",
        "webhook_created",
        "app_created",
        "webhook_redelivered",
        "webhook_deleted",
    ]
    assert secret not in str(dist("audit", "--json").json())


def test_bad_input_is_refused_and_writes_nothing(dist: Dist) -> None:
    dist("webhook", "create", "not a url").refused("webhook.invalid_url")
    dist("webhook", "create", "https://a.example/", "--event", "release_exploded").refused("webhook.unknown_event")
    dist("webhook", "create", "https://a.example/", "--app", "Bad Slug").refused("app.invalid_slug")
    usage_failed(dist("webhook", "create"), "usage.invalid")
    usage_failed(dist("webhook", "delete", "one"), "usage.invalid")
    assert dist("webhook", "list", "--json").json() == {"webhooks": []}
    assert dist("audit", "--json").json() == {"events": []}
