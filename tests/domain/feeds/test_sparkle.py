"""Sparkle's appcast, read with an XML parser against Sparkle's namespace."""

from __future__ import annotations

import email.utils
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dist.domain import rollouts
from dist.domain.errors import DistError
from dist.domain.feeds import sparkle
from dist.domain.feeds.model import ChannelFeed, Staging, staging_of
from dist.domain.rollouts import Rollout
from dist.domain.values import is_storable_text
from tests.domain.feeds.conftest import PUBLISHED, channel_feed, feed_file

NS = {"sparkle": sparkle.NAMESPACE}
SPARKLE = "{" + sparkle.NAMESPACE + "}"


def items(feeds: list[ChannelFeed], platform: str | None = None) -> list[ET.Element]:
    root = ET.fromstring(sparkle.render("Demo", "https://h/feeds/demo/sparkle/appcast.xml", feeds, platform))
    assert root.tag == "rss" and root.get("version") == "2.0"
    return root.findall("./channel/item")


def test_an_item_per_channel_the_default_without_a_channel_element() -> None:
    stable = channel_feed(feed_file("Demo.zip", "darwin-universal", ed25519="c2ln"))
    beta = channel_feed(
        feed_file("Demo-b.zip", "darwin-universal"), version="1.3.0-beta.1", channel="beta", is_default=False
    )
    first, second = items([stable, beta])
    assert first.findtext("title") == "1.2.0"
    assert first.findtext("sparkle:version", namespaces=NS) == "1.2.0"
    assert first.findtext("sparkle:shortVersionString", namespaces=NS) == "1.2.0"
    assert first.findtext("description") == "Faster."
    assert email.utils.parsedate_to_datetime(first.findtext("pubDate") or "") == PUBLISHED
    assert first.find("sparkle:channel", NS) is None
    enclosure = first.find("enclosure")
    assert enclosure is not None
    assert enclosure.attrib == {
        "url": stable.release.files[0].url,
        "length": str(stable.release.files[0].size),
        "type": "application/octet-stream",
        f"{SPARKLE}edSignature": "c2ln",
    }
    assert second.findtext("sparkle:channel", namespaces=NS) == "beta"
    beta_enclosure = second.find("enclosure")
    assert beta_enclosure is not None and f"{SPARKLE}edSignature" not in beta_enclosure.attrib


def test_the_platform_decides_the_enclosure() -> None:
    feed = channel_feed(
        feed_file("Demo-x64.zip", "darwin-x86_64"),
        feed_file("Demo-arm.zip", "darwin-aarch64"),
        feed_file("Demo.zip", "darwin-universal"),
    )
    urls = {p: items([feed], p)[0].find("enclosure").get("url") for p in (None, "darwin-aarch64")}  # type: ignore[union-attr]
    assert urls == {None: feed.release.files[2].url, "darwin-aarch64": feed.release.files[1].url}
    without_universal = channel_feed(feed_file("a.exe", "windows-x86_64"), feed_file("Demo-x64.zip", "darwin-x86_64"))
    assert items([without_universal])[0].find("enclosure").get("url").endswith("Demo-x64.zip")  # type: ignore[union-attr]


def test_a_release_on_two_channels_appears_once_under_the_first() -> None:
    file = feed_file("Demo.zip", "darwin-universal")
    found = items([channel_feed(file), channel_feed(file, channel="beta", is_default=False)])
    assert len(found) == 1 and found[0].find("sparkle:channel", NS) is None


def test_channels_without_a_mac_artifact_are_skipped_and_none_at_all_is_not_found() -> None:
    windows = channel_feed(feed_file("a.exe", "windows-x86_64"), version="2.0.0", channel="beta", is_default=False)
    assert [i.findtext("title") for i in items([channel_feed(feed_file("Demo.zip", "darwin-universal")), windows])] == [
        "1.2.0"
    ]
    with pytest.raises(DistError) as caught:
        items([windows])
    assert caught.value.code == "artifact.not_found"


def test_phased_rollout_interval_during_a_rollout_only() -> None:
    file = feed_file("Demo.zip", "darwin-universal")
    rolling = items([channel_feed(file, staging=Staging(percent=30, phase_seconds=86400))])[0]
    assert rolling.findtext("sparkle:phasedRolloutInterval", namespaces=NS) == "86400"
    done = items([channel_feed(file, staging=Staging(percent=100, phase_seconds=86400))])[0]
    assert done.find("sparkle:phasedRolloutInterval", NS) is None


@given(st.text().filter(is_storable_text))
def test_any_notes_survive_the_cdata_section(notes: str) -> None:
    item = items([channel_feed(feed_file("Demo.zip", "darwin-universal"), notes=notes)])[0]
    expected = "".join("\ufffd" if sparkle.XML_INVALID_RE.match(c) else c for c in notes)
    # XML parsers normalise line ends: CR LF and lone CR read as LF.
    assert (item.findtext("description") or "") == expected.replace("\r\n", "\n").replace("\r", "\n")


def test_staging_of_a_rollout() -> None:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    ramp = Rollout("2.0.0", "1.0.0", rollouts.ramp([1, 10, 100], timedelta(hours=6), start))
    # Two steps of 6 hours to 100%: Sparkle's 7 groups 2 hours apart, counted from the ramp's start.
    assert staging_of(ramp, start + timedelta(hours=7)) == Staging(10, phase_seconds=7200, phases_from=start)
    assert staging_of(ramp, start + timedelta(hours=12)) is None
    halted = Rollout("2.0.0", "1.0.0", rollouts.halt(ramp.schedule, start + timedelta(hours=1)))
    assert staging_of(halted, start + timedelta(days=3)) == Staging(1)
    resumed = Rollout("2.0.0", "1.0.0", rollouts.resume(halted.schedule, start + timedelta(hours=4)))
    later = staging_of(resumed, start + timedelta(hours=5))
    assert later == Staging(1, phase_seconds=7200, phases_from=start + timedelta(hours=3))
    fixed = Rollout("2.0.0", "1.0.0", rollouts.fixed(30, start))
    assert staging_of(fixed, start + timedelta(days=30)) == Staging(30)


def test_a_phased_item_counts_from_the_ramp_start() -> None:
    start = datetime(2026, 5, 1, 6, 30, tzinfo=UTC)
    file = feed_file("Demo.zip", "darwin-universal")
    staged = Staging(10, phase_seconds=7200, phases_from=start)
    item = ET.fromstring(sparkle.render("Demo", "https://x/appcast.xml", [channel_feed(file, staging=staged)], None))
    assert item.findtext("channel/item/pubDate") == email.utils.format_datetime(start)
    unstaged = ET.fromstring(sparkle.render("Demo", "https://x/appcast.xml", [channel_feed(file)], None))
    assert unstaged.findtext("channel/item/pubDate") == email.utils.format_datetime(PUBLISHED)
