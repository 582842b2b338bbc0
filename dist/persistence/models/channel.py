from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dist.domain.enums import ChannelEventKind
from dist.persistence.models.base import Base


class ChannelRow(Base):
    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("app_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id"))
    name: Mapped[str] = mapped_column(String(32))
    release_id: Mapped[int | None] = mapped_column(ForeignKey("releases.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ChannelEventRow(Base):
    __tablename__ = "channel_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), index=True)
    kind: Mapped[ChannelEventKind]
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"))
    actor: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime]
