from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dist.domain.values import DEFAULT_CHANNEL
from dist.persistence.models.base import Base


class AppRow(Base):
    __tablename__ = "apps"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    default_channel: Mapped[str] = mapped_column(String(32), server_default=DEFAULT_CHANNEL)
    minisign_public_key: Mapped[str | None] = mapped_column(Text)
    ed25519_public_key: Mapped[str | None] = mapped_column(String(44))
