"""Fixtures of the HTTP tests: the app in process over the `store` fixture, tokens, and blob helpers."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from dist.http.app import create_app
from dist.persistence.store import Store
from dist.services import tokens

SMALL_UPLOAD_CAP = 64 * 1024


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(store, max_upload=SMALL_UPLOAD_CAP), raise_server_exceptions=False) as test_client:
        yield test_client


def make_token(
    store: Store,
    *scopes: str,
    app: str | None = None,
    channel: str | None = None,
    expires_at: datetime | None = None,
) -> tuple[int, str]:
    token, secret = tokens.create_token(
        store.uow(),
        name="test",
        scopes=list(scopes or ["publish"]),
        app=app,
        channel=channel,
        expires_at=expires_at,
        actor="cli:test",
    )
    assert token.id is not None
    return token.id, secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def publisher(store: Store) -> dict[str, str]:
    return bearer(make_token(store, "publish")[1])


@pytest.fixture
def admin(store: Store) -> dict[str, str]:
    return bearer(make_token(store, "publish", "admin")[1])


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload(client: TestClient, headers: dict[str, str], data: bytes) -> str:
    response = client.post("/api/upload", content=data, headers=headers)
    assert response.status_code in (200, 201), response.text
    digest: str = response.json()["sha256"]
    return digest


def publish(
    client: TestClient,
    headers: dict[str, str],
    version: str,
    files: dict[str, tuple[bytes, str]],
    *,
    app: str = "demo",
    channel: str | None = None,
) -> dict[str, Any]:
    """Upload each file's bytes and publish them as `version`; files map a name to (bytes, platform)."""
    artifacts = [
        {"filename": name, "sha256": upload(client, headers, data), "platform": platform}
        for name, (data, platform) in files.items()
    ]
    body: dict[str, Any] = {"version": version, "artifacts": artifacts}
    if channel is not None:
        body["channel"] = channel
    response = client.post(f"/api/apps/{app}/releases", json=body, headers=headers)
    assert response.status_code == 201, response.text
    document: dict[str, Any] = response.json()
    return document


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert isinstance(response.json()["error"]["message"], str)
