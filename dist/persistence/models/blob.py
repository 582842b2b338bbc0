from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from dist.persistence.models.base import Base


class BlobRow(Base):
    __tablename__ = "blobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    # Hex digests; NULL until computed for a blob the migration to this schema could not read.
    sha512: Mapped[str | None] = mapped_column(String(128))
    sha1: Mapped[str | None] = mapped_column(String(40))
    # When the blob was last uploaded: `dist store gc` keeps unpublished blobs for a grace period from then.
    created_at: Mapped[datetime]
