"""`dist webhook create|list|deliveries|redeliver|delete`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from cyclopts import App, Parameter

from dist.cli import views
from dist.cli.backend import local_only
from dist.cli.context import JsonFlag, actor, opened_store, print_json
from dist.domain.render import render_delivery, render_webhook

if TYPE_CHECKING:
    from types import ModuleType

REMOTE_HINT = "over HTTP, manage webhooks with /api/webhooks (docs/webhooks.md)"


def _service(command: str) -> ModuleType:
    """The webhook services, imported when a command runs: remote mode never loads the persistence layer."""
    local_only(f"webhook {command}", REMOTE_HINT)
    from dist.services import webhooks

    return webhooks


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
    service = _service("create")
    with opened_store() as store:
        webhook, secret = service.create_webhook(store.uow(), url=url, events=event, app=app, actor=actor())
    if as_json:
        print_json({**render_webhook(webhook), "secret": secret})
        return
    views.line(f"Created webhook {webhook.id} for {webhook.url} (events {', '.join(webhook.events)})")
    views.line(secret)
    views.line("Copy this signing secret now: it will not be shown again.")


@webhook_app.command(name="list")
def list_(*, as_json: JsonFlag = False) -> None:
    """List webhooks: id, URL, events and app. Secrets are never shown."""
    service = _service("list")
    with opened_store() as store:
        found = service.list_webhooks(store.uow())
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
    service = _service("deliveries")
    with opened_store() as store:
        found = service.list_deliveries(store.uow(), failed_only=failed, webhook_id=webhook, limit=limit)
    if as_json:
        print_json({"deliveries": [render_delivery(d) for d in found]})
    else:
        views.deliveries_table(found)


@webhook_app.command(name="redeliver")
def redeliver(delivery_id: Annotated[int, Parameter(name="ID")], /, *, as_json: JsonFlag = False) -> None:
    """Send a delivered or failed delivery again, with the same webhook-id and body (a running distd sends it)."""
    service = _service("redeliver")
    with opened_store() as store:
        delivery = service.redeliver(store.uow(), delivery_id=delivery_id, actor=actor())
    if as_json:
        print_json(render_delivery(delivery))
    else:
        views.line(f"Delivery {delivery.id} will be sent again ({delivery.message_id})")


@webhook_app.command(name="delete")
def delete(webhook_id: Annotated[int, Parameter(name="ID")], /, *, as_json: JsonFlag = False) -> None:
    """Delete a webhook: nothing more is sent to it."""
    service = _service("delete")
    with opened_store() as store:
        webhook = service.delete_webhook(store.uow(), webhook_id=webhook_id, actor=actor())
    if as_json:
        print_json(render_webhook(webhook))
    else:
        views.line(f"Deleted webhook {webhook.id} ({webhook.url})")
