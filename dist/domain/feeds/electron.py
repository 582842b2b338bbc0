"""electron-updater's generic provider: the `{channel}.yml`, `{channel}-mac.yml`, `{channel}-linux.yml` and
`{channel}-linux-arm64.yml` files that electron-builder would publish beside the installers.

The updater asks for `<url>/<channel><suffix>.yml`, reads `files` (each `url`, base64 `sha512`, `size`), picks
the one for its installer by extension, and checks the download against its SHA-512. `path` and `sha512` repeat
the first file for updaters older than `files`. During a rollout, `stagingPercentage` lets each installation
decide by its own stable random id.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from dist.domain.errors import NotFound
from dist.domain.feeds.model import ChannelFeed, FeedFile
from dist.domain.render import timestamp
from dist.domain.values import CHANNEL_RE

# What electron-updater appends to the channel for each operating system (Windows appends nothing).
SUFFIX_PLATFORMS: tuple[tuple[str, str], ...] = (
    ("-linux-arm64", "linux-aarch64"),
    ("-linux", "linux-x86_64"),
    ("-mac", "darwin-"),
    ("", "windows-"),
)
# Characters outside YAML's printable set, and the line breaks (NEL, LS, PS) that a YAML reader would fold.
YAML_UNSAFE_RE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class ChannelFile:
    """A channel file name read back: the channel and the platform (or platform prefix) it covers."""

    channel: str
    platform: str

    def covers(self, platform: str) -> bool:
        return platform.startswith(self.platform) if self.platform.endswith("-") else platform == self.platform


def parse_channel_file(name: str) -> ChannelFile:
    """`beta-mac.yml` → channel beta, darwin-*; `latest.yml` → latest, windows-*. A channel named like a suffix
    (`x-mac`) is read as the suffix, as electron-updater always appends it, unless what is left is no channel
    name (`x--mac`)."""
    if not name.endswith(".yml") or len(name) == len(".yml"):
        raise NotFound("feed.not_found", f"{name!r} is not an electron-updater channel file (<channel>.yml)")
    stem = name[: -len(".yml")]
    for suffix, platform in SUFFIX_PLATFORMS:
        if suffix and stem.endswith(suffix) and CHANNEL_RE.fullmatch(stem[: -len(suffix)]):
            return ChannelFile(stem[: -len(suffix)], platform)
    return ChannelFile(stem, "windows-")


def _string(text: str) -> str:
    # JSON's quoted strings are YAML double-quoted scalars; escape what YAML reads differently from JSON.
    return YAML_UNSAFE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False))


def files_for(feed: ChannelFeed, wanted: ChannelFile) -> list[FeedFile]:
    files = [f for f in feed.release.files if wanted.covers(f.platform)]
    if not files:
        platform = wanted.platform + "*" if wanted.platform.endswith("-") else wanted.platform
        raise NotFound(
            "artifact.not_found", f"{feed.app} {feed.release.version} on {feed.channel} has no artifact for {platform}"
        )
    return files


def render(feed: ChannelFeed, wanted: ChannelFile) -> bytes:
    """The channel file for the platforms `wanted` covers; `artifact.not_found` when the release has none."""
    files = files_for(feed, wanted)
    lines = [f"version: {_string(feed.release.version)}", "files:"]
    for file in files:
        lines += [
            f"  - url: {_string(file.url)}",
            f"    sha512: {_string(file.sha512_base64())}",
            f"    size: {file.size}",
        ]
    lines += [
        f"path: {_string(files[0].url)}",
        f"sha512: {_string(files[0].sha512_base64())}",
        f"releaseDate: {_string(timestamp(feed.release.published_at) or '')}",
    ]
    if feed.release.notes:
        lines.append(f"releaseNotes: {_string(feed.release.notes)}")
    if feed.staging is not None and feed.staging.percent < 100:
        lines.append(f"stagingPercentage: {feed.staging.percent}")
    return ("\n".join(lines) + "\n").encode()
