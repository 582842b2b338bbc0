"""`dist webhook create|list|deliveries|redeliver|delete`."""

from __future__ import annotations

from typing import Annotated

from cyclopts import App, Parameter

from dist.cli import views
from dist.cli.backend import backend
from dist.cli.context import JsonFlag, print_json
from dist.domain.render import render_delivery, render_webhook

webhook_app = App(name="webhook", help="Tell other systems of releases, promotes, rollbacks and yanks.")


@webhook_app.command(name="create")
def create(
    url: Annotated[str, Parameter(name="URL")],
    /,
    *,
    event: Annotated[
        list[str] | None,
        Parameter(negative=(), help="An audit action to send, e.g. release_published (repeatable; default all)."),
    ] = None,
    app: Annotated[str | None, Parameter(help="Only events of this app (default: every app).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Register an endpoint and print its signing secret, which is shown this once and never again."""
    with backend() as server:
        webhook, secret = server.create_webhook(url=url, events=event, app=app)
    if as_json:
        print_json({**render_webhook(webhook), "secret": secret})
        return
    views.line(f"Created webhook {webhook.id} for {webhook.url} (events {', '.join(webhook.events)})")
    views.line(secret)
    views.line("Copy this signing secret now: it will not be shown again.")


@webhook_app.command(name="list")
def list_(*, as_json: JsonFlag = False) -> None:
    """List webhooks: id, URL, events and app. Secrets are never shown."""
    with backend() as server:
        found = server.list_webhooks()
    if as_json:
        print_json({"webhooks": [render_webhook(w) for w in found]})
    else:
        views.webhooks_table(found)


@webhook_app.command(name="deliveries")
def deliveries(
    *,
    failed: Annotated[bool, Parameter(negative=(), help="Only deliveries that were given up.")] = False,
    webhook: Annotated[int | None, Parameter(help="Only this webhook's deliveries.")] = None,
    limit: Annotated[int | None, Parameter(help="At most this many, newest first (default 100).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List deliveries, newest first: state, attempts, the receiver's last answer."""
    with backend() as server:
        found = server.list_deliveries(failed_only=failed, webhook_id=webhook, limit=limit)
    if as_json:
        print_json({"deliveries": [render_delivery(d) for d in found]})
    else:
        views.deliveries_table(found)


@webhook_app.command(name="redeliver")
def redeliver(delivery_id: Annotated[int, Parameter(name="ID")], /, *, as_json: JsonFlag = False) -> None:
    """Send a delivered or failed delivery again, with the same webhook-id and body (a running distd sends it)."""
    with backend() as server:
        delivery = server.redeliver(delivery_id)
    if as_json:
        print_json(render_delivery(delivery))
    else:
        views.line(f"Delivery {delivery.id} will be sent again ({delivery.message_id})")


@webhook_app.command(name="delete")
def delete(webhook_id: Annotated[int, Parameter(name="ID")], /, *, as_json: JsonFlag = False) -> None:
    """Delete a webhook: nothing more is sent to it."""
    with backend() as server:
        webhook = server.delete_webhook(webhook_id)
    if as_json:
        print_json(render_webhook(webhook))
    else:
        views.line(f"Deleted webhook {webhook.id} ({webhook.url})")
