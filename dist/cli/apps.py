"""`dist init` and `dist app create|set|list|show`."""

from __future__ import annotations

from typing import Annotated

from cyclopts import App, Parameter

from dist.cli import views
from dist.cli.backend import backend, local_only
from dist.cli.context import GLOBALS, JsonFlag, actor, opened_store, print_json
from dist.cli.errors import UsageError
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


@app_app.command(name="set")
def set_(
    slug: str,
    *,
    name: Annotated[str | None, Parameter(help="The display name.")] = None,
    default_channel: Annotated[
        str | None, Parameter(help="The channel feeds serve when none is named (default stable).")
    ] = None,
    minisign_public_key: Annotated[
        str | None,
        Parameter(
            help="Tauri's updater key: the RW… line, the .pub file's text, or its base64; publish then verifies "
            "minisign signatures and requires them on linux-*, darwin-* and windows-* artifacts. '' removes it."
        ),
    ] = None,
    ed25519_public_key: Annotated[
        str | None,
        Parameter(
            help="Sparkle's key (base64 of 32 bytes); publish then verifies ed25519 signatures and requires them "
            "on darwin-* artifacts. '' removes it."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Change an app's settings."""
    if all(v is None for v in (name, default_channel, minisign_public_key, ed25519_public_key)):
        raise UsageError(
            "usage.nothing_to_set",
            "give a setting to change: --name, --default-channel, --minisign-public-key or --ed25519-public-key",
        )
    with backend() as store:
        updated = store.update_app(
            slug,
            name=name,
            default_channel=default_channel,
            minisign_public_key=minisign_public_key,
            ed25519_public_key=ed25519_public_key,
        )
    if as_json:
        print_json(render_app(updated))
    else:
        views.line(f"Updated app {updated.slug} ({updated.name}), default channel {updated.default_channel}")


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
        now = store.now()
    if as_json:
        print_json({**render_app(found), "channels": [render_channel(c, now) for c in channels]})
        return
    views.line(f"{found.slug} ({found.name}), created {views.when(found.created_at)}")
    views.channels_table(channels, now=now)
