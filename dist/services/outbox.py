"""The outbox of webhook deliveries: written by each audited mutation in its own transaction, then drained by
the delivery worker of every distd, which leases each due delivery to one instance for one attempt."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from dist.domain.entities import Attempt, AuditEvent, Delivery
from dist.domain.enums import DeliveryState
from dist.domain.webhook_message import new_message_id, payload
from dist.domain.webhooks import retry_delay, subscribes
from dist.persistence.uow import UnitOfWork

# Longer than an attempt can take (its 10 s timeout), so that a lease never runs out under a live attempt;
# a worker killed mid-attempt leaves its deliveries to the others once it ends.
LEASE = timedelta(seconds=30)
MAX_ERROR_LENGTH = 500


def enqueue(uow: UnitOfWork, event: AuditEvent) -> int:
    """In the caller's transaction, one pending delivery of `event` per webhook subscribed to it; returns how
    many. Nothing is sent unless that transaction commits."""
    assert event.id is not None
    subscribed = [w for w in uow.webhooks.for_app(event.app) if subscribes(w, event.action, event.app)]
    if not subscribed:
        return 0
    body = payload(event)
    now = uow.clock()
    uow.deliveries.add_all(
        [
            Delivery(
                webhook_id=webhook.id,
                audit_event_id=event.id,
                action=event.action,
                message_id=new_message_id(),
                payload=body,
                created_at=now,
                next_attempt_at=now,
            )
            for webhook in subscribed
            if webhook.id is not None
        ]
    )
    return len(subscribed)


def next_due(uow: UnitOfWork) -> datetime | None:
    """When the next delivery may be attempted (it may be now or past), None when none is pending."""
    with uow.read():
        return uow.deliveries.next_due()


def claim(uow: UnitOfWork, *, owner: str, limit: int) -> list[Attempt]:
    """Lease up to `limit` due deliveries to `owner` for one attempt each; no other worker takes them until
    the attempt is recorded or the lease runs out."""
    with uow.write():
        now = uow.clock()
        attempts = uow.deliveries.claim(now, owner=owner, lease_until=now + LEASE, limit=limit)
        if attempts:
            uow.commit()
        return attempts


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an attempt came to: the receiver's status (2xx is success) or why there was none."""

    status: int | None = None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def finish(
    uow: UnitOfWork, results: Sequence[tuple[Attempt, Outcome]], *, owner: str, draw: float | None = None
) -> int:
    """Record attempts, all in one transaction: delivered on a 2xx answer; otherwise retried after an
    exponential, jittered delay (`draw` fixes the jitter), or `failed` once the retries are spent. An attempt
    whose lease `owner` no longer held changes nothing. Returns how many were recorded."""
    with uow.write():
        now = uow.clock()
        rows = []
        for attempt, outcome in results:
            made = attempt.attempts + 1
            state, next_attempt_at = DeliveryState.PENDING, attempt.next_attempt_at
            if outcome.delivered:
                state = DeliveryState.DELIVERED
            else:
                delay = retry_delay(made, random.random() if draw is None else draw)
                if delay is None:
                    state = DeliveryState.FAILED
                else:
                    next_attempt_at = now + delay
            rows.append(
                {
                    "delivery_id": attempt.delivery_id,
                    "state": state,
                    "attempts": made,
                    "next_attempt_at": next_attempt_at,
                    "last_attempt_at": now,
                    "last_status": outcome.status,
                    "last_error": outcome.error[:MAX_ERROR_LENGTH] if outcome.error else None,
                    "delivered_at": now if outcome.delivered else None,
                }
            )
        recorded = uow.deliveries.finish(owner, rows)
        uow.commit()
        return recorded


def release(uow: UnitOfWork, *, owner: str) -> None:
    """Give up `owner`'s leases (a worker stopping with attempts unfinished): other workers may retry them now."""
    with uow.write():
        uow.deliveries.release(owner)
        uow.commit()
