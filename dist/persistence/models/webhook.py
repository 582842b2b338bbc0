from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dist.domain.enums import AuditAction, DeliveryState
from dist.persistence.models.base import Base


class WebhookRow(Base):
    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    # A JSON array of audit actions, or ["*"].
    events: Mapped[list[str]]
    app: Mapped[str | None] = mapped_column(String(64))
    # Kept as given: it signs every delivery, so it cannot be stored as a one-way hash.
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]


class DeliveryRow(Base):
    """The outbox: one row per audit event and subscribed webhook, written in the event's transaction."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    audit_event_id: Mapped[int] = mapped_column(ForeignKey("audit_events.id"))
    action: Mapped[AuditAction]
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[DeliveryState]
    attempts: Mapped[int] = mapped_column(server_default="0")
    next_attempt_at: Mapped[datetime]
    # Who is making the current attempt, and until when others must leave it alone.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
