"""The OpenAPI 3 description of distd, served at /api/openapi.json. It is fuzzed against the live server, so
every pattern here is the domain's own rule and every status a route can answer is listed."""

from __future__ import annotations

from typing import Any

from dist.domain.enums import AuditAction, DeliveryState
from dist.domain.values import (
    CHANNEL_RE,
    MAX_CONTENT_TYPE_LENGTH,
    MAX_FILENAME_LENGTH,
    MAX_PLATFORM_LENGTH,
    MAX_VERSION_LENGTH,
    PLATFORM_RE,
    SEMVER_RE,
    SHA256_RE,
    SLUG_RE,
)
from dist.domain.webhooks import ALL_EVENTS, MAX_URL_LENGTH
from dist.services.releases import MAX_ARTIFACTS, MAX_NOTES_LENGTH, MAX_PAGE
from dist.services.webhooks import MAX_DELIVERIES_LIMIT

JSON = "application/json"
Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _anchored(pattern: str) -> str:
    return f"^{pattern}$"


def _object(properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    names = list(properties) if required is None else required
    # OpenAPI 3.0 wants `required` absent rather than empty.
    if names:
        schema["required"] = names
    return schema


STRING: Schema = {"type": "string"}
TIMESTAMP: Schema = {"type": "string", "format": "date-time"}
SLUG: Schema = {"type": "string", "pattern": _anchored(SLUG_RE.pattern), "maxLength": 64}
CHANNEL: Schema = {"type": "string", "pattern": _anchored(CHANNEL_RE.pattern), "maxLength": 32}
VERSION: Schema = {"type": "string", "pattern": _anchored(SEMVER_RE.pattern), "maxLength": MAX_VERSION_LENGTH}
PLATFORM: Schema = {"type": "string", "pattern": _anchored(PLATFORM_RE.pattern), "maxLength": MAX_PLATFORM_LENGTH}
SHA256: Schema = {"type": "string", "pattern": _anchored(SHA256_RE.pattern)}
FILENAME: Schema = {
    "type": "string",
    "pattern": r"^(?!\.\.?$)(?!.*%(2[5EeFf]|5[Cc]|[01][0-9A-Fa-f]|7[Ff]))[^/\\\x00-\x1f\x7f]+$",
    "minLength": 1,
    "maxLength": MAX_FILENAME_LENGTH,
}
# A cursor is a release id: 1 to MAX_ID (2**31 - 1), leading zeros allowed; empty means the first page.
CURSOR_PATTERN = (
    r"^(|0*([1-9][0-9]{0,8}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}|2147[0-3][0-9]{5}"
    r"|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}|21474836[0-3][0-9]|214748364[0-7]))$"
)
CONTENT_TYPE: Schema = {"type": "string", "pattern": r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+$"}

SCHEMAS: dict[str, Schema] = {
    "Error": _object({"error": _object({"code": STRING, "message": STRING})}),
    "Health": _object({"status": {"type": "string", "enum": ["ok"]}}),
    "App": _object({"slug": STRING, "name": STRING, "created_at": TIMESTAMP}),
    "AppWithChannels": _object(
        {
            "slug": STRING,
            "name": STRING,
            "created_at": TIMESTAMP,
            "channels": {"type": "array", "items": _ref("Channel")},
        }
    ),
    "AppList": _object({"apps": {"type": "array", "items": _ref("App")}}),
    "Artifact": _object(
        {
            "filename": STRING,
            "platform": STRING,
            "sha256": STRING,
            "size": {"type": "integer", "minimum": 0},
            "content_type": STRING,
            "url": STRING,
        }
    ),
    "Release": _object(
        {
            "app": STRING,
            "version": STRING,
            "notes": STRING,
            "status": {"type": "string", "enum": ["published", "yanked"]},
            "created_at": TIMESTAMP,
            "created_by": STRING,
            "artifacts": {"type": "array", "items": _ref("Artifact")},
        }
    ),
    "ReleaseList": _object(
        {"releases": {"type": "array", "items": _ref("Release")}, "next_cursor": {"type": "string", "nullable": True}}
    ),
    "Channel": _object(
        {"app": STRING, "name": STRING, "release": {"type": "string", "nullable": True}, "updated_at": TIMESTAMP}
    ),
    "ChannelWithRelease": _object(
        {
            "app": STRING,
            "name": STRING,
            "release": {"type": "string", "nullable": True},
            "updated_at": TIMESTAMP,
            "current_release": {"allOf": [_ref("Release")], "nullable": True},
        }
    ),
    "ChannelList": _object({"channels": {"type": "array", "items": _ref("Channel")}}),
    "ChannelEvent": _object(
        {
            "kind": {"type": "string", "enum": ["promote", "rollback"]},
            "version": STRING,
            "actor": STRING,
            "at": TIMESTAMP,
        }
    ),
    "ChannelHistory": _object({"events": {"type": "array", "items": _ref("ChannelEvent")}}),
    "UpdateCheck": _object({"release": _ref("Release"), "artifact": _ref("Artifact")}),
    "StoredBlob": _object({"sha256": STRING, "size": {"type": "integer", "minimum": 0}}),
    "PublishRequest": _object(
        {
            "version": VERSION,
            "notes": {"type": "string", "maxLength": MAX_NOTES_LENGTH},
            "channel": CHANNEL,
            "artifacts": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_ARTIFACTS,
                "items": _object(
                    {
                        "filename": FILENAME,
                        "sha256": SHA256,
                        "platform": PLATFORM,
                        "content_type": {**CONTENT_TYPE, "maxLength": MAX_CONTENT_TYPE_LENGTH},
                    },
                    required=["filename", "sha256"],
                ),
            },
        },
        required=["version", "artifacts"],
    ),
    "PromoteRequest": {
        "oneOf": [_object({"version": VERSION}), _object({"from": CHANNEL})],
    },
    "RollbackRequest": _object({"to": VERSION}, required=[]),
    "YankRequest": _object({}, required=[]),
    "Webhook": _object(
        {
            "id": {"type": "integer"},
            "url": STRING,
            "events": {"type": "array", "items": STRING},
            "app": {"type": "string", "nullable": True},
            "created_at": TIMESTAMP,
        }
    ),
    "WebhookWithSecret": _object(
        {
            "id": {"type": "integer"},
            "url": STRING,
            "events": {"type": "array", "items": STRING},
            "app": {"type": "string", "nullable": True},
            "created_at": TIMESTAMP,
            "secret": STRING,
        }
    ),
    "WebhookList": _object({"webhooks": {"type": "array", "items": _ref("Webhook")}}),
    "WebhookRequest": _object(
        {
            "url": {"type": "string", "minLength": 1, "maxLength": MAX_URL_LENGTH},
            "events": {"type": "array", "items": {"type": "string", "enum": [ALL_EVENTS, *AuditAction]}},
            "app": SLUG,
        },
        required=["url"],
    ),
    "Delivery": _object(
        {
            "id": {"type": "integer"},
            "webhook": {"type": "integer"},
            "event": {"type": "integer"},
            "action": STRING,
            "message_id": STRING,
            "state": {"type": "string", "enum": list(DeliveryState)},
            "attempts": {"type": "integer", "minimum": 0},
            "next_attempt_at": {**TIMESTAMP, "nullable": True},
            "last_attempt_at": {**TIMESTAMP, "nullable": True},
            "last_status": {"type": "integer", "nullable": True},
            "last_error": {"type": "string", "nullable": True},
            "created_at": TIMESTAMP,
            "delivered_at": {**TIMESTAMP, "nullable": True},
        }
    ),
    "DeliveryList": _object({"deliveries": {"type": "array", "items": _ref("Delivery")}}),
}

ERRORS = {
    "400": "The request is malformed (e.g. the body is not JSON).",
    "401": "No token, or not a dist token, or a token this server never issued.",
    "403": "The token may not do this: revoked, expired, missing scope, other app or channel.",
    "404": "No such app, release, channel, file or blob.",
    "409": "The operation conflicts with the store's state.",
    "411": "The body has no Content-Length.",
    "413": "The body is over the limit.",
    "422": "A value is invalid.",
}


def _errors(*statuses: str) -> dict[str, Any]:
    shown = {
        status: {"description": ERRORS[status], "content": {JSON: {"schema": _ref("Error")}}} for status in statuses
    }
    shown["default"] = {
        "description": "Any other refusal (431, 503, ...).",
        "content": {JSON: {"schema": _ref("Error")}},
    }
    return shown


def _ok(schema: str, status: str = "200", description: str = "Success.") -> dict[str, Any]:
    return {status: {"description": description, "content": {JSON: {"schema": _ref(schema)}}}}


def _path(name: str, schema: Schema) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _header(name: str, description: str, schema: Schema | None = None) -> Schema:
    return {"name": name, "in": "header", "required": False, "schema": schema or STRING, "description": description}


def _get(summary: str, responses: dict[str, Any], parameters: list[Schema] | None = None) -> dict[str, Any]:
    get = {"summary": summary, "parameters": parameters or [], "responses": responses}
    # Every GET route answers HEAD with the same headers and no body.
    head_responses = {status: {"description": r["description"]} for status, r in responses.items()}
    return {"get": get, "head": {**get, "summary": f"{summary} (headers only)", "responses": head_responses}}


def _post(summary: str, scope: str, body: str | None, responses: dict[str, Any], parameters: list[Schema]) -> Schema:
    operation: Schema = {
        "summary": f"{summary} Needs a token with the {scope} scope.",
        "security": [{"bearer": []}],
        "parameters": parameters,
        "responses": responses,
    }
    if body is not None:
        optional = body in ("RollbackRequest", "YankRequest")
        operation["requestBody"] = {"required": not optional, "content": {JSON: {"schema": _ref(body)}}}
    return {"post": operation}


def _admin(method: str, summary: str, responses: dict[str, Any], parameters: list[Schema]) -> Schema:
    operation: Schema = {
        "summary": f"{summary} Needs a token with the admin scope.",
        "security": [{"bearer": []}],
        "parameters": parameters,
        "responses": responses,
    }
    if method != "get":
        return {method: operation}
    head_responses = {status: {"description": r["description"]} for status, r in responses.items()}
    return {
        "get": operation,
        "head": {**operation, "summary": f"{summary} (headers only)", "responses": head_responses},
    }


def _webhook_paths() -> dict[str, Any]:
    identifier = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
    refused = _errors("400", "401", "403", "404", "409", "411", "413", "422")
    return {
        "/api/webhooks": {
            **_admin("get", "Every webhook, oldest first (never its secret).", {**_ok("WebhookList"), **refused}, []),
            **_post(
                "Register a webhook for some events (all by default), of one app or all; the answer carries its "
                "signing secret, shown this once.",
                "admin",
                "WebhookRequest",
                {**_ok("WebhookWithSecret", "201", "The webhook and its secret."), **refused},
                [],
            ),
        },
        "/api/webhooks/{id}": _admin(
            "delete",
            "Delete a webhook and its pending deliveries.",
            {**_ok("Webhook"), **refused},
            [_path("id", identifier)],
        ),
        "/api/webhooks/deliveries": _admin(
            "get",
            "The newest deliveries first.",
            {**_ok("DeliveryList"), **refused},
            [
                _query("failed", {"type": "string", "enum": ["true", "false"]}, "Only the given up ones."),
                _query("webhook", identifier, "Only this webhook's."),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_DELIVERIES_LIMIT}, "Default 100."),
            ],
        ),
        "/api/webhooks/deliveries/{id}/redeliver": _post(
            "Send a delivered or failed delivery again (same webhook-id and body).",
            "admin",
            "YankRequest",
            {**_ok("Delivery"), **refused},
            [_path("id", identifier)],
        ),
    }


