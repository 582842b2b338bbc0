"""The queries of webhooks and of their outbox of deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from dist.domain.entities import Attempt, Delivery, Webhook
from dist.domain.enums import AuditAction, DeliveryState
from dist.persistence.models import DeliveryRow, WebhookRow


def _webhook(row: WebhookRow) -> Webhook:
    return Webhook(url=row.url, events=list(row.events), app=row.app, created_at=row.created_at, id=row.id)


def _delivery(row: DeliveryRow) -> Delivery:
    return Delivery(
        webhook_id=row.webhook_id,
        audit_event_id=row.audit_event_id,
        action=AuditAction(row.action),
        message_id=row.message_id,
        payload=row.payload,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        state=DeliveryState(row.state),
        attempts=row.attempts,
        last_attempt_at=row.last_attempt_at,
        last_status=row.last_status,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
        id=row.id,
    )


# What recording an attempt sets, besides freeing its lease.
FINISHED_COLUMNS = (
    "state",
    "attempts",
    "next_attempt_at",
    "last_attempt_at",
    "last_status",
    "last_error",
    "delivered_at",
)


class WebhookRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, webhook: Webhook, secret: str) -> Webhook:
        row = WebhookRow(
            url=webhook.url, events=webhook.events, app=webhook.app, secret=secret, created_at=webhook.created_at
        )
        self.session.add(row)
        self.session.flush()
        webhook.id = row.id
        return webhook

    def get(self, webhook_id: int) -> Webhook | None:
        row = self.session.get(WebhookRow, webhook_id)
        return _webhook(row) if row else None

    def all(self) -> list[Webhook]:
        return [_webhook(row) for row in self.session.scalars(select(WebhookRow).order_by(WebhookRow.id))]

    def for_app(self, app: str | None) -> list[Webhook]:
        """The webhooks of every app, and those of `app`: the candidates for an event about it."""
        query = select(WebhookRow).where(or_(WebhookRow.app.is_(None), WebhookRow.app == app))
        return [_webhook(row) for row in self.session.scalars(query.order_by(WebhookRow.id))]

    def delete(self, webhook_id: int) -> None:
        # Its deliveries go with it (ON DELETE CASCADE): nothing is sent to an endpoint once it is deleted.
        self.session.execute(delete(DeliveryRow).where(DeliveryRow.webhook_id == webhook_id))
        self.session.execute(delete(WebhookRow).where(WebhookRow.id == webhook_id))


class DeliveryRepository:
    def __init__(self, session: Session):
        self.session = session

    def add_all(self, deliveries: Sequence[Delivery]) -> None:
        rows = [
            {
                "webhook_id": d.webhook_id,
                "audit_event_id": d.audit_event_id,
                "action": d.action,
                "message_id": d.message_id,
                "payload": d.payload,
                "state": d.state,
                "attempts": d.attempts,
                "next_attempt_at": d.next_attempt_at,
                "created_at": d.created_at,
            }
            for d in deliveries
        ]
        self.session.execute(insert(DeliveryRow), rows)

    def get(self, delivery_id: int) -> Delivery | None:
        row = self.session.get(DeliveryRow, delivery_id)
        return _delivery(row) if row else None

    def recent(self, *, failed_only: bool, webhook_id: int | None, limit: int) -> list[Delivery]:
        """The newest `limit` deliveries, newest first."""
        query = select(DeliveryRow)
        if failed_only:
            query = query.where(DeliveryRow.state == DeliveryState.FAILED)
        if webhook_id is not None:
            query = query.where(DeliveryRow.webhook_id == webhook_id)
        query = query.order_by(DeliveryRow.id.desc()).limit(limit)
        return [_delivery(row) for row in self.session.scalars(query)]

    def next_due(self) -> datetime | None:
        """When the earliest pending delivery may be attempted: its next attempt time, or the end of the lease
        another worker holds on it."""
        free_at = case(
            (DeliveryRow.lease_until > DeliveryRow.next_attempt_at, DeliveryRow.lease_until),
            else_=DeliveryRow.next_attempt_at,
        )
        query = select(func.min(free_at)).where(DeliveryRow.state == DeliveryState.PENDING)
        found: datetime | None = self.session.execute(query).scalar()
        return found

    def claim(self, now: datetime, *, owner: str, lease_until: datetime, limit: int) -> list[Attempt]:
        """Lease up to `limit` due deliveries to `owner`, in one statement (the write lock is held no longer than
        it runs). On PostgreSQL rows another transaction is claiming are skipped (FOR UPDATE SKIP LOCKED);
        SQLite's write lock (BEGIN IMMEDIATE) lets one claim at a time."""
        due = select(DeliveryRow.id).where(
            DeliveryRow.state == DeliveryState.PENDING,
            DeliveryRow.next_attempt_at <= now,
            or_(DeliveryRow.lease_until.is_(None), DeliveryRow.lease_until <= now),
        )
        due = due.order_by(DeliveryRow.next_attempt_at, DeliveryRow.id).limit(limit)
        if self.session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        leased = self.session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id.in_(due.scalar_subquery()))
            .values(lease_owner=owner, lease_until=lease_until)
            .returning(
                DeliveryRow.id,
                DeliveryRow.webhook_id,
                DeliveryRow.message_id,
                DeliveryRow.payload,
                DeliveryRow.attempts,
                DeliveryRow.next_attempt_at,
            )
        ).all()
        if not leased:
            return []
        endpoints = {
            row.id: (row.url, row.secret)
            for row in self.session.execute(
                select(WebhookRow.id, WebhookRow.url, WebhookRow.secret).where(
                    WebhookRow.id.in_({r.webhook_id for r in leased})
                )
            )
        }
        return [
            Attempt(
                delivery_id=r.id,
                message_id=r.message_id,
                payload=r.payload,
                attempts=r.attempts,
                next_attempt_at=r.next_attempt_at,
                url=endpoints[r.webhook_id][0],
                secret=endpoints[r.webhook_id][1],
            )
            for r in sorted(leased, key=lambda r: r.id)
        ]

    def finish(self, owner: str, outcomes: Sequence[dict[str, Any]]) -> int:
        """Record attempts' outcomes (each with its `delivery_id`) in one statement run for each, where `owner`
        still holds the lease; returns how many were recorded."""
        table = cast(Table, DeliveryRow.__table__)
        statement = (
            update(table)
            .where(
                table.c.id == bindparam("delivery_id"),
                table.c.lease_owner == owner,
                table.c.state == DeliveryState.PENDING,
            )
            .values(
                lease_owner=None,
                lease_until=None,
                # Parameter names that are not column names: SQLAlchemy keeps those for its own SET clause.
                **{name: bindparam(f"new_{name}") for name in FINISHED_COLUMNS},
            )
        )
        rows = [{"delivery_id": o["delivery_id"], **{f"new_{n}": o[n] for n in FINISHED_COLUMNS}} for o in outcomes]
        result = self.session.connection().execute(statement, rows)
        return max(int(getattr(result, "rowcount", 0)), 0)

    def release(self, owner: str) -> None:
        self.session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.lease_owner == owner, DeliveryRow.state == DeliveryState.PENDING)
            .values(lease_owner=None, lease_until=None)
        )

    def requeue(self, delivery_id: int, now: datetime) -> None:
        self.session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id == delivery_id)
            .values(
                state=DeliveryState.PENDING,
                attempts=0,
                next_attempt_at=now,
                lease_owner=None,
                lease_until=None,
                delivered_at=None,
            )
        )
