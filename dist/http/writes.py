"""The routes that change the store, each behind a bearer token: upload, publish, promote, rollback, yank."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from dist.domain.entities import KeptAnswer, Release
from dist.domain.enums import Scope
from dist.domain.errors import Invalid
from dist.domain.render import render_channel, render_release
from dist.domain.rollouts import RolloutAction, parse_expect
from dist.domain.values import parse_sha256
from dist.http import contract
from dist.http.bodies import ReadAhead
from dist.http.context import answer, authorize, call, max_upload, store
from dist.http.digests import DigestFiller
from dist.http.limits import body_chunks, declared_length, read_json, read_json_bytes
from dist.http.openapi import WRITE_ERRORS, Header, operation
from dist.services import blobs, channels, releases, rollouts
from dist.services.idempotency import request_key
from dist.services.releases import ArtifactSpec


@operation(
    "post",
    "Upload a blob (the raw body, at most {max_upload} bytes); X-Content-SHA256 is checked when given.",
    {201: contract.StoredBlob, 200: contract.StoredBlob},
    errors=WRITE_ERRORS,
    scope=Scope.PUBLISH,
    extra={
        # An empty body is an upload too (of the empty blob).
        "requestBody": {
            "required": False,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def upload(request: Request) -> Response:
    """Stream the body into the store through the upload service: hashed on the way, kept once whole and checked."""
    length = declared_length(request, max_upload(request))
    await authorize(request, Scope.PUBLISH)
    expected = request.headers.get("x-content-sha256")
    if expected is not None:
        expected = parse_sha256(expected.strip().lower())
    filler: DigestFiller = request.state.digests
    # A client that names the digest has hashed the file and is about to publish it: all three digests are computed
    # on the way, beside the receiving, rather than after it while the publish waits. Others get their answer
    # once SHA-256 is checked, and the rest follows.
    async with ReadAhead(body_chunks(request, length)) as body:
        blob, created = await call(
            request,
            blobs.upload,
            body.in_thread(),
            max_size=length,
            expected_sha256=expected,
            digests_later=filler.later and expected is None,
        )
    if blob.sha512 is None or blob.sha1 is None:
        filler.add(blob.sha256)
    return answer({"sha256": blob.sha256, "size": blob.size}, status=201 if created else 200)


def _artifact_specs(body: contract.PublishRequest) -> list[ArtifactSpec]:
    return [
        ArtifactSpec(
            a.filename,
            a.sha256,
            a.platform,
            a.content_type,
            minisign_signature=contract.given(a.signatures.minisign),
            ed25519_signature=contract.given(a.signatures.ed25519),
        )
        for a in body.artifacts
    ]


@operation(
    "post",
    "Publish a release over uploaded blobs, optionally onto a channel.",
    {201: contract.Release},
    errors=WRITE_ERRORS,
    body=contract.PublishRequest,
    scope=Scope.PUBLISH,
    headers=[
        Header(
            "Idempotency-Key",
            contract.IdempotencyKey,
            "Makes a retry safe: for 24 hours, a repeat of this request with the same key (and token) gets the "
            "first answer again and publishes nothing; the same key with another request is 422 "
            "idempotency.mismatch.",
        )
    ],
)
async def publish(request: Request) -> Response:
    slug = request.path_params["slug"]
    data = await read_json_bytes(request)
    document = contract.parse_json(data)
    # The token's channel limit is checked against the channel the release goes onto, if any.
    named = document.get("channel") if isinstance(document, dict) else None
    actor = await authorize(request, Scope.PUBLISH, app=slug, channel=named if isinstance(named, str) else "")
    given_key = request.headers.get("idempotency-key")
    key = None
    if given_key is not None:
        key = request_key(actor=actor, key=given_key, method=request.method, path=request.url.path, body=data)
    body = contract.decode_body(contract.PublishRequest, document)
    publishing = {
        "app": slug,
        "version": body.version,
        "notes": body.notes,
        "channel": contract.given(body.channel),
        "artifacts": _artifact_specs(body),
        "actor": actor,
    }
    if key is None:
        release = await call(request, releases.publish, **publishing)
        return answer(render_release(release), status=201)
    kept = await call(request, releases.publish_once, key=key, respond=_created, **publishing)
    return Response(kept.body, status_code=kept.status, media_type="application/json")


def _created(release: Release) -> KeptAnswer:
    return KeptAnswer(201, contract.encode(render_release(release)))


CHANNEL_WRITE_ERRORS = (*WRITE_ERRORS, 412)
IF_MATCH = Header(
    "If-Match",
    str,
    'The version the channel must serve for the change to happen ("1.2.0", or "none" for an empty channel): '
    "its ETag. Otherwise 412 channel.precondition_failed and nothing changes.",
)


def expected(request: Request) -> str | None:
    return parse_expect(request.headers.get("if-match"))


def _whole(value: object) -> object:
    """JSON's 10.0 is the integer 10 (as JSON Schema reads it): percents are read so."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_whole(item) for item in value]
    return value


