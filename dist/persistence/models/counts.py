"""Download counts and update checks, one row per thing counted and UTC day; flushes add to `count`."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dist.persistence.models.base import Base


class ArtifactDownloadRow(Base):
    """GETs of a release's file (by release and file name) that started at byte 0."""

    __tablename__ = "artifact_downloads"
    __table_args__ = (UniqueConstraint("artifact_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    artifact_id: Mapped[int] = mapped_column(ForeignKey("artifacts.id"))
    day: Mapped[date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(BigInteger)


class BlobDownloadRow(Base):
    """GETs of a blob by its sha256 (/api/objects) that started at byte 0."""

    __tablename__ = "blob_downloads"
    __table_args__ = (UniqueConstraint("sha256", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    day: Mapped[date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(BigInteger)


class UpdateCheckRow(Base):
    """Update checks that said which version the client runs (`current=`): the versions out there."""

    __tablename__ = "update_checks"
    __table_args__ = (UniqueConstraint("app_id", "channel", "version", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id"))
    channel: Mapped[str] = mapped_column(String(32))
    version: Mapped[str] = mapped_column(String(128))
    day: Mapped[date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(BigInteger)
