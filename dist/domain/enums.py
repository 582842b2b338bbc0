"""Enumerations, stored and rendered as their lowercase names."""

from __future__ import annotations

import enum


class ReleaseStatus(enum.StrEnum):
    PUBLISHED = "published"
    YANKED = "yanked"


class ChannelEventKind(enum.StrEnum):
    PROMOTE = "promote"
    ROLLBACK = "rollback"


class Scope(enum.StrEnum):
    PUBLISH = "publish"
    ADMIN = "admin"
    # Reading /metrics; admin tokens may too.
    METRICS = "metrics"


class TokenStatus(enum.StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class AuditAction(enum.StrEnum):
    APP_CREATED = "app_created"
    APP_UPDATED = "app_updated"
    RELEASE_PUBLISHED = "release_published"
    RELEASE_YANKED = "release_yanked"
    CHANNEL_PROMOTED = "channel_promoted"
    CHANNEL_ROLLED_BACK = "channel_rolled_back"
    ROLLOUT_CHANGED = "rollout_changed"
    TOKEN_CREATED = "token_created"
    TOKEN_REVOKED = "token_revoked"
    WEBHOOK_CREATED = "webhook_created"
    WEBHOOK_DELETED = "webhook_deleted"
    WEBHOOK_REDELIVERED = "webhook_redelivered"


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
