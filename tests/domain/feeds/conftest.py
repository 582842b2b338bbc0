"""Feed view models built by hand: the renderings are tested without a store or a server."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from dist.domain.feeds.model import ChannelFeed, FeedFile, FeedRelease, Staging

BASE = "https://updates.example.com"
PUBLISHED = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def feed_file(filename: str, platform: str, data: bytes | None = None, **signatures: str) -> FeedFile:
    data = data if data is not None else f"bytes of {filename}".encode()
    return FeedFile(
        filename=filename,
        platform=platform,
        url=f"{BASE}/api/apps/demo/releases/1.2.0/artifacts/{filename}",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        sha512=hashlib.sha512(data).hexdigest(),
        sha1=hashlib.sha1(data).hexdigest(),
        **signatures,
    )


def channel_feed(
    *files: FeedFile,
    version: str = "1.2.0",
    notes: str = "Faster.",
    channel: str = "stable",
    is_default: bool = True,
    staging: Staging | None = None,
) -> ChannelFeed:
    release = FeedRelease(version=version, notes=notes, published_at=PUBLISHED, files=files)
    return ChannelFeed(
        app="demo", app_name="Demo", channel=channel, is_default=is_default, release=release, staging=staging
    )
