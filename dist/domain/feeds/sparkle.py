"""Sparkle's appcast (macOS): RSS 2.0 with the Sparkle namespace, one `<item>` per channel.

Sparkle shows an item without `<sparkle:channel>` to everyone and one with it only to apps that allow that
channel, so the default channel's item carries none. It checks the enclosure against `sparkle:edSignature`
(base64 Ed25519 over the file) with the app's SUPublicEDKey. During a rollout it spreads its users over seven
groups that start `phasedRolloutInterval` seconds apart, counted from `pubDate`.
"""

from __future__ import annotations

import re
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr

from dist.domain.errors import NotFound
from dist.domain.feeds.model import ChannelFeed, FeedFile

NAMESPACE = "http://www.andymatuschak.org/xml-namespaces/sparkle"
DEFAULT_PLATFORM = "darwin-universal"
MAC_PREFIX = "darwin-"
# Characters XML 1.0 cannot carry, even escaped.
XML_INVALID_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def mac_file(feed: ChannelFeed, platform: str | None) -> FeedFile | None:
    """The artifact an item offers: the first for `platform` when given, else the first `darwin-universal`
    one, else the first `darwin-*` one; None when there is none."""
    files = feed.release.files
    if platform is not None:
        return next((f for f in files if f.platform == platform), None)
    universal = next((f for f in files if f.platform == DEFAULT_PLATFORM), None)
    return universal or next((f for f in files if f.platform.startswith(MAC_PREFIX)), None)


def _text(text: str) -> str:
    return escape(XML_INVALID_RE.sub("\ufffd", text))


def _cdata(text: str) -> str:
    # "]]>" would end the section early: split it across two sections.
    return "<![CDATA[" + XML_INVALID_RE.sub("\ufffd", text).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _item(feed: ChannelFeed, file: FeedFile) -> str:
    release = feed.release
    phased = feed.staging is not None and feed.staging.percent < 100 and feed.staging.phase_seconds is not None
    # Sparkle counts the phases of a rollout from pubDate: during one, that is when the ramp started.
    published = release.published_at
    if phased and feed.staging is not None and feed.staging.phases_from is not None:
        published = feed.staging.phases_from
    lines = [
        "    <item>",
        f"      <title>{_text(release.version)}</title>",
        f"      <pubDate>{format_datetime(published)}</pubDate>",
        f"      <sparkle:version>{_text(release.version)}</sparkle:version>",
        f"      <sparkle:shortVersionString>{_text(release.version)}</sparkle:shortVersionString>",
        f"      <description>{_cdata(release.notes)}</description>",
    ]
    if not feed.is_default:
        lines.append(f"      <sparkle:channel>{_text(feed.channel)}</sparkle:channel>")
    if phased and feed.staging is not None:
        lines.append(
            f"      <sparkle:phasedRolloutInterval>{feed.staging.phase_seconds}</sparkle:phasedRolloutInterval>"
        )
    signature = f" sparkle:edSignature={quoteattr(file.ed25519)}" if file.ed25519 is not None else ""
    lines += [
        f'      <enclosure url={quoteattr(file.url)} length="{file.size}" type="application/octet-stream"{signature}/>',
        "    </item>",
    ]
    return "\n".join(lines)


def render(title: str, link: str, feeds: list[ChannelFeed], platform: str | None) -> bytes:
    """The appcast over `feeds` (most stable channel first): an item for each channel whose release has a
    file for `platform`, and each release once, under the first channel that serves it. `artifact.not_found`
    when no channel has one."""
    items: list[str] = []
    seen: set[str] = set()
    for feed in feeds:
        file = mac_file(feed, platform)
        if file is None or feed.release.version in seen:
            continue
        seen.add(feed.release.version)
        items.append(_item(feed, file))
    if not items:
        wanted = platform or "darwin-*"
        raise NotFound("artifact.not_found", f"no channel of {title} serves a release with an artifact for {wanted}")
    head = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<rss version="2.0" xmlns:sparkle="{NAMESPACE}">',
        "  <channel>",
        f"    <title>{_text(title)}</title>",
        f"    <link>{_text(link)}</link>",
        f"    <description>{_text(title)} updates</description>",
    ]
    return ("\n".join([*head, *items, "  </channel>", "</rss>"]) + "\n").encode()
