from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dist.domain.enums import ReleaseStatus
from dist.persistence.models.base import Base


class ReleaseRow(Base):
    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("app_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id"), index=True)
    version: Mapped[str] = mapped_column(String(128))
    notes: Mapped[str] = mapped_column(Text)
    status: Mapped[ReleaseStatus]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(255))
