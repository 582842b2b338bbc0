"""Idempotency keys: a request sent again with the same key gets the answer its first sending got.

A key belongs to the token (the audit actor) that sent it and lives for `KEY_LIFETIME`; an older key is
ignored, and each keyed request sweeps those away. Only a completed operation is kept: a refusal writes
nothing, so a client may fix the cause and retry with the same key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from dist.domain.entities import KeptAnswer
from dist.domain.errors import Conflict, Invalid
from dist.domain.values import parse_idempotency_key
from dist.persistence.idempotency import KeptRequest
from dist.persistence.uow import UnitOfWork

KEY_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class RequestKey:
    """A keyed request: who sent it, its key, and the digest of what it asked."""

    actor: str
    key: str
    request_digest: str


def request_key(*, actor: str, key: str, method: str, path: str, body: bytes) -> RequestKey:
    """The key of a request, checked, with the digest of its method, path and body bytes."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        # Each part's length first, so that no two different requests share a digest by moving a boundary.
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return RequestKey(actor, parse_idempotency_key(key), digest.hexdigest())


def once(uow: UnitOfWork, key: RequestKey, act: Callable[[], KeptAnswer]) -> KeptAnswer:
    """Run `act` in a write transaction and keep its answer under `key` in that same transaction, or give the
    answer kept for `key` when it was done already.

    The same key with another request is `idempotency.mismatch`. Two requests with one key at once yield one
    `act`: on SQLite the write lock serialises them; on PostgreSQL the second fails on the first one's rows
    (the key's primary key, or whatever unique row `act` inserts) once the first commits, and then gets the
    answer it kept.
    """
    try:
        with uow.write():
            now = uow.clock()
            uow.idempotency.delete_older_than(now - KEY_LIFETIME)
            kept = uow.idempotency.get(key.actor, key.key)
            if kept is not None:
                return _replay(key, kept)
            answer = act()
            uow.idempotency.add(key.actor, key.key, key.request_digest, answer, now)
            uow.commit()
            return answer
    except Conflict:
        with uow.read():
            kept = uow.idempotency.get(key.actor, key.key)
            if kept is None or kept.created_at < uow.clock() - KEY_LIFETIME:
                raise
        return _replay(key, kept)


def _replay(key: RequestKey, kept: KeptRequest) -> KeptAnswer:
    if kept.request_digest != key.request_digest:
        raise Invalid(
            "idempotency.mismatch",
            f"the Idempotency-Key {key.key!r} was used for another request; use a new key for a new request",
        )
    return kept.answer
