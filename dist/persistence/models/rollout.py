from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from dist.persistence.models.base import Base


class RolloutRow(Base):
    """The staged rollout of a channel's newest release over its base: one row per channel while one is active."""

    __tablename__ = "rollouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), unique=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"))
    base_release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"))
    # Percent steps, the first from started_at; every_seconds between them (null: one fixed percent).
    steps: Mapped[list[int]] = mapped_column(JSON())
    every_seconds: Mapped[int | None]
    started_at: Mapped[datetime]
    halted_at: Mapped[datetime | None]
    # Time spent halted before halted_at, in microseconds: it does not count towards the next step.
    halted_microseconds: Mapped[int] = mapped_column(server_default="0")
    updated_at: Mapped[datetime]
