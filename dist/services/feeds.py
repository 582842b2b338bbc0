"""Feeds: the release each channel serves, read the way the update feeds need it."""

from __future__ import annotations

from dataclasses import dataclass

from dist.domain.entities import App, Channel, Release
from dist.domain.errors import NotFound
from dist.domain.values import parse_channel_name, parse_slug
from dist.persistence.uow import UnitOfWork

DEFAULT_CHANNEL = "stable"
# electron-updater's name for "the channel the app was not told to use".
LATEST_ALIAS = "latest"


@dataclass(frozen=True, slots=True)
class Served:
    """A channel and the release it serves; `is_default` when it is the app's default channel."""

    app: App
    channel: Channel
    release: Release
    is_default: bool


def default_channel(app: App) -> str:
    return DEFAULT_CHANNEL


def served(uow: UnitOfWork, app: str, channel: str, *, latest_alias: bool = False) -> Served:
    """What `channel` of `app` serves: `app.not_found`, `channel.not_found` and `channel.empty` as the update
    check refuses. With `latest_alias`, `latest` names the app's default channel unless a channel is named so."""
    parse_slug(app)
    parse_channel_name(channel)
    with uow.read():
        found, chosen, release = uow.channels.with_release(app, channel)
        if found is not None and chosen is None and latest_alias and channel == LATEST_ALIAS:
            found, chosen, release = uow.channels.with_release(app, default_channel(found))
    if found is None:
        raise NotFound("app.not_found", f"there is no app {app!r}")
    if chosen is None:
        raise NotFound("channel.not_found", f"{app} has no channel {channel!r}")
    if release is None:
        raise NotFound("channel.empty", f"{chosen.name} serves no release")
    return Served(found, chosen, release, chosen.name == default_channel(found))


def all_served(uow: UnitOfWork, app: str) -> tuple[App, list[Served]]:
    """Every channel of `app` that serves a release, most stable first: the default channel, then the others
    in the order they were created (a project usually opens `beta` before `nightly`)."""
    parse_slug(app)
    with uow.read():
        found, serving = uow.channels.all_serving(app)
    if found is None:
        raise NotFound("app.not_found", f"there is no app {app!r}")
    default = default_channel(found)
    ordered = sorted(serving, key=lambda pair: pair[0].name != default)
    return found, [Served(found, channel, release, channel.name == default) for channel, release in ordered]
