"""The audit log: every mutation appends its events in its own transaction."""

from __future__ import annotations

from typing import Any

from dist.domain.entities import AuditEvent
from dist.domain.enums import AuditAction
from dist.domain.values import parse_audit_limit
from dist.persistence.uow import UnitOfWork
from dist.services import outbox


def record(
    uow: UnitOfWork,
    *,
    actor: str,
    action: AuditAction,
    app: str | None,
    target: str | None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the audit log, in the caller's transaction, and queue its webhook deliveries in
    that same transaction (so they are sent if and only if it commits)."""
    event = uow.audit.add(
        AuditEvent(at=uow.clock(), actor=actor, action=action, app=app, target=target, detail=detail or {})
    )
    outbox.enqueue(uow, event)
    return event


def list_events(uow: UnitOfWork, *, app: str | None = None, limit: int | None = None) -> list[AuditEvent]:
    """The newest `limit` events (all of them when None), oldest first, optionally only those of `app`."""
    if limit is not None:
        parse_audit_limit(limit)
    with uow.read():
        return uow.audit.recent(app=app, limit=limit)
