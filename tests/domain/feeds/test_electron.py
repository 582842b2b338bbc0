"""electron-updater's channel files, read back with a YAML parser as electron-updater reads them."""

from __future__ import annotations

import base64
import dataclasses
import hashlib

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from dist.domain.errors import DistError
from dist.domain.feeds import electron
from dist.domain.feeds.model import Staging
from dist.domain.values import is_storable_text
from tests.domain.feeds.conftest import channel_feed, feed_file


@pytest.mark.parametrize(
    ("name", "channel", "platform"),
    [
        ("latest.yml", "latest", "windows-"),
        ("latest-mac.yml", "latest", "darwin-"),
        ("beta-linux.yml", "beta", "linux-x86_64"),
        ("beta-linux-arm64.yml", "beta", "linux-aarch64"),
        ("rc-1-mac.yml", "rc-1", "darwin-"),
        ("mac.yml", "mac", "windows-"),
        ("x--mac.yml", "x--mac", "windows-"),
    ],
)
def test_channel_file_names(name: str, channel: str, platform: str) -> None:
    assert electron.parse_channel_file(name) == electron.ChannelFile(channel, platform)


@pytest.mark.parametrize("name", ["latest.yaml", ".yml", "latest", "latest.json"])
def test_other_names_are_not_channel_files(name: str) -> None:
    with pytest.raises(DistError) as caught:
        electron.parse_channel_file(name)
    assert caught.value.code == "feed.not_found"


def test_mac_file_lists_every_darwin_artifact_in_release_order() -> None:
    arm = feed_file("Demo-1.2.0-arm64-mac.zip", "darwin-aarch64", b"arm")
    intel = feed_file("Demo-1.2.0-mac.zip", "darwin-x86_64", b"intel")
    feed = channel_feed(feed_file("Demo Setup 1.2.0.exe", "windows-x86_64"), arm, intel)
    info = yaml.safe_load(electron.render(feed, electron.parse_channel_file("latest-mac.yml")))
    assert info == {
        "version": "1.2.0",
        "files": [
            {"url": arm.url, "sha512": base64.b64encode(hashlib.sha512(b"arm").digest()).decode(), "size": 3},
            {"url": intel.url, "sha512": base64.b64encode(hashlib.sha512(b"intel").digest()).decode(), "size": 5},
        ],
        "path": arm.url,
        "sha512": base64.b64encode(hashlib.sha512(b"arm").digest()).decode(),
        "releaseDate": "2026-03-04T05:06:07Z",
        "releaseNotes": "Faster.",
    }


def test_linux_files_are_per_architecture() -> None:
    x64 = feed_file("Demo-1.2.0.AppImage", "linux-x86_64")
    arm = feed_file("Demo-1.2.0-arm64.AppImage", "linux-aarch64")
    feed = channel_feed(x64, arm)
    linux = yaml.safe_load(electron.render(feed, electron.parse_channel_file("latest-linux.yml")))
    arm64 = yaml.safe_load(electron.render(feed, electron.parse_channel_file("latest-linux-arm64.yml")))
    assert [f["url"] for f in linux["files"]] == [x64.url]
    assert [f["url"] for f in arm64["files"]] == [arm.url]


def test_no_artifact_for_the_platform_is_refused_like_the_update_check() -> None:
    feed = channel_feed(feed_file("Demo-1.2.0.AppImage", "linux-x86_64"))
    with pytest.raises(DistError) as caught:
        electron.render(feed, electron.parse_channel_file("latest-mac.yml"))
    assert caught.value.code == "artifact.not_found"
    assert "darwin-*" in caught.value.message


def test_empty_notes_are_left_out_and_staging_appears_only_below_100() -> None:
    files = (feed_file("Demo Setup.exe", "windows-x86_64"),)
    plain = yaml.safe_load(electron.render(channel_feed(*files, notes=""), electron.ChannelFile("latest", "windows-")))
    assert "releaseNotes" not in plain and "stagingPercentage" not in plain
    staged = channel_feed(*files, staging=Staging(percent=10))
    assert (
        yaml.safe_load(electron.render(staged, electron.ChannelFile("latest", "windows-")))["stagingPercentage"] == 10
    )
    done = channel_feed(*files, staging=Staging(percent=100))
    assert "stagingPercentage" not in yaml.safe_load(electron.render(done, electron.ChannelFile("latest", "windows-")))


def test_a_missing_digest_is_never_sent() -> None:
    file = dataclasses.replace(feed_file("Demo Setup.exe", "windows-x86_64"), sha512=None)
    with pytest.raises(DistError) as caught:
        electron.render(channel_feed(file), electron.ChannelFile("latest", "windows-"))
    assert caught.value.code == "feed.digest_pending"


@given(st.text().filter(is_storable_text), st.text(min_size=1).filter(is_storable_text))
def test_any_notes_and_file_names_read_back_exactly(notes: str, name: str) -> None:
    file = dataclasses.replace(feed_file("x.exe", "windows-x86_64"), url="https://h/" + name)
    info = yaml.safe_load(electron.render(channel_feed(file, notes=notes), electron.ChannelFile("latest", "windows-")))
    assert info.get("releaseNotes", "") == notes
    assert info["files"][0]["url"] == info["path"] == "https://h/" + name
