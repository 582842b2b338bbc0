"""What the download pages show, each read in one transaction."""

from __future__ import annotations

from dist.domain.counts import DEFAULT_STATS_DAYS, build_stats, day_range
from dist.domain.entities import App, Release
from dist.domain.errors import NotFound
from dist.domain.pages import AppPage
from dist.domain.values import parse_cursor, parse_slug, parse_version
from dist.persistence.uow import UnitOfWork
from dist.services import apps
from dist.services.feeds import default_channel

# Releases per page of an app's release list: a 10,000-release app's page stays small.
PAGE_SIZE = 50


def app_page(uow: UnitOfWork, slug: str, *, cursor: str | None = None) -> AppPage:
    """An app's channels with their releases, a page of its releases (older than `cursor`), and the update
    checks of the last days; `app.not_found`."""
    parse_slug(slug)
    before = parse_cursor(cursor)
    today = uow.clock().date()
    first_day = day_range(today, DEFAULT_STATS_DAYS)[0]
    with uow.read():
        app, serving = uow.channels.all_serving(slug)
        if app is None:
            raise NotFound("app.not_found", f"there is no app {slug!r}")
        assert app.id is not None
        page = uow.releases.page_of(slug, limit=PAGE_SIZE + 1, before_id=before)
        checks = uow.counts.checks_by_day(app.id, first_day) if before is None else []
    default = default_channel(app)
    serving.sort(key=lambda pair: pair[0].name != default)
    next_cursor = str(page[PAGE_SIZE - 1].id) if len(page) > PAGE_SIZE else None
    return AppPage(
        app=app,
        serving=serving,
        releases=page[:PAGE_SIZE],
        next_cursor=next_cursor,
        first_page=before is None,
        stats=build_stats(slug, today, DEFAULT_STATS_DAYS, [], checks),
    )


def release_page(uow: UnitOfWork, slug: str, version: str) -> tuple[App, Release, list[str]]:
    """An app, one of its releases (yanked ones too) and the channels serving it; `app.not_found`,
    `release.not_found`."""
    parse_version(version)
    with uow.read():
        app = apps.require(uow, slug)
        release = uow.releases.get(app, version)
        if release is None:
            raise NotFound("release.not_found", f"{slug} has no release {version}")
        return app, release, uow.channels.serving(release, uow.clock())
