from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dist.persistence.models.base import Base


class ArtifactRow(Base):
    __tablename__ = "artifacts"
    __table_args__ = (UniqueConstraint("release_id", "filename"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"))
    filename: Mapped[str] = mapped_column(String(255))
    platform: Mapped[str] = mapped_column(String(64))
    # Not unique: identical bytes may ship in several releases.
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(255))
    # The signature file's text, as `minisign -S` writes it.
    minisign_signature: Mapped[str | None] = mapped_column(Text)
    # Base64 of the raw 64-byte signature.
    ed25519_signature: Mapped[str | None] = mapped_column(String(88))
