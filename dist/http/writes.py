"""The routes that change the store, each behind a bearer token: upload, publish, promote, rollback, yank."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dist.domain.enums import Scope
from dist.domain.errors import Invalid
from dist.domain.render import render_channel, render_release
from dist.domain.values import DEFAULT_CONTENT_TYPE, DEFAULT_PLATFORM, parse_sha256
from dist.http.bodies import ReadAhead
from dist.http.context import authorize, call, max_upload
from dist.http.limits import body_chunks, declared_length, read_json
from dist.services import blobs, channels, releases
from dist.services.releases import ArtifactSpec

JSON_KINDS: dict[type, str] = {str: "string", list: "array", dict: "object"}


def _field(body: dict[str, Any], name: str, kind: type, *, required: bool = False) -> Any:
    if name not in body:
        if required:
            raise Invalid("request.missing_field", f"the body needs {name!r}")
        return None
    value = body[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise Invalid("request.invalid_field", f"{name!r} must be a JSON {JSON_KINDS[kind]}")
    return value


def _only(body: dict[str, Any], *allowed: str) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise Invalid("request.unknown_field", f"unknown field(s) {', '.join(map(repr, unknown))}")


async def upload(request: Request) -> Response:
    """Stream the body into the store through the upload service: hashed on the way, kept once whole and checked."""
    length = declared_length(request, max_upload(request))
    await authorize(request, Scope.PUBLISH)
    expected = request.headers.get("x-content-sha256")
    if expected is not None:
        expected = parse_sha256(expected.strip().lower())
    async with ReadAhead(body_chunks(request, length)) as body:
        blob, created = await call(request, blobs.upload, body.in_thread(), max_size=length, expected_sha256=expected)
    return JSONResponse({"sha256": blob.sha256, "size": blob.size}, status_code=201 if created else 200)


def _artifact_specs(body: dict[str, Any]) -> list[ArtifactSpec]:
    specs = []
    for item in _field(body, "artifacts", list, required=True):
        if not isinstance(item, dict):
            raise Invalid("request.invalid_field", "each artifact must be a JSON object")
        _only(item, "filename", "sha256", "platform", "content_type", "signatures")
        signatures = _field(item, "signatures", dict) or {}
        _only(signatures, "minisign", "ed25519")
        specs.append(
            ArtifactSpec(
                filename=_field(item, "filename", str, required=True),
                sha256=_field(item, "sha256", str, required=True),
                platform=_field(item, "platform", str) or DEFAULT_PLATFORM,
                content_type=_field(item, "content_type", str) or DEFAULT_CONTENT_TYPE,
                minisign_signature=_field(signatures, "minisign", str),
                ed25519_signature=_field(signatures, "ed25519", str),
            )
        )
    return specs


async def publish(request: Request) -> Response:
    slug = request.path_params["slug"]
    body = await read_json(request)
    # The token's channel limit is checked against the channel the release goes onto, if any.
    named = body.get("channel")
    channel = named if isinstance(named, str) else ""
    actor = await authorize(request, Scope.PUBLISH, app=slug, channel=channel)
    _only(body, "version", "notes", "channel", "artifacts")
    release = await call(
        request,
        releases.publish,
        app=slug,
        version=_field(body, "version", str, required=True),
        notes=_field(body, "notes", str) or "",
        channel=_field(body, "channel", str),
        artifacts=_artifact_specs(body),
        actor=actor,
    )
    return JSONResponse(render_release(release), status_code=201)


async def promote(request: Request) -> Response:
    slug, name = request.path_params["slug"], request.path_params["name"]
    body = await read_json(request)
    actor = await authorize(request, Scope.PUBLISH, app=slug, channel=name)
    _only(body, "version", "from")
    channel = await call(
        request,
        channels.promote,
        app=slug,
        channel=name,
        version=_field(body, "version", str),
        from_channel=_field(body, "from", str),
        actor=actor,
    )
    return JSONResponse(render_channel(channel))


async def rollback(request: Request) -> Response:
    slug, name = request.path_params["slug"], request.path_params["name"]
    body = await read_json(request, optional=True)
    actor = await authorize(request, Scope.PUBLISH, app=slug, channel=name)
    _only(body, "to")
    channel = await call(request, channels.rollback, app=slug, channel=name, to=_field(body, "to", str), actor=actor)
    return JSONResponse(render_channel(channel))


async def yank(request: Request) -> Response:
    slug, version = request.path_params["slug"], request.path_params["version"]
    body = await read_json(request, optional=True)
    actor = await authorize(request, Scope.ADMIN, app=slug)
    _only(body)
    release = await call(request, releases.yank, app=slug, version=version, actor=actor)
    return JSONResponse(render_release(release))