def _whole_percents(document: object) -> None:
    if isinstance(document, dict):
        for name in ("percent", "ramp"):
            if name in document:
                document[name] = _whole(document[name])


@operation(
    "post",
    "Point a channel at a release, by version or from another channel; `rollout` stages it for a share of clients.",
    {200: contract.Channel},
    errors=CHANNEL_WRITE_ERRORS,
    body=contract.PromoteRequest,
    scope=Scope.PUBLISH,
    headers=[IF_MATCH],
)
async def promote(request: Request) -> Response:
    slug, name = request.path_params["slug"], request.path_params["name"]
    document = await read_json(request)
    actor = await authorize(request, Scope.PUBLISH, app=slug, channel=name)
    if isinstance(document, dict):
        _whole_percents(document.get("rollout"))
    body = contract.decode_body(contract.PromoteRequest, document)
    staged = contract.given(body.rollout)
    channel = await call(
        request,
        channels.promote,
        app=slug,
        channel=name,
        version=contract.given(body.version),
        from_channel=contract.given(body.from_),
        actor=actor,
        expect=expected(request),
        rollout_percent=contract.given(staged.percent) if staged is not None else None,
        ramp=contract.given(staged.ramp) if staged is not None else None,
        every=contract.given(staged.every) if staged is not None else None,
    )
    return answer(render_channel(channel, store(request).clock()))


@operation(
    "post",
    'Change a channel\'s rollout: `{"percent": P}` sets a fixed share, `{"action": "halt"}` freezes it, '
    "`resume` lets its schedule continue, `complete` gives the release to every client.",
    {200: contract.Channel},
    errors=CHANNEL_WRITE_ERRORS,
    body=contract.RolloutRequest,
    scope=Scope.PUBLISH,
    headers=[IF_MATCH],
)
async def rollout(request: Request) -> Response:
    slug, name = request.path_params["slug"], request.path_params["name"]
    document = await read_json(request)
    actor = await authorize(request, Scope.PUBLISH, app=slug, channel=name)
    _whole_percents(document)
    body = contract.decode_body(contract.RolloutRequest, document)
    percent, action = contract.given(body.percent), contract.given(body.action)
    if (percent is None) == (action is None):
        raise Invalid("rollout.invalid_arguments", 'give a "percent" or an "action" (halt, resume or complete)')
    channel = await call(
        request,
        rollouts.change,
        app=slug,
        channel=name,
        action=RolloutAction.SET if percent is not None else action,
        percent=percent,
        actor=actor,
        expect=expected(request),
    )
    return answer(render_channel(channel, store(request).clock()))


@operation(
    "post",
    "Move a channel back down its promote stack.",
    {200: contract.Channel},
    errors=CHANNEL_WRITE_ERRORS,
    body=contract.RollbackRequest,
    body_required=False,
    scope=Scope.PUBLISH,
    headers=[IF_MATCH],
)
async def rollback(request: Request) -> Response:
    slug, name = request.path_params["slug"], request.path_params["name"]
    document = await read_json(request, optional=True)
    actor = await authorize(request, Scope.PUBLISH, app=slug, channel=name)
    body = contract.decode_body(contract.RollbackRequest, document)
    channel = await call(
        request,
        channels.rollback,
        app=slug,
        channel=name,
        to=contract.given(body.to),
        actor=actor,
        expect=expected(request),
    )
    return answer(render_channel(channel, store(request).clock()))


@operation(
    "post",
    "Yank a release: never served by a channel again.",
    {200: contract.Release},
    errors=WRITE_ERRORS,
    body=contract.EmptyRequest,
    body_required=False,
    scope=Scope.ADMIN,
)
async def yank(request: Request) -> Response:
    slug, version = request.path_params["slug"], request.path_params["version"]
    document = await read_json(request, optional=True)
    actor = await authorize(request, Scope.ADMIN, app=slug)
    contract.decode_body(contract.EmptyRequest, document)
    release = await call(request, releases.yank, app=slug, version=version, actor=actor)
    return answer(render_release(release))
