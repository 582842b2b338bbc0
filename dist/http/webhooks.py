"""Webhook management over HTTP (admin scope): register, list, delete, and see or repeat deliveries."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from dist.domain.enums import Scope
from dist.domain.render import render_delivery, render_webhook
from dist.http import contract
from dist.http.context import answer, authorize, call
from dist.http.limits import read_json
from dist.http.openapi import WRITE_ERRORS, operation
from dist.services import webhooks as service

ADMIN_READ_ERRORS = (401, 403, 404, 422)
# Webhooks reach across apps (an endpoint of every app, the deliveries of all): managing them takes an admin
# token that is not limited to one app, except for creating a webhook of the token's own app.
EVERY_APP = "*"


@operation(
    "get",
    "Every webhook, oldest first; signing secrets are never listed.",
    {200: contract.WebhookList},
    errors=ADMIN_READ_ERRORS,
    scope=Scope.ADMIN,
)
async def list_webhooks(request: Request) -> Response:
    await authorize(request, Scope.ADMIN, app=EVERY_APP)
    found = await call(request, service.list_webhooks)
    return answer({"webhooks": [render_webhook(w) for w in found]})


@operation(
    "post",
    "Register a webhook for some events (all by default), of one app or of all; the answer carries its signing "
    "secret, this once.",
    {201: contract.NewWebhook},
    errors=WRITE_ERRORS,
    body=contract.WebhookRequest,
    scope=Scope.ADMIN,
)
async def create(request: Request) -> Response:
    document = await read_json(request)
    app = document.get("app") if isinstance(document, dict) else None
    actor = await authorize(request, Scope.ADMIN, app=app if isinstance(app, str) and app else EVERY_APP)
    body = contract.decode_body(contract.WebhookRequest, document)
    webhook, secret = await call(
        request,
        service.create_webhook,
        url=body.url,
        events=contract.given(body.events),
        app=contract.given(body.app),
        actor=actor,
    )
    return answer({**render_webhook(webhook), "secret": secret}, status=201)


async def webhooks(request: Request) -> Response:
    # One route for both methods, so that a 405 on this path lists them both in Allow.
    if request.method == "POST":
        return await create(request)
    return await list_webhooks(request)


webhooks.operations = {**list_webhooks.operations, **create.operations}  # type: ignore[attr-defined]


@operation(
    "delete",
    "Delete a webhook and its deliveries: nothing more is sent to it.",
    {200: contract.Webhook},
    errors=ADMIN_READ_ERRORS,
    scope=Scope.ADMIN,
)
async def delete(request: Request) -> Response:
    if request.path_params["id"] == "deliveries":
        # /api/webhooks/deliveries is a route of its own, which has no DELETE.
        raise HTTPException(405, headers={"Allow": "GET, HEAD"})
    actor = await authorize(request, Scope.ADMIN, app=EVERY_APP)
    webhook_id = contract.decode_query(contract.WebhookPath, dict(request.path_params)).id
    webhook = await call(request, service.delete_webhook, webhook_id=webhook_id, actor=actor)
    return answer(render_webhook(webhook))


@operation(
    "get",
    "Deliveries, newest first: state, attempts and the receiver's last answer.",
    {200: contract.DeliveryList},
    errors=ADMIN_READ_ERRORS,
    query=contract.DeliveriesQuery,
    scope=Scope.ADMIN,
)
async def list_deliveries(request: Request) -> Response:
    await authorize(request, Scope.ADMIN, app=EVERY_APP)
    query = contract.decode_query(contract.DeliveriesQuery, dict(request.query_params))
    found = await call(
        request,
        service.list_deliveries,
        failed_only=query.failed,
        webhook_id=contract.given(query.webhook),
        limit=contract.given(query.limit),
    )
    return answer({"deliveries": [render_delivery(d) for d in found]})


@operation(
    "post",
    "Send a delivered or failed delivery again, with the same webhook-id and body.",
    {200: contract.Delivery},
    errors=WRITE_ERRORS,
    body=contract.EmptyRequest,
    body_required=False,
    scope=Scope.ADMIN,
)
async def redeliver(request: Request) -> Response:
    document = await read_json(request, optional=True)
    actor = await authorize(request, Scope.ADMIN, app=EVERY_APP)
    contract.decode_body(contract.EmptyRequest, document)
    delivery_id = contract.decode_query(contract.DeliveryPath, dict(request.path_params)).id
    delivery = await call(request, service.redeliver, delivery_id=delivery_id, actor=actor)
    return answer(render_delivery(delivery))
