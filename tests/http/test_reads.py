"""Public reads: apps, releases (paginated, newest first), channels, history and the update check."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.http.conftest import assert_error, publish

LINUX = "linux-x86_64"


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_apps_releases_and_channels(client: TestClient, publisher: dict[str, str]) -> None:
    assert client.get("/api/apps").json() == {"apps": []}
    published = publish(client, publisher, "1.0.0", {"a.bin": (b"one", LINUX)}, channel="beta")

    apps = client.get("/api/apps").json()["apps"]
    assert [(a["slug"], a["name"]) for a in apps] == [("demo", "demo")]
    shown = client.get("/api/apps/demo").json()
    assert shown["slug"] == "demo"
    assert [(c["name"], c["release"]) for c in shown["channels"]] == [("beta", "1.0.0")]

    release = client.get("/api/apps/demo/releases/1.0.0").json()
    assert release == published
    assert release["artifacts"][0]["url"] == "/api/apps/demo/releases/1.0.0/artifacts/a.bin"
    assert release["created_by"].startswith("token:")

    channels = client.get("/api/apps/demo/channels").json()["channels"]
    assert [set(c) for c in channels] == [{"app", "name", "release", "updated_at", "rollout"}]
    channel = client.get("/api/apps/demo/channels/beta").json()
    assert channel["release"] == "1.0.0"
    assert channel["current_release"] == published

    events = client.get("/api/apps/demo/channels/beta/history").json()["events"]
    assert [(e["kind"], e["version"]) for e in events] == [("promote", "1.0.0")]


def test_unknown_and_invalid_names(client: TestClient, publisher: dict[str, str]) -> None:
    publish(client, publisher, "1.0.0", {"a.bin": (b"one", LINUX)}, channel="beta")
    assert_error(client.get("/api/apps/nope"), 404, "app.not_found")
    assert_error(client.get("/api/apps/nope/releases"), 404, "app.not_found")
    assert_error(client.get("/api/apps/demo/releases/9.9.9"), 404, "release.not_found")
    assert_error(client.get("/api/apps/demo/channels/stable"), 404, "channel.not_found")
    assert_error(client.get("/api/apps/demo/channels/stable/history"), 404, "channel.not_found")
    assert_error(client.get("/api/apps/Not_A_Slug"), 422, "app.invalid_slug")
    assert_error(client.get("/api/apps/demo/releases/1.0"), 422, "release.invalid_version")


def test_release_pages_newest_first(client: TestClient, publisher: dict[str, str]) -> None:
    versions = ["1.0.0", "1.1.0", "1.2.0", "2.0.0-rc.1", "2.0.0"]
    for version in versions:
        publish(client, publisher, version, {"a.bin": (version.encode(), "any")})
    seen: list[str] = []
    url = "/api/apps/demo/releases?limit=2"
    pages = 0
    while True:
        response = client.get(url)
        assert response.status_code == 200
        body = response.json()
        seen += [r["version"] for r in body["releases"]]
        pages += 1
        if body["next_cursor"] is None:
            assert "link" not in response.headers
            break
        assert response.headers["link"].endswith('>; rel="next"')
        url = response.headers["link"][1 : response.headers["link"].index(">")]
        assert f"cursor={body['next_cursor']}" in url
    assert seen == list(reversed(versions))
    assert pages == 3
    whole = client.get("/api/apps/demo/releases").json()
    assert [r["version"] for r in whole["releases"]] == list(reversed(versions))
    assert whole["next_cursor"] is None


def test_release_page_refusals(client: TestClient, publisher: dict[str, str]) -> None:
    publish(client, publisher, "1.0.0", {"a.bin": (b"x", "any")})
    for limit in ("0", "501", "abc", "-1", "²"):
        assert_error(client.get("/api/apps/demo/releases", params={"limit": limit}), 422, "release.invalid_limit")
    for cursor in ("abc", "0", "²"):
        assert_error(client.get("/api/apps/demo/releases", params={"cursor": cursor}), 422, "release.invalid_cursor")


def _latest(client: TestClient, channel: str = "stable", **params: str) -> tuple[int, dict[str, object] | None]:
    response = client.get(f"/api/apps/demo/channels/{channel}/latest", params=params)
    return response.status_code, response.json() if response.content else None


def test_update_check_matrix(client: TestClient, publisher: dict[str, str]) -> None:
    publish(
        client,
        publisher,
        "1.2.0",
        {"app-linux.tar.gz": (b"linux", LINUX), "app.zip": (b"portable", "any")},
        channel="stable",
    )
    publish(client, publisher, "2.0.0-beta.1", {"mac.dmg": (b"mac", "darwin-aarch64")}, channel="beta")

    status, body = _latest(client, platform=LINUX, current="1.1.9")
    assert status == 200 and body is not None
    assert body["release"]["version"] == "1.2.0"  # type: ignore[index]
    assert body["artifact"]["filename"] == "app-linux.tar.gz"  # type: ignore[index]
    assert body["artifact"]["url"] == "/api/apps/demo/releases/1.2.0/artifacts/app-linux.tar.gz"  # type: ignore[index]
    # Another platform falls back to the `any` artifact; no platform means `any`.
    assert _latest(client, platform="windows-x86_64")[1]["artifact"]["filename"] == "app.zip"  # type: ignore[index]
    assert _latest(client)[1]["artifact"]["filename"] == "app.zip"  # type: ignore[index]
    # Current or newer: nothing to do. SemVer, not string order: 1.10.0 > 1.2.0.
    for current in ("1.2.0", "1.2.0+build.7", "1.10.0", "2.0.0-alpha"):
        assert _latest(client, platform=LINUX, current=current) == (204, None)
    # A pre-release of 1.2.0 is older than 1.2.0.
    assert _latest(client, platform=LINUX, current="1.2.0-rc.1")[0] == 200
    assert _latest(client, "beta", platform="darwin-aarch64", current="1.2.0")[0] == 200
    assert _latest(client, "beta", platform="darwin-aarch64", current="2.0.0-beta.1")[0] == 204

    # Nothing for the platform and no `any` fallback: 404.
    status, body = _latest(client, "beta", platform=LINUX)
    assert status == 404 and body is not None and body["error"]["code"] == "artifact.not_found"  # type: ignore[index]
    assert_error(client.get("/api/apps/demo/channels/nightly/latest"), 404, "channel.not_found")
    assert_error(client.get("/api/apps/ghost/channels/stable/latest"), 404, "app.not_found")
    assert_error(client.get("/api/apps/demo/channels/stable/latest?current=one"), 422, "release.invalid_version")
    assert_error(client.get("/api/apps/demo/channels/stable/latest?platform=Linux"), 422, "artifact.invalid_platform")


def test_update_check_never_serves_a_yanked_release(
    client: TestClient, publisher: dict[str, str], admin: dict[str, str]
) -> None:
    publish(client, publisher, "1.0.0", {"a.bin": (b"1", "any")}, channel="stable")
    publish(client, publisher, "1.1.0", {"a.bin": (b"2", "any")}, channel="stable")
    assert client.post("/api/apps/demo/channels/stable/rollback", json={}, headers=publisher).status_code == 200
    assert client.post("/api/apps/demo/releases/1.1.0/yank", headers=admin, content=b"").status_code == 200
    status, body = _latest(client, current="1.0.0")
    assert status == 204
    status, body = _latest(client, current="0.9.0")
    assert status == 200 and body is not None
    assert body["release"]["version"] == "1.0.0"  # type: ignore[index]
    # A yanked release stays readable by its exact version.
    assert client.get("/api/apps/demo/releases/1.1.0").json()["status"] == "yanked"
