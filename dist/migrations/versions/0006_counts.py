"""Download counts and update checks per UTC day (and the token scope `metrics`, which needs no table).

Revision ID: 0006_counts
Revises: 0005_rollouts
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_counts"
down_revision: str | None = "0005_rollouts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# 64-bit like every id since 0002 (SQLite's INTEGER is 64-bit already and must stay the rowid's type).
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "artifact_downloads",
        sa.Column("id", ID, nullable=False),
        sa.Column("artifact_id", ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact_id"], ["artifacts.id"], name=op.f("fk_artifact_downloads_artifact_id_artifacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artifact_downloads")),
        sa.UniqueConstraint("artifact_id", "day", name=op.f("uq_artifact_downloads_artifact_id_day")),
    )
    op.create_table(
        "blob_downloads",
        sa.Column("id", ID, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["sha256"], ["blobs.sha256"], name=op.f("fk_blob_downloads_sha256_blobs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blob_downloads")),
        sa.UniqueConstraint("sha256", "day", name=op.f("uq_blob_downloads_sha256_day")),
    )
    op.create_table(
        "update_checks",
        sa.Column("id", ID, nullable=False),
        sa.Column("app_id", ID, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("version", sa.String(length=128), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], name=op.f("fk_update_checks_app_id_apps")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_update_checks")),
        sa.UniqueConstraint(
            "app_id", "channel", "version", "day", name=op.f("uq_update_checks_app_id_channel_version_day")
        ),
    )


def downgrade() -> None:
    # The version before this one knows no `metrics` scope and would fail to read a token holding it: such a
    # token keeps its other scopes (a token with none authenticates and can do nothing).
    tokens = sa.table("tokens", sa.column("id", ID), sa.column("scopes", sa.JSON()))
    connection = op.get_bind()
    for token_id, scopes in connection.execute(sa.select(tokens.c.id, tokens.c.scopes)).all():
        if "metrics" in scopes:
            kept = [s for s in scopes if s != "metrics"]
            connection.execute(tokens.update().where(tokens.c.id == token_id).values(scopes=kept))
    op.drop_table("update_checks")
    op.drop_table("blob_downloads")
    op.drop_table("artifact_downloads")
