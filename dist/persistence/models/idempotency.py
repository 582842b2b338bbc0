from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from dist.persistence.models.base import Base


class IdempotencyKeyRow(Base):
    """The answer given to a request that carried an Idempotency-Key, kept for a while to answer its repeats."""

    __tablename__ = "idempotency_keys"

    # The audit actor of the token that sent the key: a key is read back by that token alone.
    actor: Mapped[str] = mapped_column(String(255), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_digest: Mapped[str] = mapped_column(String(64))
    # An HTTP status: ids are 64-bit, this is not.
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary())
    created_at: Mapped[datetime] = mapped_column(index=True)
