"""Webhook management over HTTP (admin scope): register, list, delete, and see or repeat deliveries."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dist.domain.enums import Scope
from dist.domain.errors import Invalid
from dist.domain.render import render_delivery, render_webhook
from dist.http.context import authorize, call
from dist.http.limits import read_json
from dist.http.writes import _field, _only
from dist.services import webhooks as service

TRUE_WORDS = ("1", "true", "yes")
# Webhooks reach across apps (an endpoint of every app, the deliveries of all): managing them takes an admin
# token that is not limited to one app, except for creating a webhook of the token's own app.
EVERY_APP = "*"


async def webhooks(request: Request) -> Response:
    # One route for both methods, so that a 405 on this path lists them both in Allow.
    if request.method == "POST":
        return await create(request)
    await authorize(request, Scope.ADMIN, app=EVERY_APP)
    found = await call(request, service.list_webhooks)
    return JSONResponse({"webhooks": [render_webhook(w) for w in found]})


async def create(request: Request) -> Response:
    body = await read_json(request)
    app = body.get("app")
    actor = await authorize(request, Scope.ADMIN, app=app if isinstance(app, str) and app else EVERY_APP)
    _only(body, "url", "events", "app")
    events = _field(body, "events", list) or []
    if not all(isinstance(event, str) for event in events):
        raise Invalid("request.invalid_field", "'events' must be a JSON array of strings")
    webhook, secret = await call(
        request,
        service.create_webhook,
        url=_field(body, "url", str, required=True),
        events=events,
        app=_field(body, "app", str),
        actor=actor,
    )
    return JSONResponse({**render_webhook(webhook), "secret": secret}, status_code=201)


async def delete(request: Request) -> Response:
    actor = await authorize(request, Scope.ADMIN, app=EVERY_APP)
    webhook = await call(request, service.delete_webhook, webhook_id=_id(request), actor=actor)
    return JSONResponse(render_webhook(webhook))


async def list_deliveries(request: Request) -> Response:
    await authorize(request, Scope.ADMIN, app=EVERY_APP)
    query = request.query_params
    found = await call(
        request,
        service.list_deliveries,
        failed_only=query.get("failed", "").lower() in TRUE_WORDS,
        webhook_id=_number(query.get("webhook"), "webhook"),
        limit=_number(query.get("limit"), "limit"),
    )
    return JSONResponse({"deliveries": [render_delivery(d) for d in found]})


async def redeliver(request: Request) -> Response:
    body = await read_json(request, optional=True)
    actor = await authorize(request, Scope.ADMIN, app=EVERY_APP)
    _only(body)
    delivery = await call(request, service.redeliver, delivery_id=_id(request), actor=actor)
    return JSONResponse(render_delivery(delivery))


def _number(text: str | None, name: str) -> int | None:
    if text is None:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        raise Invalid(f"webhook.invalid_{name}", f"{name} must be a whole number")
    return int(text)


def _id(request: Request) -> int:
    """The {id} of the path; one that is not a number names nothing (the service answers not found)."""
    text: str = request.path_params["id"]
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else 0
