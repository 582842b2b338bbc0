"""Webhooks and their deliveries: the endpoints, and the outbox that mutations write in their transaction.

Revision ID: 0003_webhooks
Revises: 0002_blobs_signatures
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_webhooks"
down_revision: str | None = "0002_blobs_signatures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# 64-bit like every id since 0002 (SQLite's INTEGER is 64-bit already and must stay the rowid's type).
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def timestamp(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", ID, nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("app", sa.String(length=64), nullable=True),
        sa.Column("secret", sa.String(length=128), nullable=False),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", ID, nullable=False),
        sa.Column("webhook_id", ID, nullable=False),
        sa.Column("audit_event_id", ID, nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("attempts", ID, server_default="0", nullable=False),
        timestamp("next_attempt_at"),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        timestamp("lease_until", nullable=True),
        timestamp("last_attempt_at", nullable=True),
        sa.Column("last_status", ID, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        timestamp("created_at"),
        timestamp("delivered_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["webhook_id"], ["webhooks.id"], name=op.f("fk_webhook_deliveries_webhook_id_webhooks"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["audit_event_id"], ["audit_events.id"], name=op.f("fk_webhook_deliveries_audit_event_id_audit_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("message_id", name=op.f("uq_webhook_deliveries_message_id")),
    )
    op.create_index(op.f("ix_webhook_deliveries_webhook_id"), "webhook_deliveries", ["webhook_id"])
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_due", table_name="webhook_deliveries")
    op.drop_index(op.f("ix_webhook_deliveries_webhook_id"), table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
    # The version before this one knows no webhook actions and would fail to read an audit log holding one (after
    # the deliveries, which refer to audit events).
    op.execute("DELETE FROM audit_events WHERE action IN ('webhook_created', 'webhook_deleted', 'webhook_redelivered')")
