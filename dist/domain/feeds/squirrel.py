"""Squirrel, the updater behind Electron's built-in `autoUpdater` (the protocol of Hazel and Nuts).

macOS (Squirrel.Mac) asks `<feed>/<version>`-style URLs and reads either 204 (up to date) or JSON naming a
`.zip`. Windows (Squirrel.Windows) reads `<feed>/RELEASES`: one `SHA1 URL SIZE` line per full `.nupkg`, with
the SHA-1 in uppercase hex as Squirrel writes it; it works out by itself what it needs from the list.
"""

from __future__ import annotations

import json
from typing import Any

from dist.domain.feeds.model import ChannelFeed, FeedFile, no_artifact
from dist.domain.render import timestamp


def mac_update(feed: ChannelFeed, platform: str) -> dict[str, Any]:
    """The JSON answer for a client that is behind: the release's `.zip` for `platform` (else for `any`)."""
    zips = [f for f in feed.release.of_platform(platform) if f.filename.lower().endswith(".zip")]
    if not zips:
        raise no_artifact(feed, platform)
    return {
        "url": zips[0].url,
        "name": feed.release.version,
        "notes": feed.release.notes,
        "pub_date": timestamp(feed.release.published_at),
    }


def render_mac(feed: ChannelFeed, platform: str) -> bytes:
    return json.dumps(mac_update(feed, platform), ensure_ascii=False).encode()


def full_packages(feed: ChannelFeed, platform: str) -> list[FeedFile]:
    files = feed.release.of_platform(platform)
    return [
        f for f in files if f.filename.lower().endswith(".nupkg") and not f.filename.lower().endswith("-delta.nupkg")
    ]


def render_releases(feed: ChannelFeed, platform: str) -> bytes:
    """The RELEASES file for `platform`: `artifact.not_found` when the release has no full package for it."""
    packages = full_packages(feed, platform)
    if not packages:
        raise no_artifact(feed, platform)
    return "".join(f"{p.sha1_upper()} {p.url} {p.size}\n" for p in packages).encode()
