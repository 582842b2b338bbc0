"""The read cache: cached answers are byte for byte those of the uncached path, and a write through the API,
through a `dist` process or through another server on the same store shows on the very next read."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from dist.http.app import create_app
from dist.http.cache import Answer, ReadCache, ReadCacheMiddleware
from dist.persistence.store import Store
from tests.http.conftest import SMALL_UPLOAD_CAP, publish
from tests.support import BIN, store_args

RETRIES = 20
LATEST = "/api/apps/demo/channels/stable/latest?platform=linux-x86_64"
READS = [
    "/api/apps",
    "/api/apps/demo",
    "/api/apps/demo/releases",
    "/api/apps/demo/releases?limit=1",
    "/api/apps/demo/releases/1.0.0",
    "/api/apps/demo/channels",
    "/api/apps/demo/channels/stable",
    "/api/apps/demo/channels/stable/history",
    LATEST,
    LATEST + "&current=1.0.0",
    "/api/apps/demo/releases/9.9.9",
    "/api/apps/nope",
    "/api/apps/demo/releases?limit=zero",
]


def cache_of(client: TestClient) -> ReadCache:
    cache: ReadCache = client.app.state.read_cache  # type: ignore[attr-defined]
    return cache


def seen(client: TestClient, url: str) -> tuple[int, list[tuple[str, str]], bytes]:
    response = client.get(url)
    # Every answer carries its own request's id.
    headers = [(k, v) for k, v in response.headers.multi_items() if k != "x-request-id"]
    return response.status_code, sorted(headers), response.content


def latest_version(client: TestClient, url: str = LATEST) -> Any:
    response = client.get(url)
    assert response.status_code == 200, response.text
    return response.json()["release"]["version"]


def soon(check: Callable[[], bool]) -> bool:
    """`check()` holds now, or within a second: another server's commit reaches this one's cache by a PostgreSQL
    notification, which may arrive a little after the commit."""
    deadline = time.monotonic() + 1.0
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def cached_twice(client: TestClient, url: str) -> Any:
    """GET `url` until it is served from the cache; its JSON body. A change notified late by PostgreSQL (an
    earlier write's) may empty the cache once more, hence the retries."""
    for _ in range(RETRIES):
        client.get(url)
        hits = cache_of(client).hits
        response = client.get(url)
        if cache_of(client).hits == hits + 1:
            return response.json()
        time.sleep(0.05)
    raise AssertionError(f"{url} was never answered from the cache")


@pytest.fixture
def second(store: Store) -> Iterator[TestClient]:
    """Another server on the same store, with a cache of its own."""
    with TestClient(create_app(store, max_upload=SMALL_UPLOAD_CAP), raise_server_exceptions=False) as other:
        yield other


def test_a_cached_answer_is_the_uncached_one(client: TestClient, publisher: dict[str, str]) -> None:
    publish(client, publisher, "1.0.0", {"demo.tar.gz": (b"one", "linux-x86_64")}, channel="stable")
    publish(client, publisher, "1.1.0", {"demo.tar.gz": (b"two", "linux-x86_64")})
    # PostgreSQL delivers the publishes' notifications asynchronously: one that arrives between the two rounds
    # empties the cache once more. Once the store is quiet, the second round comes from the cache alone.
    for _ in range(5):
        first = {url: seen(client, url) for url in READS}
        hits = cache_of(client).hits
        again = {url: seen(client, url) for url in READS}
        if cache_of(client).hits == hits + len(READS):
            break
    assert cache_of(client).hits == hits + len(READS)
    assert again == first
    assert {status for status, _, _ in first.values()} == {200, 204, 404, 422}
    # HEAD is answered by the routes themselves, with the headers of the GET and no body.
    head = client.head("/api/apps/demo")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == dict(first["/api/apps/demo"][1])["content-length"]


def test_writes_through_the_api_show_on_the_next_read(
    client: TestClient, publisher: dict[str, str], admin: dict[str, str]
) -> None:
    publish(client, publisher, "1.0.0", {"demo.tar.gz": (b"one", "linux-x86_64")}, channel="stable")
    assert [r["version"] for r in cached_twice(client, "/api/apps/demo/releases")["releases"]] == ["1.0.0"]
    publish(client, publisher, "2.0.0", {"demo.tar.gz": (b"two", "linux-x86_64")})
    assert [r["version"] for r in client.get("/api/apps/demo/releases").json()["releases"]] == ["2.0.0", "1.0.0"]

    assert cached_twice(client, LATEST)["release"]["version"] == "1.0.0"
    promoted = client.post("/api/apps/demo/channels/stable/promote", json={"version": "2.0.0"}, headers=publisher)
    assert promoted.status_code == 200
    assert latest_version(client) == "2.0.0"

    cached_twice(client, LATEST)
    assert client.post("/api/apps/demo/channels/stable/rollback", headers=publisher).status_code == 200
    assert latest_version(client) == "1.0.0"

    assert cached_twice(client, "/api/apps/demo/releases/2.0.0")["status"] == "published"
    assert client.post("/api/apps/demo/releases/2.0.0/yank", headers=admin).status_code == 200
    assert client.get("/api/apps/demo/releases/2.0.0").json()["status"] == "yanked"


def test_a_refused_write_leaves_answers_right(client: TestClient, publisher: dict[str, str]) -> None:
    publish(client, publisher, "1.0.0", {"demo.tar.gz": (b"one", "linux-x86_64")}, channel="stable")
    cached_twice(client, LATEST)
    refused = client.post("/api/apps/demo/channels/stable/promote", json={"version": "1.0.0"}, headers=publisher)
    assert refused.status_code == 409
    assert latest_version(client) == "1.0.0"
    assert cached_twice(client, LATEST)["release"]["version"] == "1.0.0"


def dist(store: Store, *args: str) -> None:
    done = subprocess.run(
        [str(BIN / "dist"), *store_args(store.location), *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_writes_by_a_dist_process_show_on_the_next_read(
    client: TestClient, store: Store, publisher: dict[str, str], tmp_path: Path
) -> None:
    publish(client, publisher, "1.0.0", {"demo.tar.gz": (b"one", "linux-x86_64")}, channel="stable")
    assert len(cached_twice(client, "/api/apps/demo/releases")["releases"]) == 1
    artifact = tmp_path / "demo.tar.gz"
    artifact.write_bytes(b"two")
    dist(store, "publish", "demo", "2.0.0", f"{artifact}=linux-x86_64")
    assert len(client.get("/api/apps/demo/releases").json()["releases"]) == 2

    cached_twice(client, LATEST)
    dist(store, "promote", "demo", "stable", "--version", "2.0.0")
    assert latest_version(client) == "2.0.0"

    cached_twice(client, LATEST)
    dist(store, "rollback", "demo", "stable")
    assert latest_version(client) == "1.0.0"

    cached_twice(client, "/api/apps/demo/releases/2.0.0")
    dist(store, "release", "yank", "demo", "2.0.0")
    assert client.get("/api/apps/demo/releases/2.0.0").json()["status"] == "yanked"


def test_writes_through_another_server_show_on_the_next_read(
    client: TestClient, second: TestClient, publisher: dict[str, str], admin: dict[str, str]
) -> None:
    publish(second, publisher, "1.0.0", {"demo.tar.gz": (b"one", "linux-x86_64")}, channel="stable")
    assert len(cached_twice(client, "/api/apps/demo/releases")["releases"]) == 1
    publish(second, publisher, "2.0.0", {"demo.tar.gz": (b"two", "linux-x86_64")})
    assert soon(lambda: len(client.get("/api/apps/demo/releases").json()["releases"]) == 2)

    cached_twice(client, LATEST)
    second.post("/api/apps/demo/channels/stable/promote", json={"version": "2.0.0"}, headers=publisher)
    assert soon(lambda: latest_version(client) == "2.0.0")

    cached_twice(client, LATEST)
    assert second.post("/api/apps/demo/channels/stable/rollback", headers=publisher).status_code == 200
    assert soon(lambda: latest_version(client) == "1.0.0")

    cached_twice(client, "/api/apps/demo/releases/2.0.0")
    assert second.post("/api/apps/demo/releases/2.0.0/yank", headers=admin).status_code == 200
    assert soon(lambda: client.get("/api/apps/demo/releases/2.0.0").json()["status"] == "yanked")


def test_an_answer_computed_across_a_change_is_not_kept() -> None:
    cache = ReadCache()
    before = cache.generation
    cache.invalidate()
    cache.put(b"/api/apps?", Answer(200, [], b"{}"), before)
    assert cache.get(b"/api/apps?") is None
    cache.put(b"/api/apps?", Answer(200, [], b"{}"), cache.generation)
    assert cache.get(b"/api/apps?") == Answer(200, [], b"{}")


def test_the_cache_stays_within_its_bounds() -> None:
    cache = ReadCache(max_entries=3, max_bytes=1000)
    for n in range(5):
        cache.put(f"/api/apps/{n}?".encode(), Answer(200, [], b"x" * 100), cache.generation)
    assert [cache.get(f"/api/apps/{n}?".encode()) is not None for n in range(5)] == [False, False, True, True, True]
    cache.put(b"/api/apps/big?", Answer(200, [], b"x" * 900), cache.generation)
    assert cache.get(b"/api/apps/big?") is not None
    assert cache.get(b"/api/apps/4?") is None


class QuietStore:
    """A change watch that is live and sees no change: the cache keeps what it is given."""

    live = True

    def poll(self) -> None:
        return None


def test_requests_for_an_answer_being_computed_wait_for_it() -> None:
    """After a change empties the cache, twenty requests for one answer run its route once, not twenty times."""
    calls = 0

    async def route(scope: Any, receive: Any, send: Any) -> None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"computed": %d}' % calls})

    cache = ReadCache()
    cache.watch = QuietStore()  # type: ignore[assignment]
    middleware = ReadCacheMiddleware(route, cache)
    scope = {"type": "http", "method": "GET", "path": "/api/apps/demo/releases", "query_string": b"", "headers": []}

    async def ask() -> bytes:
        sent: list[Any] = []

        async def send(message: Any) -> None:
            sent.append(message)

        async def receive() -> Any:
            return {"type": "http.request", "body": b""}

        await middleware(dict(scope), receive, send)
        assert sent[0]["status"] == 200
        body: bytes = sent[-1]["body"]
        return body

    async def many() -> list[bytes]:
        return await asyncio.gather(*(ask() for _ in range(20)))

    assert asyncio.run(many()) == [b'{"computed": 1}'] * 20
    assert calls == 1
    cache.invalidate()
    assert asyncio.run(many()) == [b'{"computed": 2}'] * 20
    assert calls == 2
