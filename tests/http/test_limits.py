"""Refusals of the transport: 411, 413, 431, unknown routes and methods, and no traceback ever."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.testclient import TestClient

from dist.persistence.store import Store
from dist.services import apps
from tests.http.conftest import assert_error


def _chunks() -> Iterator[bytes]:
    yield b"chunked "
    yield b"body"


def test_a_body_without_content_length_is_411(client: TestClient, store: Store, publisher: dict[str, str]) -> None:
    for path in ("/api/upload", "/api/apps/demo/releases", "/api/apps/demo/channels/beta/rollback"):
        response = client.post(path, content=_chunks(), headers=publisher)
        assert_error(response, 411, "request.length_required")
    assert list(store.objects.tmp_dir.iterdir()) == []


def test_headers_over_8_kib_are_431(client: TestClient) -> None:
    assert_error(client.get("/healthz", headers={"X-Big": "a" * 8192}), 431, "request.headers_too_large")
    assert client.get("/healthz", headers={"X-Big": "a" * 7000}).status_code == 200


def test_unknown_routes_and_methods_use_the_envelope(client: TestClient) -> None:
    assert_error(client.get("/nowhere"), 404, "route.not_found")
    assert_error(client.get("/api/apps/demo/releases/1.0.0/artifacts"), 404, "route.not_found")
    response = client.delete("/api/apps")
    assert_error(response, 405, "method.not_allowed")
    assert "GET" in response.headers["allow"]
    assert_error(client.get("/api/upload"), 405, "method.not_allowed")
    assert_error(client.put("/api/upload", content=b"x"), 405, "method.not_allowed")


def test_no_traceback_reaches_the_client(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(apps, "list_apps", broken)
    response = client.get("/api/apps")
    assert_error(response, 500, "internal.error")
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (IntegrityError("INSERT", {}, Exception("duplicate key")), 409, "store.conflict"),
        (OperationalError("SELECT", {}, Exception("database is locked")), 503, "store.unavailable"),
    ],
)
def test_database_refusals_use_the_envelope(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, error: Exception, status: int, code: str
) -> None:
    def failing(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(apps, "list_apps", failing)
    response = client.get("/api/apps")
    assert_error(response, status, code)
    assert "duplicate key" not in response.text and "locked" not in response.text
