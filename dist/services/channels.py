"""Channels: promote, rollback, history, and the update check."""

from __future__ import annotations

from dist.domain.entities import App, Artifact, Channel, ChannelEvent, Release
from dist.domain.enums import AuditAction, ChannelEventKind, ReleaseStatus
from dist.domain.errors import Conflict, Invalid, NotFound
from dist.domain.render import render_channel
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


def move_to_release(uow: UnitOfWork, *, app: App, channel: str, release: Release, actor: str) -> Channel:
    """Promote `release` onto `channel` (created on first use) inside the caller's transaction."""
    if release.status is ReleaseStatus.YANKED:
        raise Conflict("release.yanked", f"{app.slug} {release.version} is yanked and cannot be promoted")
    uow.channels.create_if_absent(app, parse_channel_name(channel), uow.clock())
    target, current_id = _require_channel(uow, app, channel, lock=True)
    if current_id == release.id:
        raise Conflict("channel.unchanged", f"{channel} already serves {app.slug} {release.version}")
    previous = target.release
    uow.channels.move(target, release, ChannelEventKind.PROMOTE, actor, uow.clock())
    record(
        uow,
        actor=actor,
        action=AuditAction.CHANNEL_PROMOTED,
        app=app.slug,
        target=channel,
        detail={"channel": render_channel(target), "from": previous},
    )
    return target


def promote(
    uow: UnitOfWork, *, app: str, channel: str, version: str | None = None, from_channel: str | None = None, actor: str
) -> Channel:
    """Point `channel` at a published release given by `version` or served by `from_channel`.

    Creates the channel on first use. `channel.unchanged` when it already serves that release.
    """
    if (version is None) == (from_channel is None):
        raise Invalid("promote.invalid_arguments", "give exactly one of a version or a channel to promote from")
    parse_channel_name(channel)
    with uow.write():
        found = apps.require(uow, app)
        if from_channel is not None:
            source, _ = _require_channel(uow, found, from_channel)
            if source.release is None:
                raise Conflict("channel.empty", f"{from_channel} serves no release to promote")
            version = source.release
        assert version is not None
        release = _require_release(uow, found, version)
        target = move_to_release(uow, app=found, channel=channel, release=release, actor=actor)
        uow.commit()
        return target


def rollback(uow: UnitOfWork, *, app: str, channel: str, to: str | None = None, actor: str) -> Channel:
    """Undo promotes like a stack: move `channel` to the release below the top, or pop until `to` is on top.

    Never lands on a yanked release; `channel.nothing_to_roll_back` when nothing is below.
    """
    with uow.write():
        found = apps.require(uow, app)
        target, _ = _require_channel(uow, found, channel, lock=True)
        to_id = _require_release(uow, found, to).id if to is not None else None
        stack = replay(uow.channels.stack_events(target))
        statuses = uow.releases.versions(stack)
        yanked = {rid for rid, (_, status) in statuses.items() if status is ReleaseStatus.YANKED}
        landing = rollback_target(stack, yanked, to_id)
        release = uow.releases.get_by_id(found, landing)
        assert release is not None
        previous = target.release
        uow.channels.move(target, release, ChannelEventKind.ROLLBACK, actor, uow.clock())
        record(
            uow,
            actor=actor,
            action=AuditAction.CHANNEL_ROLLED_BACK,
            app=found.slug,
            target=channel,
            detail={"channel": render_channel(target), "from": previous},
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


def latest(
    uow: UnitOfWork, app: str, name: str, *, platform: str, current: str | None = None
) -> tuple[Release, Artifact] | None:
    """The update check: the release the channel serves and its artifact for `platform` (else `any`),
    or None when `current` is that version or newer. `artifact.not_found` when there is nothing for the
    platform."""
    parse_platform(platform)
    current_version = Version.parse(current) if current is not None else None
    _, release = get_channel(uow, app, name)
    if release is None:
        raise NotFound("channel.empty", f"{name} serves no release")
    artifact = release.artifact_for(platform)
    if artifact is None:
        raise NotFound("artifact.not_found", f"{app} {release.version} on {name} has no artifact for {platform}")
    if current_version is not None and Version.parse(release.version) <= current_version:
        return None
    return release, artifact
