"""Squirrel, the updater behind Electron's built-in `autoUpdater` (the protocol of Hazel and Nuts).

macOS (Squirrel.Mac) asks `<feed>/<version>`-style URLs and reads either 204 (up to date) or JSON naming a
`.zip`. Windows (Squirrel.Windows) reads `<feed>/RELEASES`: one `SHA1 URL SIZE` line per full `.nupkg`, with
the SHA-1 in uppercase hex as Squirrel writes it; it works out by itself what it needs from the list.

The platform in the URL is a dist platform (`darwin-aarch64`, `windows-x86_64`), answered as the update check
answers it, or Electron's own `process.platform-process.arch` (`darwin-arm64`, `win32-x64`), which is what
update-electron-app puts there: that name is read as its dist platform, a mac one falling back to
`darwin-universal`.
"""

from __future__ import annotations

import json
from typing import Any

from dist.domain.feeds.model import ChannelFeed, FeedFile, no_artifact
from dist.domain.render import timestamp

# Electron's platform-arch names and the dist platforms they stand for, most specific first.
ELECTRON_PLATFORMS: dict[str, tuple[str, ...]] = {
    "darwin-arm64": ("darwin-aarch64", "darwin-universal"),
    "darwin-x64": ("darwin-x86_64", "darwin-universal"),
    "win32-x64": ("windows-x86_64",),
    "win32-ia32": ("windows-x86",),
    "win32-arm64": ("windows-aarch64",),
}


def files_for(feed: ChannelFeed, platform: str, extension: str) -> list[FeedFile]:
    """The release's files named `*extension` for `platform`: exact, else (an Electron name) for the dist
    platforms it stands for, else for `any`."""
    for candidate in (platform, *ELECTRON_PLATFORMS.get(platform, ())):
        exact = [f for f in feed.release.files if f.platform == candidate]
        if exact:
            return [f for f in exact if f.filename.lower().endswith(extension)]
    return [f for f in feed.release.of_platform("any") if f.filename.lower().endswith(extension)]


def mac_update(feed: ChannelFeed, platform: str) -> dict[str, Any]:
    """The JSON answer for a client that is behind: the release's `.zip` for `platform`."""
    zips = files_for(feed, platform, ".zip")
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
    return [f for f in files_for(feed, platform, ".nupkg") if not f.filename.lower().endswith("-delta.nupkg")]


def render_releases(feed: ChannelFeed, platform: str) -> bytes:
    """The RELEASES file for `platform`: `artifact.not_found` when the release has no full package for it."""
    packages = full_packages(feed, platform)
    if not packages:
        raise no_artifact(feed, platform)
    return "".join(f"{p.sha1_upper()} {p.url} {p.size}\n" for p in packages).encode()
