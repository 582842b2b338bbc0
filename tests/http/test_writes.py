"""Writes behind bearer tokens: upload, publish, promote, rollback, yank; every auth refusal; the audit actor."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import timedelta

from starlette.testclient import TestClient

from dist.http.app import create_app
from dist.persistence.store import Store
from dist.services import audit, tokens
from tests.conftest import Clock
from tests.http.conftest import SMALL_UPLOAD_CAP, assert_error, bearer, make_token, publish, sha256, upload


def _tmp_files(store: Store) -> list[str]:
    return sorted(p.name for p in store.objects.tmp_dir.iterdir())


def test_upload_stores_the_blob_once(client: TestClient, store: Store, publisher: dict[str, str]) -> None:
    data = b"some release bytes" * 100
    first = client.post("/api/upload", content=data, headers={**publisher, "X-Content-SHA256": sha256(data)})
    assert first.status_code == 201
    assert first.json() == {"sha256": sha256(data), "size": len(data)}
    assert store.objects.path(sha256(data)).read_bytes() == data
    again = client.post("/api/upload", content=data, headers=publisher)
    assert (again.status_code, again.json()) == (200, {"sha256": sha256(data), "size": len(data)})
    empty = client.post("/api/upload", content=b"", headers=publisher)
    assert (empty.status_code, empty.json()["size"]) == (201, 0)
    assert _tmp_files(store) == []


def test_upload_with_the_wrong_digest_keeps_nothing(
    client: TestClient, store: Store, publisher: dict[str, str]
) -> None:
    data = b"the real bytes"
    response = client.post("/api/upload", content=data, headers={**publisher, "X-Content-SHA256": "ab" * 32})
    assert_error(response, 422, "upload.digest_mismatch")
    assert not store.objects.exists(sha256(data))
    assert _tmp_files(store) == []
    bad = client.post("/api/upload", content=data, headers={**publisher, "X-Content-SHA256": "xyz"})
    assert_error(bad, 422, "object.invalid_sha256")


def test_upload_over_the_cap_is_refused_before_reading(
    client: TestClient, store: Store, publisher: dict[str, str]
) -> None:
    data = b"x" * (SMALL_UPLOAD_CAP + 1)
    assert_error(client.post("/api/upload", content=data, headers=publisher), 413, "request.too_large")
    assert not store.objects.exists(sha256(data))
    assert _tmp_files(store) == []
    exactly = b"y" * SMALL_UPLOAD_CAP
    assert client.post("/api/upload", content=exactly, headers=publisher).status_code == 201


def test_publish_promote_rollback_yank(client: TestClient, store: Store, admin: dict[str, str]) -> None:
    first = publish(client, admin, "1.0.0", {"a.bin": (b"1", "any")}, channel="beta")
    assert first["version"] == "1.0.0" and first["status"] == "published"
    publish(client, admin, "1.1.0", {"a.bin": (b"2", "any")}, channel="beta")

    promoted = client.post("/api/apps/demo/channels/stable/promote", json={"from": "beta"}, headers=admin)
    assert promoted.status_code == 200
    assert {k: v for k, v in promoted.json().items() if k != "updated_at"} == {
        "app": "demo",
        "name": "stable",
        "release": "1.1.0",
        "rollout": None,
    }
    by_version = client.post("/api/apps/demo/channels/stable/promote", json={"version": "1.0.0"}, headers=admin)
    assert by_version.json()["release"] == "1.0.0"

    rolled = client.post("/api/apps/demo/channels/stable/rollback", json={}, headers=admin)
    assert (rolled.status_code, rolled.json()["release"]) == (200, "1.1.0")
    # An empty body is a rollback with no target too.
    rolled = client.post("/api/apps/demo/channels/beta/rollback", content=b"", headers=admin)
    assert rolled.json()["release"] == "1.0.0"
    to = client.post("/api/apps/demo/channels/stable/promote", json={"version": "1.0.0"}, headers=admin)
    assert to.status_code == 200
    to = client.post("/api/apps/demo/channels/stable/rollback", json={"to": "1.1.0"}, headers=admin)
    assert to.json()["release"] == "1.1.0"

    history = client.get("/api/apps/demo/channels/stable/history").json()["events"]
    assert [(e["kind"], e["version"]) for e in history] == [
        ("promote", "1.1.0"),
        ("promote", "1.0.0"),
        ("rollback", "1.1.0"),
        ("promote", "1.0.0"),
        ("rollback", "1.1.0"),
    ]
    assert_error(client.post("/api/apps/demo/releases/1.1.0/yank", headers=admin, content=b""), 409, "release.in_use")
    publish(client, admin, "1.2.0", {"a.bin": (b"3", "any")})
    yanked = client.post("/api/apps/demo/releases/1.2.0/yank", json={}, headers=admin)
    assert (yanked.status_code, yanked.json()["status"]) == (200, "yanked")
    assert_error(
        client.post("/api/apps/demo/releases/1.2.0/yank", json={}, headers=admin), 409, "release.already_yanked"
    )
    assert_error(
        client.post("/api/apps/demo/channels/beta/promote", json={"version": "1.2.0"}, headers=admin),
        409,
        "release.yanked",
    )


def test_write_refusals(client: TestClient, publisher: dict[str, str], admin: dict[str, str]) -> None:
    publish(client, publisher, "1.0.0", {"a.bin": (b"1", "any")}, channel="beta")
    blob = sha256(b"1")

    def post(path: str, body: object, headers: dict[str, str] = publisher) -> object:
        return client.post(f"/api/apps/demo{path}", json=body, headers=headers)

    release = {"version": "1.0.0", "artifacts": [{"filename": "a.bin", "sha256": blob}]}
    assert_error(post("/releases", release), 409, "release.exists")
    missing = {"version": "2.0.0", "artifacts": [{"filename": "a.bin", "sha256": "0" * 64}]}
    assert_error(post("/releases", missing), 422, "object.missing")
    assert_error(post("/releases", {**release, "version": "2.0.0", "extra": 1}), 422, "request.unknown_field")
    assert_error(post("/releases", {"artifacts": release["artifacts"]}), 422, "request.missing_field")
    assert_error(post("/releases", {**release, "version": 2}), 422, "request.invalid_field")
    assert_error(post("/releases", {**release, "version": "2.0.0", "artifacts": []}), 422, "release.no_artifacts")
    assert_error(post("/releases", {**release, "version": "2.0.0", "artifacts": ["a"]}), 422, "request.invalid_field")
    assert_error(post("/releases", {**release, "version": "x"}), 422, "release.invalid_version")
    assert_error(post("/releases", [release]), 422, "request.invalid_body")
    assert_error(post("/channels/beta/promote", {"version": "1.0.0"}), 409, "channel.unchanged")
    assert_error(post("/channels/beta/promote", {"version": "9.0.0"}), 404, "release.not_found")
    assert_error(post("/channels/beta/promote", {}), 422, "promote.invalid_arguments")
    assert_error(post("/channels/beta/promote", {"version": "1.0.0", "from": "x"}), 422, "promote.invalid_arguments")
    assert_error(post("/channels/stable/promote", {"from": "nightly"}), 404, "channel.not_found")
    assert_error(post("/channels/beta/rollback", {}), 409, "channel.nothing_to_roll_back")
    assert_error(post("/channels/nightly/rollback", {}), 404, "channel.not_found")
    assert_error(post("/releases/9.0.0/yank", {}, admin), 404, "release.not_found")
    assert_error(client.post("/api/apps/ghost/releases/1.0.0/yank", json={}, headers=admin), 404, "app.not_found")
    malformed = client.post("/api/apps/demo/channels/beta/promote", content=b'{"version": ', headers=publisher)
    assert_error(malformed, 400, "request.malformed_json")
    too_big = b'{"notes": "' + b"n" * (1024 * 1024) + b'"}'
    assert_error(client.post("/api/apps/demo/releases", content=too_big, headers=publisher), 413, "request.too_large")


def test_authentication_refusals(client: TestClient, store: Store, clock: Clock) -> None:
    body = {"version": "1.0.0"}
    url = "/api/apps/demo/channels/beta/promote"

    def refused(headers: dict[str, str], status: int, code: str, path: str = url) -> None:
        response = client.post(path, json=body, headers=headers)
        assert_error(response, status, code)
        if status == 401:
            assert response.headers["www-authenticate"] == "Bearer"

    refused({}, 401, "auth.missing")
    refused({"Authorization": "Basic dXNlcjpwYXNz"}, 401, "auth.malformed")
    refused({"Authorization": "Bearer"}, 401, "auth.malformed")
    refused(bearer("not-a-dist-token"), 401, "auth.malformed")
    refused(bearer("dist_" + "0" * 64), 401, "auth.unknown")
    revoked_id, revoked = make_token(store, "publish")
    tokens.revoke_token(store.uow(), token_id=revoked_id, actor="cli:test")
    refused(bearer(revoked), 403, "auth.revoked")
    _, expiring = make_token(store, "publish", expires_at=clock.now + timedelta(hours=1))
    clock.advance(hours=2)
    refused(bearer(expiring), 403, "auth.expired")
    _, publisher = make_token(store, "publish")
    refused(bearer(publisher), 403, "auth.missing_scope", "/api/apps/demo/releases/1.0.0/yank")
    _, other_app = make_token(store, "publish", app="other")
    refused(bearer(other_app), 403, "auth.app_forbidden")
    _, stable_only = make_token(store, "publish", channel="stable")
    refused(bearer(stable_only), 403, "auth.channel_forbidden")
    data = b"bytes"
    artifacts = [{"filename": "a.bin", "sha256": upload(client, bearer(stable_only), data)}]
    onto_beta = {"version": "1.0.0", "channel": "beta", "artifacts": artifacts}
    response = client.post("/api/apps/demo/releases", json=onto_beta, headers=bearer(stable_only))
    assert_error(response, 403, "auth.channel_forbidden")
    assert_error(client.post("/api/upload", content=data), 401, "auth.missing")


def test_token_use_is_stamped_and_audited(client: TestClient, store: Store, clock: Clock) -> None:
    token_id, secret = make_token(store, "publish", app="demo")
    publish(client, bearer(secret), "1.0.0", {"a.bin": (b"1", "any")}, channel="beta")
    (token,) = tokens.list_tokens(store.uow())
    assert token.last_used_at == clock.now
    events = audit.list_events(store.uow(), app="demo")
    assert [(e.action.value, e.actor) for e in events] == [
        ("token_created", "cli:test"),
        ("app_created", f"token:{token_id}"),
        ("release_published", f"token:{token_id}"),
        ("channel_promoted", f"token:{token_id}"),
    ]
    assert secret not in str([e.detail for e in events])


def test_an_upload_answers_before_sha512_and_sha1_which_follow_shortly(store: Store, publisher: dict[str, str]) -> None:
    with TestClient(create_app(store, max_upload=8 * 1024 * 1024, counts_interval=0)) as client:
        uploaded_and_published(client, store, publisher)


def uploaded_and_published(client: TestClient, store: Store, publisher: dict[str, str]) -> None:
    data = os.urandom(5 * 1024 * 1024)
    digest = upload(client, publisher, data)
    expected = (hashlib.sha512(data).hexdigest(), hashlib.sha1(data).hexdigest())
    deadline = time.monotonic() + 10
    while True:
        with store.uow().read() as uow:
            blob = uow.blobs.get(digest)
        assert blob is not None and blob.size == len(data)
        if (blob.sha512, blob.sha1) == expected or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert (blob.sha512, blob.sha1) == expected
    answer = client.post(
        "/api/apps/demo/releases",
        json={"version": "1.0.0", "artifacts": [{"filename": "a.bin", "sha256": digest, "platform": "any"}]},
        headers=publisher,
    )
    assert answer.status_code == 201
    assert (answer.json()["artifacts"][0]["sha512"], answer.json()["artifacts"][0]["sha1"]) == expected


def test_an_upload_that_names_its_digest_has_all_three_when_it_answers(store: Store, publisher: dict[str, str]) -> None:
    # Large enough that hashing it after the answer would take longer than the read below.
    data = os.urandom(32 * 1024 * 1024)
    headers = {**publisher, "X-Content-SHA256": sha256(data)}
    with TestClient(create_app(store, max_upload=64 * 1024 * 1024, counts_interval=0)) as client:
        assert client.post("/api/upload", content=data, headers=headers).status_code == 201
        with store.uow().read() as uow:
            blob = uow.blobs.get(sha256(data))
    assert blob is not None
    assert (blob.sha512, blob.sha1) == (hashlib.sha512(data).hexdigest(), hashlib.sha1(data).hexdigest())
