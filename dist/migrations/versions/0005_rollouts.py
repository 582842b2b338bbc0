"""Staged rollouts: the share of a channel's clients that get its newest release, on a schedule.

Revision ID: 0005_rollouts
Revises: 0004_idempotency
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_rollouts"
down_revision: str | None = "0004_idempotency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 64-bit like every id since 0002 (SQLite's INTEGER is 64-bit already and must stay the rowid's type).
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "rollouts",
        sa.Column("id", ID, nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("release_id", ID, nullable=False),
        sa.Column("base_release_id", ID, nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("every_seconds", ID, nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("halted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("halted_microseconds", ID, server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], name=op.f("fk_rollouts_channel_id_channels")),
        sa.ForeignKeyConstraint(["release_id"], ["releases.id"], name=op.f("fk_rollouts_release_id_releases")),
        sa.ForeignKeyConstraint(
            ["base_release_id"], ["releases.id"], name=op.f("fk_rollouts_base_release_id_releases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollouts")),
        sa.UniqueConstraint("channel_id", name=op.f("uq_rollouts_channel_id")),
    )


def downgrade() -> None:
    op.drop_table("rollouts")
    # The version before this one knows no rollout action and would fail to read an audit log holding one; the
    # webhook deliveries of those events go first, since they refer to them.
    op.execute(
        "DELETE FROM webhook_deliveries WHERE audit_event_id IN "
        "(SELECT id FROM audit_events WHERE action = 'rollout_changed')"
    )
    op.execute("DELETE FROM audit_events WHERE action = 'rollout_changed'")