def _download(summary: str, parameters: list[Schema]) -> dict[str, Any]:
    blob_headers = {
        "ETag": {"schema": STRING, "description": 'The strong ETag "<sha256>".'},
        "Cache-Control": {"schema": STRING},
    }
    responses = {
        "200": {
            "description": "The bytes.",
            "headers": blob_headers,
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        },
        "206": {
            "description": "One byte range.",
            "headers": blob_headers,
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        },
        "304": {"description": "If-None-Match matched: the client's copy is current."},
        "416": {"description": "The range lies outside the blob.", "content": {JSON: {"schema": _ref("Error")}}},
        **_errors("404", "422"),
    }
    # Range, If-Range and If-None-Match are HTTP's own headers, described here rather than as parameters.
    described = (
        f"{summary} Honours one byte range (Range: bytes=0-1023; several ranges get the whole blob), If-Range "
        "and If-None-Match against the strong ETag."
    )
    return _get(described, responses, parameters)


def openapi_document(max_upload: int) -> dict[str, Any]:
    """The OpenAPI 3.0 document of the API, with the upload cap this server was started with."""
    slug, version, name = _path("slug", SLUG), _path("version", VERSION), _path("name", CHANNEL)
    auth = _errors("400", "401", "403", "404", "409", "411", "413", "422")
    paths: dict[str, Any] = {
        "/healthz": _get("Whether the server and its database answer.", _ok("Health")),
        "/api/openapi.json": _get(
            "This document.",
            {"200": {"description": "OpenAPI 3.0.", "content": {JSON: {"schema": {"type": "object"}}}}},
        ),
        "/api/apps": _get("Every app, by slug.", _ok("AppList")),
        "/api/apps/{slug}": _get(
            "An app with its channels.", {**_ok("AppWithChannels"), **_errors("404", "422")}, [slug]
        ),
        "/api/apps/{slug}/releases": {
            **_get(
                "An app's releases, newest first, a page at a time (follow next_cursor or the Link header).",
                {**_ok("ReleaseList"), **_errors("404", "422")},
                [
                    slug,
                    _query(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                        "Releases per page (default 50).",
                    ),
                    _query(
                        "cursor",
                        {"type": "string", "pattern": CURSOR_PATTERN, "maxLength": 18},
                        "next_cursor of the previous page.",
                    ),
                ],
            ),
            **_post(
                "Publish a release over uploaded blobs, optionally onto a channel.",
                "publish",
                "PublishRequest",
                {**_ok("Release", "201", "The release."), **auth},
                [slug],
            ),
        },
        "/api/apps/{slug}/releases/{version}": _get(
            "A release with its artifacts (yanked ones too).",
            {**_ok("Release"), **_errors("404", "422")},
            [slug, version],
        ),
        "/api/apps/{slug}/releases/{version}/yank": _post(
            "Yank a release: never served by a channel again.",
            "admin",
            "YankRequest",
            {**_ok("Release"), **auth},
            [slug, version],
        ),
        "/api/apps/{slug}/releases/{version}/artifacts/{filename}": _download(
            "A release's file, as an attachment.", [slug, version, _path("filename", FILENAME)]
        ),
        "/api/apps/{slug}/channels": _get(
            "An app's channels, by name.", {**_ok("ChannelList"), **_errors("404", "422")}, [slug]
        ),
        "/api/apps/{slug}/channels/{name}": _get(
            "A channel with the release it serves.",
            {**_ok("ChannelWithRelease"), **_errors("404", "422")},
            [slug, name],
        ),
        "/api/apps/{slug}/channels/{name}/history": _get(
            "Every promote and rollback of a channel, oldest first.",
            {**_ok("ChannelHistory"), **_errors("404", "422")},
            [slug, name],
        ),
        "/api/apps/{slug}/channels/{name}/latest": _get(
            "The update check.",
            {
                **_ok("UpdateCheck", description="The channel serves a newer version: what to download."),
                "204": {"description": "The client's current version is up to date."},
                **_errors("404", "422"),
            },
            [
                slug,
                name,
                _query("platform", PLATFORM, "The client's platform (default any; falls back to any)."),
                _query("current", VERSION, "The version the client runs."),
            ],
        ),
        "/api/apps/{slug}/channels/{name}/promote": _post(
            "Point a channel at a release, by version or from another channel.",
            "publish",
            "PromoteRequest",
            {**_ok("Channel"), **auth},
            [slug, name],
        ),
        "/api/apps/{slug}/channels/{name}/rollback": _post(
            "Move a channel back down its promote stack.",
            "publish",
            "RollbackRequest",
            {**_ok("Channel"), **auth},
            [slug, name],
        ),
        "/api/objects/{sha256}": _download("A blob by its sha256.", [_path("sha256", SHA256)]),
        "/api/upload": _post(
            f"Upload a blob (the raw body, at most {max_upload} bytes); X-Content-SHA256 is checked when given.",
            "publish",
            None,
            {**_ok("StoredBlob", "201", "Stored."), **_ok("StoredBlob", "200", "The blob was already there."), **auth},
            [
                _header(
                    "X-Content-SHA256",
                    "The body's sha256; a mismatch is 422 and nothing is kept.",
                    {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
                )
            ],
        ),
    }
    paths.update(_webhook_paths())
    paths["/api/upload"]["post"]["requestBody"] = {
        "required": True,
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary", "maxLength": max_upload}}
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "dist", "version": "1", "description": "Publish, promote and serve releases of your apps."},
        "paths": paths,
        "components": {"schemas": SCHEMAS, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
