"""Channels: promote, rollback, history, and the update check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dist.domain import rollouts
from dist.domain.entities import App, Artifact, Channel, ChannelEvent, Release
from dist.domain.enums import AuditAction, ChannelEventKind, ReleaseStatus
from dist.domain.errors import Conflict, Invalid, NotFound
from dist.domain.render import render_channel
from dist.domain.rollouts import Rollout, Schedule, check_expected
from dist.domain.rules import replay, rollback_target
from dist.domain.values import Version, parse_channel_name, parse_platform, parse_slug, parse_version
from dist.persistence.uow import UnitOfWork
from dist.services import apps
from dist.services.audit import record


def _require_channel(uow: UnitOfWork, app: App, name: str, *, lock: bool = False) -> tuple[Channel, int | None]:
    parse_channel_name(name)
    found = uow.channels.get(app, name, lock=lock)
    if found is None:
        raise NotFound("channel.not_found", f"{app.slug} has no channel {name!r}")
    return found


def _require_release(uow: UnitOfWork, app: App, version: str) -> Release:
    parse_version(version)
    release = uow.releases.get(app, version)
    if release is None:
        raise NotFound("release.not_found", f"{app.slug} has no release {version}")
    return release


def staged(
    now: datetime, *, percent: int | None = None, ramp: Sequence[int] | None = None, every: str | None = None
) -> Schedule | None:
    """The schedule a promote asks for: a fixed percent, or a ramp with its interval; None for everyone at once.
    Checked before anything is written."""
    if percent is not None and (ramp is not None or every is not None):
        raise Invalid("rollout.invalid_arguments", "give a rollout percent, or a ramp and its interval, not both")
    if (ramp is None) != (every is None):
        raise Invalid("rollout.invalid_arguments", "a ramp needs its interval (every), and an interval its ramp")
    if percent is not None:
        return rollouts.fixed(percent, now)
    if ramp is not None and every is not None:
        steps = rollouts.parse_ramp(ramp)
        return rollouts.ramp(steps, rollouts.parse_interval(every), now)
    return None


def move_to_release(
    uow: UnitOfWork,
    *,
    app: App,
    channel: str,
    release: Release,
    actor: str,
    expect: str | None = None,
    schedule: Schedule | None = None,
) -> Channel:
    """Promote `release` onto `channel` (created on first use) inside the caller's transaction, staged by
    `schedule` when given; refused unless the channel serves `expect` when given."""
    if release.status is ReleaseStatus.YANKED:
        raise Conflict("release.yanked", f"{app.slug} {release.version} is yanked and cannot be promoted")
    uow.channels.create_if_absent(app, parse_channel_name(channel), uow.clock())
    target, current_id = _require_channel(uow, app, channel, lock=True)
    check_expected(expect, target.release)
    if current_id == release.id:
        raise Conflict("channel.unchanged", f"{channel} already serves {app.slug} {release.version}")
    previous = target.release
    if schedule is not None and (previous is None or current_id is None):
        raise Conflict(
            "rollout.empty_channel", f"{channel} serves nothing yet: a rollout needs a release to stage over"
        )
    now = uow.clock()
    uow.channels.move(target, release, ChannelEventKind.PROMOTE, actor, now)
    if schedule is not None:
        assert previous is not None
        rollout = Rollout(release.version, previous, schedule, release_id=release.id, base_id=current_id)
        uow.channels.set_rollout(target, rollout, now)
    record(
        uow,
        actor=actor,
        action=AuditAction.CHANNEL_PROMOTED,
        app=app.slug,
        target=channel,
        detail={"channel": render_channel(target, now), "from": previous},
    )
    return target


def promote(
    uow: UnitOfWork,
    *,
    app: str,
    channel: str,
    version: str | None = None,
    from_channel: str | None = None,
    actor: str,
    expect: str | None = None,
    rollout_percent: int | None = None,
    ramp: Sequence[int] | None = None,
    every: str | None = None,
) -> Channel:
    """Point `channel` at a published release given by `version` or served by `from_channel`.

    Creates the channel on first use. `channel.unchanged` when it already serves that release. With
    `rollout_percent`, or a `ramp` of percents and its interval `every`, only that share of clients get it and
    the others keep the release it served (`rollout.empty_channel` when it served none). With `expect` (a
    version, or `none`), refused with `channel.precondition_failed` unless the channel serves that.
    """
    if (version is None) == (from_channel is None):
        raise Invalid("promote.invalid_arguments", "give exactly one of a version or a channel to promote from")
    parse_channel_name(channel)
    schedule = staged(uow.clock(), percent=rollout_percent, ramp=ramp, every=every)
    with uow.write():
        found = apps.require(uow, app)
        if from_channel is not None:
            source, _ = _require_channel(uow, found, from_channel)
            if source.release is None:
                raise Conflict("channel.empty", f"{from_channel} serves no release to promote")
            version = source.release
        assert version is not None
        release = _require_release(uow, found, version)
        if schedule is not None:
            # The schedule starts when the promote happens, not when its arguments were read.
            schedule = Schedule(schedule.steps, schedule.every, uow.clock())
        target = move_to_release(
            uow, app=found, channel=channel, release=release, actor=actor, expect=expect, schedule=schedule
        )
        uow.commit()
        return target


def rollback(
    uow: UnitOfWork, *, app: str, channel: str, to: str | None = None, actor: str, expect: str | None = None
) -> Channel:
    """Undo promotes like a stack: move `channel` to the release below the top, or pop until `to` is on top.

    Never lands on a yanked release; `channel.nothing_to_roll_back` when nothing is below. A rollout of the top
    ends (everyone gets the release it lands on). With `expect`, refused unless the channel serves that.
    """
    with uow.write():
        found = apps.require(uow, app)
        target, _ = _require_channel(uow, found, channel, lock=True)
        check_expected(expect, target.release)
        to_id = _require_release(uow, found, to).id if to is not None else None
        stack = replay(uow.channels.stack_events(target))
        statuses = uow.releases.versions(stack)
        yanked = {rid for rid, (_, status) in statuses.items() if status is ReleaseStatus.YANKED}
        landing = rollback_target(stack, yanked, to_id)
        release = uow.releases.get_by_id(found, landing)
        assert release is not None
        previous = target.release
        now = uow.clock()
        uow.channels.move(target, release, ChannelEventKind.ROLLBACK, actor, now)
        record(
            uow,
            actor=actor,
            action=AuditAction.CHANNEL_ROLLED_BACK,
            app=found.slug,
            target=channel,
            detail={"channel": render_channel(target, now), "from": previous},
        )
        uow.commit()
        return target


def list_channels(uow: UnitOfWork, app: str) -> list[Channel]:
    """The channels of `app`, by name."""
    with uow.read():
        return uow.channels.for_app(apps.require(uow, app))


def get_channel(uow: UnitOfWork, app: str, name: str) -> tuple[Channel, Release | None]:
    """A channel and the release it serves (None when it serves nothing)."""
    parse_slug(app)
    with uow.read():
        found, channel, release = uow.channels.with_release(app, name)
    if found is None:
        raise NotFound("app.not_found", f"there is no app {app!r}")
    parse_channel_name(name)
    if channel is None:
        raise NotFound("channel.not_found", f"{app} has no channel {name!r}")
    return channel, release


def history(uow: UnitOfWork, app: str, name: str) -> list[ChannelEvent]:
    """Every promote and rollback of a channel, oldest first."""
    with uow.read():
        found = apps.require(uow, app)
        channel, _ = _require_channel(uow, found, name)
        return uow.channels.history(channel)


@dataclass(frozen=True, slots=True)
class Checked:
    """An update check's channel and answer, and how the answer depends on the client: `percent` is the share
    of a rollout that the client was placed by (None: every client gets the same), `until` when it changes
    by itself."""

    channel: Channel
    found: tuple[Release, Artifact] | None
    percent: int | None = None
    until: datetime | None = None


def served_release(
    uow: UnitOfWork, app: str, name: str, *, client: str | None = None
) -> tuple[Channel, Release, int | None, datetime | None]:
    """What the channel serves to `client`: its release, or during a rollout the base for a client outside the
    share (and for one without an id); with the rollout's share then and when it next grows (both None without
    a rollout, or once it is complete). `channel.empty` when it serves nothing."""
    parse_slug(app)
    client = rollouts.parse_client_id(client)
    with uow.read():
        found, channel, release = uow.channels.with_release(app, name)
        if found is None:
            raise NotFound("app.not_found", f"there is no app {app!r}")
        parse_channel_name(name)
        if channel is None:
            raise NotFound("channel.not_found", f"{app} has no channel {name!r}")
        if release is None:
            raise NotFound("channel.empty", f"{name} serves no release")
        rollout = channel.rollout
        if rollout is None or rollout.base_id is None:
            return channel, release, None, None
        now = uow.clock()
        percent = rollouts.effective_percent(rollout.schedule, now)
        if percent >= 100:
            return channel, release, None, None
        if not rollouts.gets_new_release(percent, app, name, rollout.version, client):
            base = uow.releases.get_by_id(found, rollout.base_id)
            assert base is not None
            release = base
        return channel, release, percent, rollouts.next_step_at(rollout.schedule, now)


def update_check(
    uow: UnitOfWork, app: str, name: str, *, platform: str, current: str | None = None, client: str | None = None
) -> Checked:
    """The update check: the release the channel serves to `client` (see `served_release`) and its artifact
    for `platform` (else `any`), or None when `current` is that version or newer. `artifact.not_found`
    when there is nothing for the platform."""
    parse_platform(platform)
    current_version = Version.parse(current) if current is not None else None
    channel, release, percent, until = served_release(uow, app, name, client=client)
    artifact = release.artifact_for(platform)
    if artifact is None:
        raise NotFound("artifact.not_found", f"{app} {release.version} on {name} has no artifact for {platform}")
    if current_version is not None and Version.parse(release.version) <= current_version:
        return Checked(channel, None, percent, until)
    return Checked(channel, (release, artifact), percent, until)


def latest(
    uow: UnitOfWork, app: str, name: str, *, platform: str, current: str | None = None, client: str | None = None
) -> tuple[Release, Artifact] | None:
    """The update check's answer alone (see `update_check`)."""
    return update_check(uow, app, name, platform=platform, current=current, client=client).found
