"""Webhooks and their outbox: one delivery per subscribed endpoint, written by the mutation's own transaction;
leases that give each attempt to one worker; retries, giving up, redelivery."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

from sqlalchemy import text

from dist.domain.enums import AuditAction, DeliveryState
from dist.domain.render import render_audit_event, render_webhook
from dist.domain.webhooks import MAX_RETRIES
from dist.persistence.store import Store, open_store
from dist.persistence.uow import UnitOfWork
from dist.services import apps, audit, channels, outbox, releases, tokens, webhooks
from dist.services.outbox import LEASE, Outcome
from tests.conftest import Clock
from tests.services.conftest import ACTOR, Publish, refused


def deliveries(store: Store) -> list[dict[str, object]]:
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM webhook_deliveries ORDER BY id")).mappings()
        return [dict(row) for row in rows]


def test_every_audited_mutation_queues_one_delivery_per_subscribed_endpoint(
    store: Store, uow: UnitOfWork, publish: Publish
) -> None:
    everything, secret = webhooks.create_webhook(uow, url="https://a.example/hook", actor=ACTOR)
    promotes, _ = webhooks.create_webhook(
        uow, url="https://b.example/hook", events=["channel_promoted", "release_yanked"], app="demo", actor=ACTOR
    )
    webhooks.create_webhook(uow, url="https://c.example/hook", app="other", actor=ACTOR)
    publish("1.0.0", channel="beta")
    publish("1.1.0")
    channels.promote(uow, app="demo", channel="beta", version="1.1.0", actor=ACTOR)
    tokens.create_token(uow, name="ci", scopes=["publish"], actor=ACTOR)

    events = {event.id: event for event in audit.list_events(uow)}
    queued = deliveries(store)
    by_webhook: dict[object, list[str]] = {}
    for row in queued:
        by_webhook.setdefault(row["webhook_id"], []).append(str(row["action"]))
        # The body is the audit event's rendering, fixed when the event was written.
        assert json.loads(str(row["payload"])) == render_audit_event(events[int(str(row["audit_event_id"]))])
        assert row["state"] == "pending" and row["attempts"] == 0
    assert by_webhook[everything.id] == [
        "webhook_created",
        "webhook_created",
        "webhook_created",
        "app_created",
        "release_published",
        "channel_promoted",
        "release_published",
        "channel_promoted",
        "token_created",
    ]
    assert by_webhook[promotes.id] == ["channel_promoted", "channel_promoted"]
    assert len({row["message_id"] for row in queued}) == len(queued)
    # The signing secret is kept to sign, but never reaches the audit log nor a listing.
    assert secret not in json.dumps([e.detail for e in events.values()])
    listed = json.dumps([render_webhook(w) for w in webhooks.list_webhooks(uow)])
    assert secret not in listed and "secret" not in listed


def test_a_transaction_that_does_not_commit_queues_nothing(store: Store, uow: UnitOfWork, publish: Publish) -> None:
    webhooks.create_webhook(uow, url="https://a.example/hook", actor=ACTOR)
    publish("1.0.0", channel="stable")
    before = len(deliveries(store))
    # Refused mutations roll back: their audit events and deliveries with them.
    refused(lambda: publish("1.0.0"))
    refused(lambda: releases.yank(uow, app="demo", version="1.0.0", actor=ACTOR))
    refused(lambda: channels.promote(uow, app="demo", channel="stable", version="1.0.0", actor=ACTOR))
    # A transaction that records an event and then ends without commit (a crash, an error later on).
    with uow.write():
        audit.record(uow, actor=ACTOR, action=AuditAction.RELEASE_YANKED, app="demo", target="1.0.0")
        assert len(deliveries(store)) == before
    assert len(deliveries(store)) == before


def test_a_lease_gives_each_attempt_to_one_worker(store: Store, uow: UnitOfWork, clock: Clock) -> None:
    webhooks.create_webhook(uow, url="https://a.example/hook", actor=ACTOR)
    assert outbox.next_due(uow) == clock.now
    first = outbox.claim(uow, owner="one", limit=10)
    assert [a.url for a in first] == ["https://a.example/hook"] and first[0].secret.startswith("whsec_")
    assert outbox.claim(uow, owner="two", limit=10) == []
    assert outbox.next_due(uow) == clock.now + LEASE
    # A worker that died mid-attempt: once its lease runs out, another takes the delivery, same message.
    clock.advance(seconds=LEASE.total_seconds())
    second = outbox.claim(uow, owner="two", limit=10)
    assert [a.message_id for a in second] == [first[0].message_id]
    # The first worker's late answer no longer counts; the lease holder's does.
    assert outbox.finish(uow, [(first[0], Outcome(status=204))], owner="one") == 0
    assert deliveries(store)[0]["state"] == "pending"
    assert outbox.finish(uow, [(second[0], Outcome(status=204))], owner="two") == 1
    [row] = deliveries(store)
    assert (row["state"], row["attempts"], row["last_status"]) == ("delivered", 1, 204)
    assert outbox.next_due(uow) is None


def test_failures_are_retried_with_backoff_then_given_up_and_can_be_redelivered(
    store: Store, uow: UnitOfWork, clock: Clock
) -> None:
    webhook, _ = webhooks.create_webhook(uow, url="https://a.example/hook", actor=ACTOR)
    started = clock.now
    message_ids = set()
    for made in range(1, MAX_RETRIES + 2):
        due = outbox.next_due(uow)
        assert due is not None
        clock.now = max(clock.now, due)
        [attempt] = outbox.claim(uow, owner="w", limit=10)
        message_ids.add(attempt.message_id)
        assert attempt.attempts == made - 1
        outcome = Outcome(status=500, error="HTTP 500") if made % 2 else Outcome(error="ConnectError: refused")
        assert outbox.finish(uow, [(attempt, outcome)], owner="w", draw=0.5) == 1
    assert len(message_ids) == 1
    assert timedelta(hours=20) <= clock.now - started <= timedelta(hours=26)
    [failed] = webhooks.list_deliveries(uow, failed_only=True)
    assert (failed.state, failed.attempts, failed.last_error) == (DeliveryState.FAILED, MAX_RETRIES + 1, "HTTP 500")
    assert outbox.next_due(uow) is None

    again = webhooks.redeliver(uow, delivery_id=failed.id or 0, actor=ACTOR)
    assert (again.state, again.attempts, again.message_id) == (DeliveryState.PENDING, 0, failed.message_id)
    assert refused(lambda: webhooks.redeliver(uow, delivery_id=failed.id or 0, actor=ACTOR)).code == (
        "webhook.delivery_pending"
    )
    assert refused(lambda: webhooks.redeliver(uow, delivery_id=999, actor=ACTOR)).code == "webhook.delivery_not_found"
    # Sent again as the same message; the redelivery is itself an audited event that the endpoint hears of.
    resent, told = outbox.claim(uow, owner="w", limit=10)
    assert (resent.delivery_id, resent.message_id) == (failed.id, failed.message_id)
    assert json.loads(told.payload)["action"] == "webhook_redelivered" == audit.list_events(uow)[-1].action
    assert [d.webhook_id for d in webhooks.list_deliveries(uow, webhook_id=webhook.id)] == [webhook.id] * 2


def test_deleting_a_webhook_drops_its_deliveries_and_is_audited(store: Store, uow: UnitOfWork) -> None:
    kept, _ = webhooks.create_webhook(uow, url="https://a.example/hook", actor=ACTOR)
    gone, _ = webhooks.create_webhook(uow, url="https://b.example/hook", events=["app_created"], actor=ACTOR)
    deleted = webhooks.delete_webhook(uow, webhook_id=gone.id or 0, actor=ACTOR)
    assert deleted.url == "https://b.example/hook"
    assert [w.id for w in webhooks.list_webhooks(uow)] == [kept.id]
    assert {row["webhook_id"] for row in deliveries(store)} == {kept.id}
    assert refused(lambda: webhooks.delete_webhook(uow, webhook_id=gone.id or 0, actor=ACTOR)).code == (
        "webhook.not_found"
    )
    actions = [e.action for e in audit.list_events(uow)]
    assert actions == [AuditAction.WEBHOOK_CREATED, AuditAction.WEBHOOK_CREATED, AuditAction.WEBHOOK_DELETED]


def test_bad_input_is_refused_and_writes_nothing(store: Store, uow: UnitOfWork) -> None:
    cases = [
        ({"url": "ftp://example.com/"}, "webhook.invalid_url"),
        ({"url": "https://example.com/", "events": ["nope"]}, "webhook.unknown_event"),
        ({"url": "https://example.com/", "app": "Not A Slug"}, "app.invalid_slug"),
    ]
    for arguments, code in cases:
        assert refused(lambda a=arguments: webhooks.create_webhook(uow, actor=ACTOR, **a)).code == code  # type: ignore[misc]
    assert webhooks.list_webhooks(uow) == [] and audit.list_events(uow) == []
    assert refused(lambda: webhooks.list_deliveries(uow, limit=0)).code == "webhook.invalid_limit"


def test_two_workers_claiming_at_once_never_share_a_delivery(store: Store, uow: UnitOfWork) -> None:
    webhooks.create_webhook(uow, url="https://a.example/hook", actor=ACTOR)
    for n in range(60):
        tokens.create_token(uow, name=f"t{n}", scopes=["publish"], actor=ACTOR)
    claimed: dict[str, list[int]] = {"one": [], "two": []}

    def claimer(owner: str) -> None:
        # Each worker on its own engine, as two distd processes would be.
        own = open_store(store.location)
        try:
            while batch := outbox.claim(own.uow(), owner=owner, limit=3):
                claimed[owner] += [a.delivery_id for a in batch]
        finally:
            own.close()

    threads = [threading.Thread(target=claimer, args=(owner,)) for owner in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    together = claimed["one"] + claimed["two"]
    assert sorted(together) == sorted({int(str(row["id"])) for row in deliveries(store)})
    assert len(together) == len(set(together)) == 61


def test_attempts_that_finished_together_are_recorded_in_one_transaction(store: Store, uow: UnitOfWork) -> None:
    for url in ("https://a.example/", "https://b.example/", "https://c.example/"):
        webhooks.create_webhook(uow, url=url, events=["app_created"], actor=ACTOR)
    apps.create_app(uow, slug="demo", actor=ACTOR)
    first, second, third = outbox.claim(uow, owner="w", limit=10)
    outcomes = [(first, Outcome(status=200)), (second, Outcome(status=410, error="HTTP 410")), (third, Outcome())]
    assert outbox.finish(uow, outcomes, owner="w", draw=0.0) == 3
    rows = {row["id"]: row for row in deliveries(store)}
    assert (rows[first.delivery_id]["state"], rows[first.delivery_id]["last_status"]) == ("delivered", 200)
    assert (rows[second.delivery_id]["state"], rows[second.delivery_id]["last_error"]) == ("pending", "HTTP 410")
    assert (rows[third.delivery_id]["state"], rows[third.delivery_id]["attempts"]) == ("pending", 1)
