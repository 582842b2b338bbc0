"""The entities of dist as plain dataclasses. Persistence maps them to tables; rules live beside them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dist.domain.enums import AuditAction, ChannelEventKind, DeliveryState, ReleaseStatus, Scope, TokenStatus
from dist.domain.rollouts import Rollout
from dist.domain.signatures import Signatures
from dist.domain.values import DEFAULT_CHANNEL


@dataclass(slots=True)
class App:
    slug: str
    name: str
    created_at: datetime
    default_channel: str = DEFAULT_CHANNEL
    # The stored forms (see dist.domain.signatures): minisign's `RW…` line, base64 of the raw Ed25519 key.
    minisign_public_key: str | None = None
    ed25519_public_key: str | None = None
    id: int | None = None


@dataclass(slots=True)
class Blob:
    """Bytes in the object store, by their digests (hex). sha512 and sha1 are None until computed: a blob
    whose file the migration to this schema could not read gets them on first need."""

    sha256: str
    size: int
    sha512: str | None
    sha1: str | None
    created_at: datetime


@dataclass(slots=True)
class Artifact:
    filename: str
    platform: str
    sha256: str
    size: int
    content_type: str
    signatures: Signatures = field(default_factory=Signatures)
    # The blob's other digests (hex), read with the artifact; None where not computed yet.
    sha512: str | None = None
    sha1: str | None = None
    # Downloads counted so far (GETs from byte 0 by release and file name), as last written to the store.
    downloads: int = 0
    id: int | None = None


@dataclass(slots=True)
class Release:
    app: str
    version: str
    notes: str
    status: ReleaseStatus
    created_at: datetime
    created_by: str
    artifacts: list[Artifact] = field(default_factory=list)
    id: int | None = None

    @property
    def downloads(self) -> int:
        return sum(a.downloads for a in self.artifacts)

    def artifact_for(self, platform: str) -> Artifact | None:
        """The artifact for `platform`, falling back to one built for `any`."""
        fallback = None
        for artifact in self.artifacts:
            if artifact.platform == platform:
                return artifact
            if fallback is None and artifact.platform == "any":
                fallback = artifact
        return fallback


@dataclass(slots=True)
class Channel:
    app: str
    name: str
    release: str | None
    created_at: datetime
    updated_at: datetime
    id: int | None = None
    # A staged rollout of `release` over the release below it; None when every client gets `release`.
    rollout: Rollout | None = None


@dataclass(slots=True)
class ChannelEvent:
    kind: ChannelEventKind
    version: str
    actor: str
    at: datetime
    release_id: int | None = None


@dataclass(slots=True)
class Token:
    name: str
    scopes: list[Scope]
    app: str | None
    channel: str | None
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    id: int | None = None

    def status(self, now: datetime) -> TokenStatus:
        if self.revoked_at is not None:
            return TokenStatus.REVOKED
        if self.expires_at is not None and self.expires_at <= now:
            return TokenStatus.EXPIRED
        return TokenStatus.ACTIVE


@dataclass(slots=True)
class AuditEvent:
    at: datetime
    actor: str
    action: AuditAction
    app: str | None
    target: str | None
    detail: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


@dataclass(slots=True)
class Webhook:
    """An endpoint told of audit events: those whose action is in `events` (`*`: all), of `app` when set."""

    url: str
    events: list[str]
    app: str | None
    created_at: datetime
    id: int | None = None


@dataclass(slots=True)
class Delivery:
    """One audit event on its way to one webhook: the outbox row, written in the event's own transaction.
    `message_id` (the `webhook-id` header) and `payload` stay the same across attempts."""

    webhook_id: int
    audit_event_id: int
    action: AuditAction
    message_id: str
    payload: str
    created_at: datetime
    next_attempt_at: datetime
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    last_attempt_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    """A delivery claimed for one attempt: what to send, where, and the secret that signs it."""

    delivery_id: int
    message_id: str
    payload: str
    url: str
    secret: str
    attempts: int
    next_attempt_at: datetime


@dataclass(frozen=True, slots=True)
class KeptAnswer:
    """The answer given to a request that carried an Idempotency-Key: what its repeats are answered."""

    status: int
    body: bytes
