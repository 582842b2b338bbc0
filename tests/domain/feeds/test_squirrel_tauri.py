"""Squirrel's answers (Mac JSON, Windows RELEASES) and Tauri's dynamic and static JSON."""

from __future__ import annotations

import hashlib
import json

import pytest

from dist.domain.errors import DistError
from dist.domain.feeds import squirrel, tauri
from tests.domain.feeds.conftest import channel_feed, feed_file


def test_squirrel_mac_points_at_the_zip_for_the_platform() -> None:
    dmg = feed_file("Demo-1.2.0.dmg", "darwin-aarch64")
    zip_ = feed_file("Demo-1.2.0-mac.zip", "darwin-aarch64")
    other = feed_file("Demo-1.2.0-x64.zip", "darwin-x86_64")
    answer = json.loads(squirrel.render_mac(channel_feed(other, dmg, zip_), "darwin-aarch64"))
    assert answer == {"url": zip_.url, "name": "1.2.0", "notes": "Faster.", "pub_date": "2026-03-04T05:06:07Z"}


def test_squirrel_mac_without_a_zip_is_not_found() -> None:
    with pytest.raises(DistError) as caught:
        squirrel.render_mac(channel_feed(feed_file("Demo.dmg", "darwin-aarch64")), "darwin-aarch64")
    assert caught.value.code == "artifact.not_found"


def test_releases_lists_full_packages_with_uppercase_sha1() -> None:
    full = feed_file("Demo-1.2.0-full.nupkg", "windows-x86_64", b"full package")
    delta = feed_file("Demo-1.2.0-delta.nupkg", "windows-x86_64", b"delta")
    setup = feed_file("Setup.exe", "windows-x86_64")
    text = squirrel.render_releases(channel_feed(setup, full, delta), "windows-x86_64").decode()
    sha1 = hashlib.sha1(b"full package").hexdigest().upper()
    assert text == f"{sha1} {full.url} 12\n"


def test_releases_without_a_package_is_not_found() -> None:
    with pytest.raises(DistError) as caught:
        squirrel.render_releases(channel_feed(feed_file("Setup.exe", "windows-x86_64")), "windows-x86_64")
    assert caught.value.code == "artifact.not_found"


def test_tauri_dynamic_offers_the_first_signed_artifact() -> None:
    unsigned = feed_file("demo.AppImage", "linux-x86_64")
    signed = feed_file("demo.AppImage.tar.gz", "linux-x86_64", minisign="c2ln")
    answer = tauri.dynamic(channel_feed(unsigned, signed), "linux-x86_64")
    assert answer == {
        "version": "1.2.0",
        "notes": "Faster.",
        "pub_date": "2026-03-04T05:06:07Z",
        "url": signed.url,
        "signature": "c2ln",
    }


def test_tauri_refuses_an_unsigned_platform_and_a_missing_one() -> None:
    feed = channel_feed(
        feed_file("demo.msi", "windows-x86_64"), feed_file("d.app.tar.gz", "darwin-aarch64", minisign="x")
    )
    with pytest.raises(DistError) as unsigned:
        tauri.dynamic(feed, "windows-x86_64")
    assert unsigned.value.code == "feed.unsigned"
    with pytest.raises(DistError) as missing:
        tauri.dynamic(feed, "linux-x86_64")
    assert missing.value.code == "artifact.not_found"


def test_tauri_static_maps_each_signed_platform_once() -> None:
    mac = feed_file("d.app.tar.gz", "darwin-aarch64", minisign="bWFj")
    mac_again = feed_file("d2.app.tar.gz", "darwin-aarch64", minisign="b3RoZXI=")
    win = feed_file("d.msi", "windows-x86_64", minisign="d2lu")
    answer = tauri.static(channel_feed(mac, feed_file("d.deb", "linux-x86_64"), mac_again, win))
    assert answer == {
        "version": "1.2.0",
        "notes": "Faster.",
        "pub_date": "2026-03-04T05:06:07Z",
        "platforms": {
            "darwin-aarch64": {"url": mac.url, "signature": "bWFj"},
            "windows-x86_64": {"url": win.url, "signature": "d2lu"},
        },
    }
    with pytest.raises(DistError) as caught:
        tauri.static(channel_feed(feed_file("d.deb", "linux-x86_64")))
    assert caught.value.code == "feed.unsigned"


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ("darwin-aarch64", "Demo-arm.zip"),
        ("darwin-arm64", "Demo-arm.zip"),
        ("darwin-x64", "Demo-universal.zip"),
        ("darwin-x86_64", "Demo-any.zip"),
    ],
)
def test_squirrel_reads_electrons_platform_names(requested: str, expected: str) -> None:
    feed = channel_feed(
        feed_file("Demo-arm.zip", "darwin-aarch64"),
        feed_file("Demo-universal.zip", "darwin-universal"),
        feed_file("Demo-any.zip", "any"),
    )
    assert squirrel.mac_update(feed, requested)["url"].endswith(expected)


def test_squirrel_windows_reads_electrons_platform_name() -> None:
    full = feed_file("Demo-1.2.0-full.nupkg", "windows-x86_64")
    assert squirrel.render_releases(channel_feed(full), "win32-x64").decode().split()[1] == full.url
