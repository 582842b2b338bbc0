"""The queries of the idempotency keys (kept apart from dist/persistence/repositories.py to keep it small)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dist.domain.entities import KeptAnswer
from dist.domain.errors import Conflict
from dist.persistence.models import IdempotencyKeyRow


@dataclass(frozen=True, slots=True)
class KeptRequest:
    """A keyed request as kept: the digest of what was asked, and the answer given."""

    request_digest: str
    answer: KeptAnswer
    created_at: datetime


class IdempotencyRepository:
    def __init__(self, session: Session):
        self.session = session

    def get(self, actor: str, key: str) -> KeptRequest | None:
        row = self.session.get(IdempotencyKeyRow, (actor, key))
        if row is None:
            return None
        return KeptRequest(row.request_digest, KeptAnswer(row.status, row.body), row.created_at)

    def add(self, actor: str, key: str, request_digest: str, answer: KeptAnswer, at: datetime) -> None:
        """Insert the key, or `idempotency.taken` when a concurrent transaction inserted it first."""
        row = IdempotencyKeyRow(
            actor=actor, key=key, request_digest=request_digest, status=answer.status, body=answer.body, created_at=at
        )
        try:
            with self.session.begin_nested():
                self.session.add(row)
                self.session.flush()
        except IntegrityError:
            raise Conflict("idempotency.taken", f"a concurrent request with the key {key!r} got there first") from None

    def delete_older_than(self, cutoff: datetime) -> int:
        """Drop every key created before `cutoff`; how many went."""
        result = self.session.execute(delete(IdempotencyKeyRow).where(IdempotencyKeyRow.created_at < cutoff))
        count: int = getattr(result, "rowcount", 0)
        return count
