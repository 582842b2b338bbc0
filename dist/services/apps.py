"""Apps: created explicitly or by their first publish."""

from __future__ import annotations

from dist.domain.entities import App, Channel
from dist.domain.enums import AuditAction
from dist.domain.errors import Conflict, NotFound
from dist.domain.render import render_app
from dist.domain.values import parse_app_name, parse_slug
from dist.persistence.uow import UnitOfWork
from dist.services.audit import record


def find_or_create(uow: UnitOfWork, *, slug: str, name: str | None, actor: str) -> tuple[App, bool]:
    """The app `slug`, created (with its `app_created` event) when it does not exist yet."""
    parse_slug(slug)
    app, created = uow.apps.create_if_absent(App(slug=slug, name=parse_app_name(name or slug), created_at=uow.clock()))
    if created:
        record(uow, actor=actor, action=AuditAction.APP_CREATED, app=slug, target=slug, detail=render_app(app))
    return app, created


def require(uow: UnitOfWork, slug: str) -> App:
    """The app `slug`, or `app.not_found`."""
    parse_slug(slug)
    app = uow.apps.get(slug)
    if app is None:
        raise NotFound("app.not_found", f"there is no app {slug!r}")
    return app


def create_app(uow: UnitOfWork, *, slug: str, name: str | None = None, actor: str) -> App:
    """Create an app; `app.exists` when the slug is taken."""
    with uow.write():
        app, created = find_or_create(uow, slug=slug, name=name, actor=actor)
        if not created:
            raise Conflict("app.exists", f"there is already an app {slug!r}")
        uow.commit()
        return app


def list_apps(uow: UnitOfWork) -> list[App]:
    """Every app, by slug."""
    with uow.read():
        return uow.apps.all()


def show_app(uow: UnitOfWork, slug: str) -> tuple[App, list[Channel]]:
    """An app and its channels."""
    with uow.read():
        app = require(uow, slug)
        return app, uow.channels.for_app(app)


def update_app(uow: UnitOfWork, *, slug: str, name: str | None = None, actor: str) -> App:
    """Change an app's settings (its display name); `app.not_found` for an unknown slug. Audited as
    `app_updated` with the app before and after, even when nothing changed."""
    if name is not None:
        parse_app_name(name)
    with uow.write():
        app = require(uow, slug)
        before = render_app(app)
        if name is not None:
            uow.apps.rename(app, name)
        record(
            uow,
            actor=actor,
            action=AuditAction.APP_UPDATED,
            app=slug,
            target=slug,
            detail={"before": before, "after": render_app(app)},
        )
        uow.commit()
        return app
