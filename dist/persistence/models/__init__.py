"""One module per table; importing this package registers them all on `Base.metadata`."""

from dist.persistence.models.app import AppRow
from dist.persistence.models.artifact import ArtifactRow
from dist.persistence.models.audit import AuditEventRow
from dist.persistence.models.base import Base
from dist.persistence.models.blob import BlobRow
from dist.persistence.models.channel import ChannelEventRow, ChannelRow
from dist.persistence.models.counts import ArtifactDownloadRow, BlobDownloadRow, UpdateCheckRow
from dist.persistence.models.idempotency import IdempotencyKeyRow
from dist.persistence.models.release import ReleaseRow
from dist.persistence.models.rollout import RolloutRow
from dist.persistence.models.token import TokenRow
from dist.persistence.models.webhook import DeliveryRow, WebhookRow

__all__ = [
    "AppRow",
    "ArtifactDownloadRow",
    "ArtifactRow",
    "AuditEventRow",
    "Base",
    "BlobDownloadRow",
    "BlobRow",
    "ChannelEventRow",
    "ChannelRow",
    "DeliveryRow",
    "IdempotencyKeyRow",
    "ReleaseRow",
    "RolloutRow",
    "TokenRow",
    "UpdateCheckRow",
    "WebhookRow",
]
