"""The admin routes: audit log, tokens and app settings over HTTP, behind the admin scope, with the same
renderings and refusals as the CLI's."""

from __future__ import annotations

from starlette.testclient import TestClient

from dist.domain.render import render_audit_event, render_token
from dist.persistence.store import Store
from dist.services import audit, tokens
from tests.http.conftest import assert_error, bearer, publish


def test_tokens_are_created_listed_and_revoked(client: TestClient, store: Store, admin: dict[str, str]) -> None:
    created = client.post(
        "/api/tokens",
        json={"name": "ci", "scopes": ["publish"], "app": "demo", "expires_at": "2099-01-01T00:00:00Z"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    token = created.json()
    secret = token.pop("secret")
    assert secret.startswith("dist_") and len(secret) == 69
    assert token["status"] == "active" and token["app"] == "demo" and token["expires_at"] == "2099-01-01T00:00:00Z"
    # The secret works, for what it allows.
    publish(client, bearer(secret), "1.0.0", {"a.bin": (b"a", "any")})
    listed = client.get("/api/tokens", headers=admin)
    assert listed.status_code == 200
    assert secret not in listed.text
    stored = tokens.list_tokens(store.uow())
    assert listed.json() == {"tokens": [render_token(t, store.clock()) for t in stored]}
    revoked = client.post(f"/api/tokens/{token['id']}/revoke", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert_error(client.post(f"/api/tokens/{token['id']}/revoke", headers=admin), 409, "token.already_revoked")
    assert_error(client.post("/api/tokens/999999/revoke", headers=admin), 404, "token.not_found")
    assert_error(client.post("/api/tokens/abc/revoke", headers=admin), 422, "token.invalid_id")
    assert_error(client.post("/api/upload", content=b"b", headers=bearer(secret)), 403, "auth.revoked")
    actions = [e["action"] for e in client.get("/api/audit", headers=admin).json()["events"]]
    assert actions.count("token_created") == 2 and actions[-1] == "token_revoked"


def test_token_refusals_write_nothing(client: TestClient, store: Store, admin: dict[str, str]) -> None:
    before = len(tokens.list_tokens(store.uow()))

    def create(body: object) -> object:
        return client.post("/api/tokens", json=body, headers=admin)

    assert_error(create({"name": "ci", "scopes": ["root"]}), 422, "request.invalid_field")
    assert_error(create({"name": "ci", "scopes": []}), 422, "request.invalid_field")
    assert_error(create({"name": "", "scopes": ["publish"]}), 422, "token.invalid_name")
    assert_error(create({"name": "ci", "scopes": ["publish"], "app": "Bad App"}), 422, "app.invalid_slug")
    assert_error(
        create({"name": "ci", "scopes": ["publish"], "expires_at": "2001-01-01T00:00:00Z"}), 422, "token.invalid_expiry"
    )
    assert_error(create({"name": "ci", "scopes": ["publish"], "secret": "x"}), 422, "request.unknown_field")
    assert len(tokens.list_tokens(store.uow())) == before


def test_admin_routes_need_the_admin_scope(client: TestClient, publisher: dict[str, str]) -> None:
    for method, path in (
        ("GET", "/api/audit"),
        ("GET", "/api/tokens"),
        ("POST", "/api/tokens"),
        ("POST", "/api/tokens/1/revoke"),
        ("PATCH", "/api/apps/demo"),
    ):
        body = {"name": "x", "scopes": ["admin"]} if path == "/api/tokens" else {}
        assert_error(client.request(method, path, json=body), 401, "auth.missing")
        assert_error(client.request(method, path, json=body, headers=publisher), 403, "auth.missing_scope")


def test_audit_log_over_http_is_the_cli_s(client: TestClient, store: Store, admin: dict[str, str]) -> None:
    publish(client, admin, "1.0.0", {"a.bin": (b"a", "any")}, channel="beta")
    publish(client, admin, "1.0.0", {"a.bin": (b"a", "any")}, app="other")
    body = client.get("/api/audit", headers=admin).json()
    assert body == {"events": [render_audit_event(e) for e in audit.list_events(store.uow())]}
    only = client.get("/api/audit", params={"app": "demo", "limit": "2"}, headers=admin).json()["events"]
    expected = audit.list_events(store.uow(), app="demo", limit=2)
    assert only == [render_audit_event(e) for e in expected] and len(only) == 2
    assert_error(client.get("/api/audit", params={"limit": "0"}, headers=admin), 422, "audit.invalid_limit")


def test_app_settings(client: TestClient, admin: dict[str, str]) -> None:
    publish(client, admin, "1.0.0", {"a.bin": (b"a", "any")})
    patched = client.patch("/api/apps/demo", json={"name": "Demo App"}, headers=admin)
    assert patched.status_code == 200 and patched.json()["name"] == "Demo App"
    assert client.get("/api/apps/demo").json()["name"] == "Demo App"
    assert client.patch("/api/apps/demo", json={}, headers=admin).json()["name"] == "Demo App"
    assert_error(client.patch("/api/apps/ghost", json={"name": "x"}, headers=admin), 404, "app.not_found")
    assert_error(client.patch("/api/apps/demo", json={"name": ""}, headers=admin), 422, "app.invalid_name")
    assert_error(client.patch("/api/apps/demo", json={"slug": "x"}, headers=admin), 422, "request.unknown_field")
    event = client.get("/api/audit", params={"limit": "2"}, headers=admin).json()["events"][0]
    assert event["action"] == "app_updated"
    assert event["detail"]["before"]["name"] == "demo" and event["detail"]["after"]["name"] == "Demo App"
