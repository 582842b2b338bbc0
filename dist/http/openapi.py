"""The OpenAPI 3.1 document of distd, served at /api/openapi.json, generated from the routes and the contract.

Each handler carries its `Operation` (the `operation` decorator): summary, scope, request body, query and
answers, all as contract types (dist/http/contract.py); their JSON Schemas (2020-12, which OpenAPI 3.1 uses)
come from msgspec. The document is fuzzed against the live server, so every status a route can answer is
listed.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec
from starlette.routing import BaseRoute, Route

from dist.domain.enums import Scope
from dist.http import contract

JSON = "application/json"
Schema = dict[str, Any]
F = TypeVar("F", bound=Callable[..., Any])

# The schema of each path parameter, by its name in the route's path.
PATH_PARAMETERS: dict[str, Any] = {
    "slug": contract.Slug,
    "version": contract.VersionText,
    "name": contract.ChannelName,
    "filename": contract.Filename,
    "sha256": contract.Sha256,
    "id": contract.TokenId,
    "channel": contract.ChannelName,
    "platform": contract.Platform,
    "file": contract.ElectronChannelFile,
    "target": contract.PlatformHalf,
    "arch": contract.PlatformHalf,
    "current_version": contract.VersionText,
}

ERRORS = {
    400: "The request is malformed (e.g. the body is not JSON).",
    401: "No token, or not a dist token, or a token this server never issued.",
    403: "The token may not do this: revoked, expired, missing scope, other app or channel.",
    404: "No such app, release, channel, token, file or blob.",
    409: "The operation conflicts with the store's state.",
    411: "The body has no Content-Length.",
    412: "If-Match names another version than the channel serves: nothing changed.",
    413: "The body is over the limit.",
    416: "The range lies outside the blob.",
    422: "A value is invalid; `field` names it.",
}
OPENAPI_ANSWER = {"responses": {"200": {"description": "Success.", "content": {JSON: {"schema": {"type": "object"}}}}}}
READ_ERRORS = (404, 422)
WRITE_ERRORS = (400, 401, 403, 404, 409, 411, 413, 422)


@dataclass(frozen=True)
class Header:
    """A request header a route reads, with the contract type of its value."""

    name: str
    kind: Any
    description: str


@dataclass(frozen=True)
class Operation:
    """What one method of a route takes and answers, for the document."""

    method: str
    summary: str
    answers: dict[int, type | None]
    errors: Sequence[int] = READ_ERRORS
    body: type | None = None
    body_required: bool = True
    query: type | None = None
    scope: Scope | None = None
    headers: Sequence[Header] = ()
    # Parts of the operation object that are not JSON bodies (uploads and downloads), merged in as they are.
    extra: dict[str, Any] = field(default_factory=dict)


def operation(method: str, summary: str, answers: dict[int, type | None], **details: Any) -> Callable[[F], F]:
    """Declare what a handler takes and answers; `answers` maps statuses to contract types (None: no body)."""

    def declare(handler: F) -> F:
        declared: dict[str, Operation] = dict(getattr(handler, "operations", {}))
        declared[method] = Operation(method, summary, answers, **details)
        handler.operations = declared  # type: ignore[attr-defined]
        return handler

    return declare


def operations_of(route: BaseRoute) -> dict[str, Operation]:
    found: dict[str, Operation] = getattr(getattr(route, "endpoint", None), "operations", {})
    return found


class _Document:
    """Builds the document, collecting every contract type it names into components/schemas."""

    def __init__(self) -> None:
        self.types: list[Any] = []

    def ref(self, kind: Any) -> Schema:
        self.types.append(kind)
        return {"$ref": f"#/components/schemas/{kind.__name__}"}

    def json(self, kind: Any) -> Schema:
        return {JSON: {"schema": self.ref(kind)}}

    def answers(self, op: Operation) -> Schema:
        shown: Schema = {}
        for status, kind in op.answers.items():
            shown[str(status)] = {"description": _describe(status)}
            if kind is not None:
                shown[str(status)]["content"] = self.json(kind)
        for status in op.errors:
            shown[str(status)] = {"description": ERRORS[status], "content": self.json(contract.Error)}
        shown["default"] = {
            "description": "Any other refusal (429, 431, 503, ...).",
            "content": self.json(contract.Error),
        }
        return shown

    def operation(self, path_names: list[str], op: Operation) -> Schema:
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": _inline(PATH_PARAMETERS[name])}
            for name in path_names
        ]
        if op.query is not None:
            parameters += _query_parameters(op.query)
        parameters += [
            {"name": h.name, "in": "header", "required": False, "description": h.description, "schema": _inline(h.kind)}
            for h in op.headers
        ]
        built: Schema = {"summary": op.summary, "parameters": parameters, "responses": self.answers(op)}
        if op.scope is not None:
            built["summary"] += f" Needs a token with the {op.scope.value} scope."
            built["security"] = [{"bearer": []}]
            if 401 not in op.errors:
                raise ValueError(f"{op.summary!r} needs a token but does not list 401")
        if op.body is not None:
            built["requestBody"] = {"required": op.body_required, "content": self.json(op.body)}
        extra = copy.deepcopy(op.extra)
        # Answers given as they are (binary ones) come first and win over the generated ones.
        given = extra.pop("responses", {})
        built["responses"] = {**given, **built["responses"], **given}
        return {**built, **extra}

    def components(self) -> dict[str, Schema]:
        _, schemas = msgspec.json.schema_components(self.types, ref_template="#/components/schemas/{name}")
        for schema in schemas.values():
            if isinstance(schema, dict) and schema.get("type") == "object":
                schema.pop("title", None)
                # The server sends exactly these fields (a client may tolerate more, the document is exact).
                schema["additionalProperties"] = False
        # A promote names its release one way: by version or from another channel.
        schemas["PromoteRequest"]["oneOf"] = [{"required": ["version"]}, {"required": ["from"]}]
        # A rollout is a percent, or a ramp with its interval; a rollout change is a percent or an action.
        schemas["RolloutSpec"]["oneOf"] = [
            {"required": ["percent"], "properties": {"ramp": False, "every": False}},
            {"required": ["ramp", "every"], "properties": {"percent": False}},
        ]
        schemas["RolloutRequest"]["oneOf"] = [
            {"required": ["percent"], "properties": {"action": False}},
            {"required": ["action"], "properties": {"percent": False}},
        ]
        return dict(sorted(schemas.items()))


def _describe(status: int) -> str:
    return {201: "Created.", 204: "Nothing to send."}.get(status, "Success.")


def _inline(kind: Any) -> Schema:
    schema: Schema = msgspec.json.schema(kind)
    return schema


def _query_parameters(kind: Any) -> list[Schema]:
    schema = _inline(kind)
    found = schema["$defs"][kind.__name__]
    parameters = []
    for name, prop in found["properties"].items():
        schema = {k: v for k, v in prop.items() if k not in ("title", "description")}
        parameter = {"name": name, "in": "query", "required": False, "schema": schema}
        if "description" in prop:
            parameter["description"] = prop["description"]
        parameters.append(parameter)
    return parameters


def openapi_document(routes: Sequence[BaseRoute], max_upload: int) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `routes`, with the upload cap this server was started with."""
    document = _Document()
    paths: dict[str, Any] = {}
    for route in routes:
        if not isinstance(route, Route):
            continue
        names = list(route.param_convertors)
        shown: Schema = {}
        for method, op in operations_of(route).items():
            built = document.operation(names, op)
            shown[method] = built
            if method == "get":
                # Every GET route answers HEAD with the same headers and no body.
                head_answers = {s: {"description": r["description"]} for s, r in built["responses"].items()}
                shown["head"] = {**built, "summary": f"{op.summary} (headers only)", "responses": head_answers}
        paths[route.path] = shown
    upload = paths.get("/api/upload", {}).get("post")
    if upload is not None:
        upload["summary"] = upload["summary"].replace("{max_upload}", str(max_upload))
        upload["requestBody"]["content"]["application/octet-stream"]["schema"]["maxLength"] = max_upload
    return {
        "openapi": "3.1.0",
        "info": {"title": "dist", "version": "1", "description": "Publish, promote and serve releases of your apps."},
        "paths": paths,
        "components": {
            "schemas": document.components(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
