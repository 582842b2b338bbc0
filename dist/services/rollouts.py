"""Rollouts: show a channel's staged rollout, and set, halt, resume or complete it."""

from __future__ import annotations

from dist.domain import rollouts
from dist.domain.entities import Channel
from dist.domain.enums import AuditAction
from dist.domain.errors import Conflict, Invalid, NotFound
from dist.domain.render import render_channel
from dist.domain.rollouts import RolloutAction, check_expected
from dist.domain.values import parse_channel_name
from dist.persistence.uow import UnitOfWork
from dist.services import apps
from dist.services.audit import record


def parse_action(action: str) -> RolloutAction:
    try:
        return RolloutAction(action)
    except ValueError:
        raise Invalid(
            "rollout.invalid_action", f"{action!r} is not a rollout action: use halt, resume or complete"
        ) from None


def show(uow: UnitOfWork, *, app: str, channel: str) -> Channel:
    """The channel with its rollout (None when every client gets its release)."""
    parse_channel_name(channel)
    with uow.read():
        found = apps.require(uow, app)
        got = uow.channels.get(found, channel)
    if got is None:
        raise NotFound("channel.not_found", f"{app} has no channel {channel!r}")
    return got[0]


def change(
    uow: UnitOfWork,
    *,
    app: str,
    channel: str,
    action: RolloutAction | str,
    percent: int | None = None,
    actor: str,
    expect: str | None = None,
) -> Channel:
    """Change the rollout of `channel`: `set` it to a fixed `percent`, `halt` it where it is, `resume` its
    schedule from where it froze, or `complete` it (everyone, now). Audited as `rollout_changed`.

    `rollout.empty_channel` when the channel serves nothing, `rollout.none` when nothing rolls on it; with
    `expect`, `channel.precondition_failed` unless the channel serves that version.
    """
    action = parse_action(action) if isinstance(action, str) else action
    if action is RolloutAction.SET:
        if percent is None:
            raise Invalid("rollout.invalid_arguments", "rollout set needs a percent")
        rollouts.parse_percent(percent)
    elif percent is not None:
        raise Invalid("rollout.invalid_arguments", f"{action.value} takes no percent")
    parse_channel_name(channel)
    with uow.write():
        found = apps.require(uow, app)
        got = uow.channels.get(found, channel, lock=True)
        if got is None:
            raise NotFound("channel.not_found", f"{app} has no channel {channel!r}")
        target = got[0]
        check_expected(expect, target.release)
        if target.release is None:
            raise Conflict("rollout.empty_channel", f"{channel} serves nothing: there is no rollout on it")
        rollout = target.rollout
        if rollout is None:
            raise Conflict("rollout.none", f"nothing rolls out on {channel}: every client gets {target.release}")
        now = uow.clock()
        before = render_channel(target, now)["rollout"]
        if action is RolloutAction.SET:
            assert percent is not None
            schedule = rollouts.set_percent(rollout.schedule, percent, now)
        elif action is RolloutAction.HALT:
            schedule = rollouts.halt(rollout.schedule, now)
        elif action is RolloutAction.RESUME:
            schedule = rollouts.resume(rollout.schedule, now)
        else:
            schedule = rollouts.complete(rollout.schedule, now)
        rollout.schedule = schedule
        uow.channels.set_rollout(target, rollout, now)
        rendered = render_channel(target, now)
        record(
            uow,
            actor=actor,
            action=AuditAction.ROLLOUT_CHANGED,
            app=found.slug,
            target=channel,
            detail={"channel": rendered, "change": action.value, "from": before},
        )
        uow.commit()
        return target
