"""Feeds from a real distd process started with --public-url: absolute URLs from it, HEAD without a body."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dist.persistence.store import StoreLocation
from tests.clients.conftest import Distd
from tests.support import Server, start, stop

PUBLIC = "https://updates.example.com/dist"


@pytest.fixture
def proxied(location: StoreLocation, tmp_path: Path) -> Iterator[Distd]:
    log = tmp_path / "distd.log"
    process, port = start(location, log, "--public-url", PUBLIC + "/")
    try:
        server = Server(f"http://127.0.0.1:{port}", port, location, log)
        yield Distd(server, {"Authorization": f"Bearer {server.token('--scope', 'publish')}"})
    finally:
        stop(process)


def test_feed_urls_start_with_the_public_url(proxied: Distd) -> None:
    proxied.publish("demo", "1.0.0", [{"filename": "Demo.zip", "platform": "darwin-universal", "data": b"z"}], "stable")
    path = "/feeds/demo/squirrel/stable/darwin-arm64/0.1.0"
    answer = proxied.get(path)
    assert answer.status_code == 200, answer.text
    assert answer.json()["url"] == PUBLIC + "/api/apps/demo/releases/1.0.0/artifacts/Demo.zip"
    head = httpx.head(proxied.url + path, timeout=30)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(answer.content)) and head.headers["etag"] == answer.headers["etag"]
    assert httpx.get(proxied.url + path, headers={"if-none-match": answer.headers["etag"]}).status_code == 304
