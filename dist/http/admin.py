"""The admin routes (admin scope): the audit log, token management and app settings."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from dist.domain.enums import Scope
from dist.domain.render import render_app, render_audit_event, render_token
from dist.http import contract
from dist.http.context import answer, authorize, bearer_token, call, store
from dist.http.limits import read_json
from dist.http.openapi import WRITE_ERRORS, operation
from dist.services import apps, tokens
from dist.services.audit import list_events

ADMIN_READ_ERRORS = (401, 403, 404, 422)


@operation(
    "get",
    "The audit log, oldest first: the newest `limit` events, optionally of one app.",
    {200: contract.AuditLog},
    errors=ADMIN_READ_ERRORS,
    query=contract.AuditQuery,
    scope=Scope.ADMIN,
)
async def audit(request: Request) -> Response:
    await authorize(request, Scope.ADMIN)
    query = contract.decode_query(contract.AuditQuery, dict(request.query_params))
    events = await call(request, list_events, app=contract.given(query.app), limit=contract.given(query.limit))
    return answer({"events": [render_audit_event(e) for e in events]})


@operation(
    "get",
    "Every token, oldest first; secrets are never listed.",
    {200: contract.TokenList},
    errors=ADMIN_READ_ERRORS,
    scope=Scope.ADMIN,
)
async def list_tokens(request: Request) -> Response:
    await authorize(request, Scope.ADMIN)
    found = await call(request, tokens.list_tokens)
    now = store(request).clock()
    return answer({"tokens": [render_token(t, now) for t in found]})


@operation(
    "post",
    "Create a token; the answer carries its secret, this once.",
    {201: contract.NewToken},
    errors=WRITE_ERRORS,
    body=contract.TokenRequest,
    scope=Scope.ADMIN,
)
async def create_token(request: Request) -> Response:
    document = await read_json(request)
    actor = await authorize(request, Scope.ADMIN)
    body = contract.decode_body(contract.TokenRequest, document)
    token, secret = await call(
        request,
        tokens.create_token,
        name=body.name,
        scopes=[s.value for s in body.scopes],
        app=contract.given(body.app),
        channel=contract.given(body.channel),
        expires_at=contract.given(body.expires_at),
        actor=actor,
    )
    return answer({**render_token(token, store(request).clock()), "secret": secret}, status=201)


async def tokens_route(request: Request) -> Response:
    # One route for both methods, so that a 405 on this path lists them both in Allow.
    if request.method == "POST":
        return await create_token(request)
    return await list_tokens(request)


tokens_route.operations = {**list_tokens.operations, **create_token.operations}  # type: ignore[attr-defined]


@operation(
    "get",
    "The token that sent this request (a way to check one: `dist login` does). Any token that may publish.",
    {200: contract.Token},
    errors=(401, 403),
    scope=Scope.PUBLISH,
)
async def current_token(request: Request) -> Response:
    token = await bearer_token(request, Scope.PUBLISH)
    return answer(render_token(token, store(request).clock()))


@operation(
    "post",
    "Revoke a token: it is refused from now on.",
    {200: contract.Token},
    errors=WRITE_ERRORS,
    body=contract.EmptyRequest,
    body_required=False,
    scope=Scope.ADMIN,
)
async def revoke_token(request: Request) -> Response:
    document = await read_json(request, optional=True)
    actor = await authorize(request, Scope.ADMIN)
    contract.decode_body(contract.EmptyRequest, document)
    token_id = contract.decode_query(contract.TokenPath, dict(request.path_params)).id
    token = await call(request, tokens.revoke_token, token_id=token_id, actor=actor)
    return answer(render_token(token, store(request).clock()))


@operation(
    "patch",
    "Change an app's settings; fields left out keep their value.",
    {200: contract.App},
    errors=WRITE_ERRORS,
    body=contract.AppPatch,
    scope=Scope.ADMIN,
)
async def update_app(request: Request) -> Response:
    slug = request.path_params["slug"]
    document = await read_json(request)
    actor = await authorize(request, Scope.ADMIN, app=slug)
    body = contract.decode_body(contract.AppPatch, document)
    app = await call(request, apps.update_app, slug=slug, name=contract.given(body.name), actor=actor)
    return answer(render_app(app))
