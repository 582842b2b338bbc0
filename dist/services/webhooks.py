"""Webhooks: register an endpoint (its signing secret is shown once), list, delete, and look into or repeat
its deliveries. Each change is audited, and so is itself an event that webhooks may be told of."""

from __future__ import annotations

from dist.domain.entities import Delivery, Webhook
from dist.domain.enums import AuditAction, DeliveryState
from dist.domain.errors import Conflict, NotFound
from dist.domain.render import render_delivery, render_webhook
from dist.domain.values import MAX_ID, parse_slug
from dist.domain.webhooks import (
    DEFAULT_DELIVERIES_LIMIT,
    new_webhook_secret,
    parse_deliveries_limit,
    parse_events,
    parse_webhook_url,
)
from dist.persistence.uow import UnitOfWork
from dist.services.audit import record


def create_webhook(
    uow: UnitOfWork, *, url: str, events: list[str] | None = None, app: str | None = None, actor: str
) -> tuple[Webhook, str]:
    """Register an endpoint for the audit actions in `events` (all when none), of `app` only when given.
    Returns it with its `whsec_` signing secret, which no listing ever shows again."""
    url = parse_webhook_url(url)
    chosen = parse_events(events or [])
    if app is not None:
        parse_slug(app)
    with uow.write():
        secret = new_webhook_secret()
        webhook = uow.webhooks.add(Webhook(url=url, events=chosen, app=app, created_at=uow.clock()), secret)
        record(
            uow,
            actor=actor,
            action=AuditAction.WEBHOOK_CREATED,
            app=app,
            target=str(webhook.id),
            detail=render_webhook(webhook),
        )
        uow.commit()
        return webhook, secret


def list_webhooks(uow: UnitOfWork) -> list[Webhook]:
    """Every webhook, oldest first, without secrets."""
    with uow.read():
        return uow.webhooks.all()


def delete_webhook(uow: UnitOfWork, *, webhook_id: int, actor: str) -> Webhook:
    """Delete an endpoint and its deliveries: nothing more is sent to it. `webhook.not_found` when unknown."""
    with uow.write():
        webhook = _webhook(uow, webhook_id)
        uow.webhooks.delete(webhook_id)
        record(
            uow,
            actor=actor,
            action=AuditAction.WEBHOOK_DELETED,
            app=webhook.app,
            target=str(webhook_id),
            detail=render_webhook(webhook),
        )
        uow.commit()
        return webhook


def list_deliveries(
    uow: UnitOfWork, *, failed_only: bool = False, webhook_id: int | None = None, limit: int | None = None
) -> list[Delivery]:
    """The newest deliveries first (`limit`, default 100), only the given up ones with `failed_only`."""
    limit = DEFAULT_DELIVERIES_LIMIT if limit is None else parse_deliveries_limit(limit)
    with uow.read():
        if webhook_id is not None:
            _webhook(uow, webhook_id)
        return uow.deliveries.recent(failed_only=failed_only, webhook_id=webhook_id, limit=limit)


def redeliver(uow: UnitOfWork, *, delivery_id: int, actor: str) -> Delivery:
    """Send a delivery again, now, with the same webhook-id and body, and a fresh day of retries.
    `webhook.delivery_not_found` when unknown; `webhook.delivery_pending` while it is still being tried."""
    with uow.write():
        delivery = uow.deliveries.get(delivery_id) if 1 <= delivery_id <= MAX_ID else None
        if delivery is None:
            raise NotFound("webhook.delivery_not_found", f"there is no delivery {delivery_id}")
        if delivery.state == DeliveryState.PENDING:
            raise Conflict("webhook.delivery_pending", f"delivery {delivery_id} is still pending; it will be tried")
        uow.deliveries.requeue(delivery_id, uow.clock())
        requeued = uow.deliveries.get(delivery_id)
        assert requeued is not None
        webhook = uow.webhooks.get(requeued.webhook_id)
        record(
            uow,
            actor=actor,
            action=AuditAction.WEBHOOK_REDELIVERED,
            app=webhook.app if webhook else None,
            target=str(delivery_id),
            detail=render_delivery(requeued),
        )
        uow.commit()
        return requeued


def _webhook(uow: UnitOfWork, webhook_id: int) -> Webhook:
    webhook = uow.webhooks.get(webhook_id) if 1 <= webhook_id <= MAX_ID else None
    if webhook is None:
        raise NotFound("webhook.not_found", f"there is no webhook {webhook_id}")
    return webhook
