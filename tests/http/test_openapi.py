"""The OpenAPI document: valid OpenAPI 3.1, covering every route, and describing what the server answers."""

from __future__ import annotations

import re
from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate
from starlette.routing import Route
from starlette.testclient import TestClient

from dist.http.app import ROUTES
from tests.http.conftest import publish, sha256


def _inline(node: Any, document: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[1]
            return _inline(document["components"]["schemas"][name], document)
        return {key: _inline(value, document) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(value, document) for value in node]
    return node


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_document_is_valid_openapi(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    validate(document)
    assert document["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}


def test_every_route_is_documented(document: dict[str, Any]) -> None:
    served: dict[str, set[str]] = {}
    for route in ROUTES:
        assert isinstance(route, Route) and route.methods is not None
        served.setdefault(route.path, set()).update(m.lower() for m in route.methods)
    documented = {path: set(operations) for path, operations in document["paths"].items()}
    assert documented == served
    for path, operations in document["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for method, operation in operations.items():
            declared = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert declared == names, (path, method)
            assert ("security" in operation) == (
                method in ("post", "patch", "delete")
                or path in ("/api/audit", "/api/tokens", "/api/token", "/metrics")
                or path.startswith("/api/webhooks")
            ), (
                path,
                method,
            )


def _check(document: dict[str, Any], path: str, method: str, response: Any) -> None:
    responses = document["paths"][path][method]["responses"]
    spec = responses.get(str(response.status_code)) or responses["default"]
    if "content" not in spec:
        assert response.content == b"", (path, response.status_code)
        return
    content = spec["content"]
    if "application/json" in content:
        assert response.headers["content-type"] == "application/json", (path, response.status_code)
        OAS31Validator(_inline(content["application/json"]["schema"], document)).validate(response.json())


def test_answers_match_the_document(client: TestClient, document: dict[str, Any], admin: dict[str, str]) -> None:
    publish(client, admin, "1.0.0", {"a.bin": (b"a", "any")}, channel="beta")
    publish(client, admin, "1.1.0", {"a.bin": (b"b", "any")}, channel="beta")
    blob = sha256(b"a")
    calls: list[tuple[str, str, str, dict[str, Any]]] = [
        ("get", "/healthz", "/healthz", {}),
        ("get", "/api/apps", "/api/apps", {}),
        ("get", "/api/apps/{slug}", "/api/apps/demo", {}),
        ("get", "/api/apps/{slug}", "/api/apps/ghost", {}),
        ("get", "/api/apps/{slug}/releases", "/api/apps/demo/releases?limit=1", {}),
        ("get", "/api/apps/{slug}/releases", "/api/apps/demo/releases?limit=0", {}),
        ("get", "/api/apps/{slug}/releases/{version}", "/api/apps/demo/releases/1.0.0", {}),
        ("get", "/api/apps/{slug}/channels", "/api/apps/demo/channels", {}),
        ("get", "/api/apps/{slug}/channels/{name}", "/api/apps/demo/channels/beta", {}),
        ("get", "/api/apps/{slug}/channels/{name}/history", "/api/apps/demo/channels/beta/history", {}),
        ("get", "/api/apps/{slug}/channels/{name}/latest", "/api/apps/demo/channels/beta/latest", {}),
        ("get", "/api/apps/{slug}/channels/{name}/latest", "/api/apps/demo/channels/beta/latest?current=2.0.0", {}),
        ("get", "/api/objects/{sha256}", f"/api/objects/{blob}", {"headers": {"Range": "bytes=9-"}}),
        ("head", "/api/objects/{sha256}", f"/api/objects/{blob}", {}),
        ("post", "/api/upload", "/api/upload", {"content": b"a", "headers": admin}),
        ("post", "/api/upload", "/api/upload", {"content": b"z"}),
        (
            "post",
            "/api/apps/{slug}/channels/{name}/promote",
            "/api/apps/demo/channels/stable/promote",
            {"json": {"from": "beta"}, "headers": admin},
        ),
        (
            "post",
            "/api/apps/{slug}/channels/{name}/rollback",
            "/api/apps/demo/channels/beta/rollback",
            {"json": {}, "headers": admin},
        ),
        (
            "post",
            "/api/apps/{slug}/releases/{version}/yank",
            "/api/apps/demo/releases/1.1.0/yank",
            {"json": {}, "headers": admin},
        ),
        (
            "post",
            "/api/apps/{slug}/releases",
            "/api/apps/demo/releases",
            {"json": {"version": "2.0.0"}, "headers": admin},
        ),
    ]
    for method, template, url, kwargs in calls:
        _check(document, template, method, client.request(method.upper(), url, **kwargs))
