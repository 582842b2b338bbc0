"""Feeds: the release each channel serves, read the way the update feeds need it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dist.domain import rollouts
from dist.domain.entities import App, Channel, Release
from dist.domain.errors import NotFound
from dist.domain.feeds.model import Staging, staging_of
from dist.domain.values import parse_channel_name, parse_slug
from dist.persistence.uow import UnitOfWork
from dist.services import blobs

# electron-updater's name for "the channel the app was not told to use".
LATEST_ALIAS = "latest"


@dataclass(frozen=True, slots=True)
class Served:
    """A channel and the release it serves to the client asking; `is_default` when it is the app's default
    channel. During a rollout, `staging` is what an updater that buckets itself is told, and `until` when the
    answer changes by itself (the next step)."""

    app: App
    channel: Channel
    release: Release
    is_default: bool
    staging: Staging | None = None
    until: datetime | None = None
    # The share that placed the client asking (None: the answer is the same for every client, or not bucketed).
    percent: int | None = None


def _for_client(
    uow: UnitOfWork, app: App, channel: Channel, release: Release, client: str | None, *, self_bucketing: bool
) -> tuple[Release, Staging | None, datetime | None, int | None]:
    """The release `channel` serves to `client` (inside a read): during a rollout, R to a client in the share and
    the base to the others, as the update check answers. An updater that buckets itself (`self_bucketing`)
    gets R with the staging it needs, when its format can say the share: else, without a client id, the base."""
    rollout = channel.rollout
    if rollout is None or rollout.base_id is None:
        return release, None, None, None
    now = uow.clock()
    until = rollouts.next_step_at(rollout.schedule, now)
    staging = staging_of(rollout, now)
    if staging is None:
        return release, None, None, None
    if self_bucketing and client is None:
        return release, staging, until, None
    if rollouts.gets_new_release(staging.percent, app.slug, channel.name, rollout.version, client):
        return release, None, until, staging.percent
    base = uow.releases.get_by_id(app, rollout.base_id)
    assert base is not None
    return base, None, until, staging.percent


def default_channel(app: App) -> str:
    return app.default_channel


def served(
    uow: UnitOfWork,
    app: str,
    channel: str,
    *,
    latest_alias: bool = False,
    client: str | None = None,
    self_bucketing: bool = False,
) -> Served:
    """What `channel` of `app` serves to `client` (see `_for_client`): `app.not_found`, `channel.not_found` and
    `channel.empty` as the update check refuses. With `latest_alias`, `latest` names the app's default channel
    unless a channel is named so."""
    parse_slug(app)
    parse_channel_name(channel)
    client = rollouts.parse_client_id(client)
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
        release, staging, until, percent = _for_client(
            uow, found, chosen, release, client, self_bucketing=self_bucketing
        )
    # A feed never goes out without the digests its updater checks: those not computed yet are, now.
    blobs.ensure_digests(uow, release.artifacts)
    return Served(found, chosen, release, chosen.name == default_channel(found), staging, until, percent)


def all_served(uow: UnitOfWork, app: str, *, client: str | None = None) -> tuple[App, list[Served]]:
    """Every channel of `app` that serves a release, most stable first: the default channel, then the others
    in the order they were created (a project usually opens `beta` before `nightly`). During a rollout each
    serves what `served` would with `self_bucketing` (Sparkle phases a moving ramp itself)."""
    parse_slug(app)
    client = rollouts.parse_client_id(client)
    with uow.read():
        found, serving = uow.channels.all_serving(app)
        if found is None:
            raise NotFound("app.not_found", f"there is no app {app!r}")
        chosen = []
        for channel, release in serving:
            picked, staging, until, _ = _for_client(uow, found, channel, release, client, self_bucketing=True)
            if staging is not None and staging.phase_seconds is None:
                # Sparkle has no fixed share: without a client id, the base, as the update check answers.
                picked, staging, until, _ = _for_client(uow, found, channel, release, client, self_bucketing=False)
            chosen.append((channel, picked, staging, until))
    for _, release, _, _ in chosen:
        blobs.ensure_digests(uow, release.artifacts)
    default = default_channel(found)
    ordered = sorted(chosen, key=lambda entry: entry[0].name != default)
    return found, [Served(found, c, r, c.name == default, staging, until) for c, r, staging, until in ordered]
