"""The update feeds over HTTP (in process): absolute URLs, GET and HEAD, ETag and 304, the read cache after
promote and rollback, the error envelope, and agreement with the update check (/latest)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from dist.domain.feeds.sparkle import NAMESPACE
from dist.http.app import create_app
from dist.persistence.store import Store
from tests.http.conftest import SMALL_UPLOAD_CAP, assert_error, publish
from tests.http.test_cache import cache_of, cached_twice, soon

MAC = "/feeds/demo/squirrel/stable/darwin-aarch64"
NS = {"sparkle": NAMESPACE}


def mac_zip(version: str) -> dict[str, tuple[bytes, str]]:
    return {f"Demo-{version}-mac.zip": (f"zip {version}".encode(), "darwin-aarch64")}


@pytest.fixture
def proxied(store: Store) -> Iterator[TestClient]:
    """A server told its public URL, as behind a reverse proxy."""
    app = create_app(store, max_upload=SMALL_UPLOAD_CAP, public_url="https://updates.example.com/dist/")
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_squirrel_mac_answers_the_zip_or_204(client: TestClient, publisher: dict[str, str]) -> None:
    publish(client, publisher, "1.0.0", mac_zip("1.0.0"), channel="stable")
    response = client.get(f"{MAC}/0.9.0")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["url"] == "http://testserver/api/apps/demo/releases/1.0.0/artifacts/Demo-1.0.0-mac.zip"
    assert body["name"] == "1.0.0" and body["notes"] == "" and body["pub_date"].endswith("Z")
    assert client.get(body["url"]).content == b"zip 1.0.0"
    assert client.get(f"{MAC}/1.0.0").status_code == 204
    assert client.get(f"{MAC}/2.0.0").status_code == 204


def test_urls_start_with_the_public_url(proxied: TestClient, publisher: dict[str, str]) -> None:
    publish(proxied, publisher, "1.0.0", mac_zip("1.0.0"), channel="stable")
    url = proxied.get(f"{MAC}/0.1.0").json()["url"]
    assert url == "https://updates.example.com/dist/api/apps/demo/releases/1.0.0/artifacts/Demo-1.0.0-mac.zip"


def test_urls_follow_the_request_host_without_a_public_url(client: TestClient, publisher: dict[str, str]) -> None:
    publish(client, publisher, "1.0.0", mac_zip("1.0.0"), channel="stable")
    for host in ("a.example", "b.example:8443", "a.example", "b.example:8443"):
        url = client.get(f"{MAC}/0.1.0", headers={"host": host}).json()["url"]
        assert url.startswith(f"http://{host}/api/apps/demo/")
    assert cache_of(client).hits >= 1


def test_etag_304_and_head(client: TestClient, publisher: dict[str, str]) -> None:
    publish(client, publisher, "1.0.0", mac_zip("1.0.0"), channel="stable")
    first = client.get(f"{MAC}/0.1.0")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    for _ in range(2):  # uncached, then from the read cache
        again = client.get(f"{MAC}/0.1.0", headers={"if-none-match": etag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get(f"{MAC}/0.1.0", headers={"if-none-match": '"other"'}).status_code == 200
    head = client.head(f"{MAC}/0.1.0")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == etag and head.headers["content-length"] == str(len(first.content))
    publish(client, publisher, "1.1.0", mac_zip("1.1.0"), channel="stable")
    moved = client.get(f"{MAC}/0.1.0", headers={"if-none-match": etag})
    assert moved.status_code == 200 and moved.json()["name"] == "1.1.0" and moved.headers["etag"] != etag


def test_the_cache_follows_promote_and_rollback(client: TestClient, publisher: dict[str, str]) -> None:
    publish(client, publisher, "1.0.0", mac_zip("1.0.0"), channel="stable")
    publish(client, publisher, "1.1.0", mac_zip("1.1.0"))
    appcast = "/feeds/demo/sparkle/appcast.xml?platform=darwin-aarch64"
    assert cached_twice(client, f"{MAC}/0.1.0")["name"] == "1.0.0"
    client.get(appcast)
    promoted = client.post("/api/apps/demo/channels/stable/promote", json={"version": "1.1.0"}, headers=publisher)
    assert promoted.status_code == 200
    assert client.get(f"{MAC}/0.1.0").json()["name"] == "1.1.0"
    assert ET.fromstring(client.get(appcast).content).findtext("./channel/item/title") == "1.1.0"
    cached_twice(client, f"{MAC}/0.1.0")
    assert client.post("/api/apps/demo/channels/stable/rollback", headers=publisher).status_code == 200
    assert client.get(f"{MAC}/0.1.0").json()["name"] == "1.0.0"
    assert ET.fromstring(client.get(appcast).content).findtext("./channel/item/title") == "1.0.0"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/feeds/nope/squirrel/stable/darwin-aarch64/1.0.0", 404, "app.not_found"),
        ("/feeds/demo/squirrel/nightly/darwin-aarch64/1.0.0", 404, "channel.not_found"),
        ("/feeds/demo/squirrel/stable/windows-x86_64/1.0.0", 404, "artifact.not_found"),
        ("/feeds/demo/squirrel/stable/darwin-aarch64/1.0.0/RELEASES", 404, "artifact.not_found"),
        ("/feeds/demo/squirrel/stable/darwin-aarch64/one", 422, "release.invalid_version"),
        ("/feeds/demo/squirrel/stable/Darwin/1.0.0", 422, "artifact.invalid_platform"),
        ("/feeds/demo/tauri/stable/darwin/aarch64/0.1.0", 404, "feed.unsigned"),
        ("/feeds/demo/tauri/stable/linux/x86_64/0.1.0", 404, "artifact.not_found"),
        ("/feeds/demo/tauri/stable.json", 404, "feed.unsigned"),
        ("/feeds/demo/tauri/Stable.json", 422, "channel.invalid_name"),
        ("/feeds/demo/electron/latest.json", 404, "feed.not_found"),
        ("/feeds/demo/electron/beta-mac.yml", 404, "channel.not_found"),
        ("/feeds/demo/electron/latest-linux.yml", 404, "artifact.not_found"),
        ("/feeds/demo/sparkle/appcast.xml?platform=darwin-x86_64", 404, "artifact.not_found"),
        ("/feeds/nope/sparkle/appcast.xml", 404, "app.not_found"),
    ],
)
def test_refusals_use_the_error_envelope(
    client: TestClient, publisher: dict[str, str], path: str, status: int, code: str
) -> None:
    publish(client, publisher, "1.0.0", mac_zip("1.0.0"), channel="stable")
    for _ in range(2):
        assert_error(client.get(path), status, code)


def test_an_app_that_no_channel_serves_has_no_appcast(client: TestClient, publisher: dict[str, str]) -> None:
    publish(client, publisher, "1.1.0", mac_zip("1.1.0"), app="other")
    assert_error(client.get("/feeds/other/sparkle/appcast.xml"), 404, "artifact.not_found")
    assert_error(client.get("/feeds/other/squirrel/stable/darwin-aarch64/1.0.0"), 404, "channel.not_found")


def test_the_appcast_has_an_item_per_channel(client: TestClient, publisher: dict[str, str]) -> None:
    publish(client, publisher, "1.0.0", mac_zip("1.0.0"), channel="stable")
    publish(client, publisher, "1.1.0-beta.1", mac_zip("1.1.0-beta.1"), channel="beta")
    client.post("/api/apps/demo/channels/nightly/promote", json={"from": "beta"}, headers=publisher)
    response = client.get("/feeds/demo/sparkle/appcast.xml")
    assert response.headers["content-type"] == "application/rss+xml; charset=utf-8"
    items = ET.fromstring(response.content).findall("./channel/item")
    assert [(i.findtext("title"), i.findtext("sparkle:channel", namespaces=NS)) for i in items] == [
        ("1.0.0", None),
        ("1.1.0-beta.1", "beta"),
    ]


# The channel, platform and current version that a client asks with; each feed must answer what /latest does.
CASES = [
    ("stable", "darwin-aarch64", "0.9.0"),
    ("stable", "darwin-aarch64", "1.0.0"),
    ("stable", "darwin-aarch64", None),
    ("beta", "darwin-aarch64", "1.0.0"),
    ("beta", "darwin-aarch64", "2.0.0-beta.2"),
    ("stable", "darwin-x86_64", "0.9.0"),
]


def latest_answer(client: TestClient, channel: str, platform: str, current: str | None) -> tuple[int, str | None]:
    query = f"platform={platform}" + (f"&current={current}" if current else "")
    response = client.get(f"/api/apps/demo/channels/{channel}/latest?{query}")
    if response.status_code != 200:
        return response.status_code, None
    return 200, "http://testserver" + response.json()["artifact"]["url"]


def squirrel_answer(client: TestClient, channel: str, platform: str, current: str | None) -> tuple[int, str | None]:
    response = client.get(f"/feeds/demo/squirrel/{channel}/{platform}/{current or '0.0.0'}")
    return response.status_code, response.json()["url"] if response.status_code == 200 else None


def test_feeds_agree_with_the_update_check(client: TestClient, publisher: dict[str, str]) -> None:
    publish(client, publisher, "1.0.0", mac_zip("1.0.0"), channel="stable")
    publish(client, publisher, "2.0.0-beta.2", mac_zip("2.0.0-beta.2"), channel="beta")
    for channel, platform, current in CASES:
        expected = latest_answer(client, channel, platform, current)
        assert squirrel_answer(client, channel, platform, current) == expected, (channel, platform, current)
        appcast = client.get(f"/feeds/demo/sparkle/appcast.xml?platform={platform}")
        if expected[0] == 404:
            assert appcast.status_code == 404
            continue
        items = ET.fromstring(appcast.content).findall("./channel/item")
        mine = [i for i in items if (i.findtext("sparkle:channel", namespaces=NS) or "stable") == channel]
        served = json.loads(client.get(f"/api/apps/demo/channels/{channel}").content)["release"]
        assert [i.findtext("sparkle:version", namespaces=NS) for i in mine] == [served]


def test_electron_updaters_no_cache_parameter_still_hits_the_cache(
    client: TestClient, publisher: dict[str, str]
) -> None:
    publish(client, publisher, "1.0.0", mac_zip("1.0.0"), channel="stable")
    cached_twice(client, f"{MAC}/0.1.0")
    hits = cache_of(client).hits
    for stamp in ("1ab", "1ac", "1ad"):
        assert client.get(f"{MAC}/0.1.0?noCache={stamp}").json()["name"] == "1.0.0"
    assert cache_of(client).hits == hits + 3


def test_a_promote_through_another_server_shows_in_the_feeds(
    client: TestClient, store: Store, publisher: dict[str, str]
) -> None:
    publish(client, publisher, "1.0.0", mac_zip("1.0.0"), channel="stable")
    publish(client, publisher, "1.1.0", mac_zip("1.1.0"))
    assert cached_twice(client, f"{MAC}/0.1.0")["name"] == "1.0.0"
    with TestClient(create_app(store, max_upload=SMALL_UPLOAD_CAP), raise_server_exceptions=False) as other:
        moved = other.post("/api/apps/demo/channels/stable/promote", json={"version": "1.1.0"}, headers=publisher)
        assert moved.status_code == 200
    assert soon(lambda: client.get(f"{MAC}/0.1.0").json()["name"] == "1.1.0")
