"""The Tauri v2 updater: the dynamic answer for `.../{{target}}/{{arch}}/{{current_version}}` endpoints and
the static JSON with its `platforms` map.

Tauri verifies every download against the app's minisign public key, with the signature given as the base64
of the minisign signature file (what `tauri signer sign` writes to `.sig`); an unsigned artifact is never
offered, because the updater would refuse it only after downloading it.
"""

from __future__ import annotations

import json
from typing import Any

from dist.domain.errors import NotFound
from dist.domain.feeds.model import ChannelFeed, FeedFile, no_artifact
from dist.domain.render import timestamp


def _header(feed: ChannelFeed) -> dict[str, Any]:
    return {
        "version": feed.release.version,
        "notes": feed.release.notes,
        "pub_date": timestamp(feed.release.published_at),
    }


def signed_file(feed: ChannelFeed, platform: str) -> FeedFile:
    """The first artifact of `platform` (else of `any`, as the update check falls back) that carries a minisign
    signature."""
    files = feed.release.of_platform(platform)
    if not files:
        raise no_artifact(feed, platform)
    for file in files:
        if file.minisign is not None:
            return file
    raise NotFound(
        "feed.unsigned",
        f"{feed.app} {feed.release.version} has no minisign-signed artifact for {platform}; Tauri would refuse it",
    )


def dynamic(feed: ChannelFeed, platform: str) -> dict[str, Any]:
    file = signed_file(feed, platform)
    return {**_header(feed), "url": file.url, "signature": file.minisign}


def static(feed: ChannelFeed) -> dict[str, Any]:
    """Every platform with a signed artifact; `feed.unsigned` when there is none at all."""
    platforms: dict[str, dict[str, str]] = {}
    for file in feed.release.files:
        # Tauri looks platforms up as `{target}-{arch}`: an artifact for `any` has no key there.
        if file.minisign is not None and file.platform != "any" and file.platform not in platforms:
            platforms[file.platform] = {"url": file.url, "signature": file.minisign}
    if not platforms:
        raise NotFound("feed.unsigned", f"{feed.app} {feed.release.version} has no minisign-signed artifact")
    return {**_header(feed), "platforms": platforms}


def render_dynamic(feed: ChannelFeed, platform: str) -> bytes:
    return json.dumps(dynamic(feed, platform), ensure_ascii=False).encode()


def render_static(feed: ChannelFeed) -> bytes:
    return json.dumps(static(feed), ensure_ascii=False).encode()
