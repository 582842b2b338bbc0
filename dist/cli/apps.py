"""`dist init` and `dist app create|list|show`."""

from __future__ import annotations

from typing import Annotated

from cyclopts import App, Parameter

from dist.cli import views
from dist.cli.backend import backend, local_only
from dist.cli.context import GLOBALS, JsonFlag, actor, opened_store, print_json
from dist.domain.render import render_app, render_channel

app_app = App(name="app", help="Create and inspect apps.")


def init(*, as_json: JsonFlag = False) -> None:
    """Create the store (directory, database schema) if it does not exist yet, and say where it is."""
    local_only("init")
    from sqlalchemy.engine import make_url

    from dist.persistence.store import store_exists

    location = GLOBALS.location()
    existed = store_exists(location)
    with opened_store():
        pass
    database = make_url(location.url).render_as_string(hide_password=True)
    if as_json:
        print_json({"store": str(location.root.resolve()), "database": database, "created": not existed})
        return
    verb = "Store already initialised" if existed else "Initialised store"
    views.line(f"{verb} at {location.root.resolve()}")
    views.line(f"database: {database}")


@app_app.command(name="create")
def create(
    slug: str,
    *,
    name: Annotated[str | None, Parameter(help="A display name (default: the slug).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create an app. Publishing also creates an app on its first release."""
    local_only("app create", "over HTTP, an app is created by its first publish")
    from dist.services import apps

    with opened_store() as store:
        created = apps.create_app(store.uow(), slug=slug, name=name, actor=actor())
    if as_json:
        print_json(render_app(created))
    else:
        views.line(f"Created app {created.slug} ({created.name})")


@app_app.command(name="list")
def list_(*, as_json: JsonFlag = False) -> None:
    """List every app."""
    with backend() as store:
        found = store.list_apps()
    if as_json:
        print_json({"apps": [render_app(a) for a in found]})
    else:
        views.apps_table(found)


@app_app.command(name="show")
def show(slug: str, *, as_json: JsonFlag = False) -> None:
    """Show an app and its channels."""
    with backend() as store:
        found, channels = store.show_app(slug)
    if as_json:
        print_json({**render_app(found), "channels": [render_channel(c) for c in channels]})
        return
    views.line(f"{found.slug} ({found.name}), created {views.when(found.created_at)}")
    views.channels_table(channels)
