"""Download counts and update checks through the HTTP app in process: what counts (a GET from byte 0, once per
request), what does not (HEAD, a range from elsewhere, 304, 416), counts that two servers on one store add up,
`downloads` in the renderings and the stats route."""

from __future__ import annotations

from datetime import timedelta

from starlette.testclient import TestClient

from dist.http.app import create_app
from dist.persistence.store import Store
from tests.conftest import Clock
from tests.http.conftest import SMALL_UPLOAD_CAP, assert_error, bearer, make_token, publish, sha256

DATA = b"0123456789" * 100
URL = "/api/apps/demo/releases/1.0.0/artifacts/app.tar.gz"


def server(store: Store) -> TestClient:
    """A server whose counts reach the store only when it stops."""
    return TestClient(
        create_app(store, max_upload=SMALL_UPLOAD_CAP, counts_interval=3600), raise_server_exceptions=False
    )


def test_only_gets_from_byte_zero_count(store: Store) -> None:
    headers = bearer(make_token(store, "publish")[1])
    with server(store) as client:
        publish(client, headers, "1.0.0", {"app.tar.gz": (DATA, "linux-x86_64")}, channel="stable")
        assert client.get(URL).status_code == 200
        assert client.get(URL, headers={"Range": "bytes=0-99"}).status_code == 206
        assert client.get(URL, headers={"Range": "bytes=100-199"}).status_code == 206
        assert client.get(URL, headers={"Range": "bytes=5000-"}).status_code == 416
        assert client.head(URL).status_code == 200
        assert client.get(URL, headers={"If-None-Match": f'"{sha256(DATA)}"'}).status_code == 304
        assert client.get(f"/api/objects/{sha256(DATA)}").status_code == 200
        assert client.get(f"/api/objects/{sha256(DATA)}", headers={"Range": "bytes=1-"}).status_code == 206
        # Nothing is written before the flush.
        assert client.get("/api/apps/demo/releases/1.0.0").json()["downloads"] == 0
    with server(store) as client:
        release = client.get("/api/apps/demo/releases/1.0.0").json()
        assert release["downloads"] == 2
        assert release["artifacts"][0]["downloads"] == 2
        assert client.get("/api/apps/demo/releases").json()["releases"][0]["downloads"] == 2
        latest = client.get("/api/apps/demo/channels/stable/latest?platform=linux-x86_64").json()
        assert latest["release"]["downloads"] == latest["artifact"]["downloads"] == 2
        assert client.get("/api/apps/demo/channels/stable").json()["current_release"]["downloads"] == 2
    with store.uow().read() as uow:
        assert uow.counts.blob_downloads(sha256(DATA)) == 1


def test_update_checks_count_by_version_cached_or_not(store: Store) -> None:
    headers = bearer(make_token(store, "publish")[1])
    with server(store) as client:
        publish(client, headers, "1.0.0", {"a.bin": (b"one", "any")}, channel="stable")
        publish(client, headers, "1.1.0", {"a.bin": (b"two", "any")}, channel="stable")
        check = "/api/apps/demo/channels/stable/latest"
        for _ in range(3):
            # The second and third are answered from the read cache: they count all the same.
            assert client.get(check, params={"current": "1.0.0"}).status_code == 200
        assert client.get(check, params={"current": "1.1.0"}).status_code == 204
        # No current version, a bad one, an unknown channel: not counted.
        assert client.get(check).status_code == 200
        assert client.get(check, params={"current": "one"}).status_code == 422
        assert client.get("/api/apps/demo/channels/nope/latest", params={"current": "1.0.0"}).status_code == 404
    with server(store) as client:
        stats = client.get("/api/apps/demo/stats", params={"days": 2}).json()
    assert stats["checks"] == 4
    assert stats["checks_by_version"] == [{"version": "1.1.0", "count": 1}, {"version": "1.0.0", "count": 3}]
    assert stats["days"][-1]["checks"] == {"1.0.0": 3, "1.1.0": 1}
    assert [d["day"] for d in stats["days"]] == [stats["from"], stats["to"]]


def test_two_servers_on_one_store_add_up_per_day(store: Store, clock: Clock) -> None:
    headers = bearer(make_token(store, "publish")[1])
    with server(store) as client:
        publish(client, headers, "1.0.0", {"app.tar.gz": (DATA, "any")})
    first, second = server(store), server(store)
    with first, second:
        for _ in range(3):
            assert first.get(URL).status_code == 200
        assert second.get(URL).status_code == 200
    clock.advance(days=1)
    with server(store) as client:
        assert client.get(URL).status_code == 200
    with server(store) as client:
        stats = client.get("/api/apps/demo/stats", params={"days": 3}).json()
        assert [d["downloads"] for d in stats["days"]] == [0, 4, 1]
        assert stats["to"] == clock.now.date().isoformat()
        assert stats["from"] == (clock.now - timedelta(days=2)).date().isoformat()
        assert stats["downloads_by_version"] == [{"version": "1.0.0", "count": 5}]
        assert client.get("/api/apps/demo/releases/1.0.0").json()["downloads"] == 5


def test_counting_off_counts_nothing(store: Store) -> None:
    headers = bearer(make_token(store, "publish")[1])
    with TestClient(create_app(store, max_upload=SMALL_UPLOAD_CAP, counts_interval=0)) as client:
        publish(client, headers, "1.0.0", {"app.tar.gz": (DATA, "any")})
        assert client.get(URL).status_code == 200
    with server(store) as client:
        assert client.get("/api/apps/demo/releases/1.0.0").json()["downloads"] == 0


def test_stats_refusals(store: Store) -> None:
    with server(store) as client:
        assert_error(client.get("/api/apps/nope/stats"), 404, "app.not_found")
        headers = bearer(make_token(store, "publish")[1])
        publish(client, headers, "1.0.0", {"a.bin": (b"x", "any")})
        for days in ("0", "367", "x", "-1"):
            assert_error(client.get("/api/apps/demo/stats", params={"days": days}), 422, "stats.invalid_days")
        stats = client.get("/api/apps/demo/stats").json()
        assert len(stats["days"]) == 30 and stats["downloads"] == 0 and stats["downloads_by_version"] == []
