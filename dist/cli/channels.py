"""`dist promote`, `dist rollback`, `dist channel list|show|history` and `dist rollout`."""

from __future__ import annotations

from typing import Annotated

from cyclopts import App, Parameter

from dist.cli import views
from dist.cli.backend import Backend, Staged, backend
from dist.cli.context import JsonFlag, print_json
from dist.cli.errors import UsageError
from dist.domain.entities import Channel
from dist.domain.render import render_channel, render_channel_event
from dist.domain.rollouts import parse_percent_text, parse_ramp_text

channel_app = App(name="channel", help="List channels, show one, and their promote/rollback history.")
rollout_app = App(
    name="rollout",
    help="Show a channel's staged rollout (dist rollout APP CHANNEL), or set, halt, resume or complete it.",
)

Expect = Annotated[
    str | None,
    Parameter(
        name="--expect",
        help="Refuse (channel.precondition_failed) unless the channel serves this version now ('none': nothing).",
    ),
]


def _moved(store: Backend, channel: Channel, verb: str, as_json: bool) -> None:
    if as_json:
        print_json(render_channel(channel, store.now()))
        return
    views.line(f"{verb} {channel.app} {channel.name}: now serves {channel.release}")
    if channel.rollout is not None:
        views.rollout_detail(channel, store.now())


def promote(
    app: str,
    channel: str,
    /,
    *,
    version: Annotated[str | None, Parameter(help="The version to promote.")] = None,
    from_: Annotated[str | None, Parameter(name="--from", help="Promote what this channel serves.")] = None,
    rollout: Annotated[
        str | None, Parameter(name="--rollout", help="Stage it: only this percent of clients (1-100) get it.")
    ] = None,
    ramp: Annotated[
        str | None,
        Parameter(name="--ramp", help="Stage it on a schedule: percents like 1,10,50,100, the first at once."),
    ] = None,
    every: Annotated[
        str | None, Parameter(name="--every", help="The time between the steps of --ramp: 24h, 30m, 1d, 90s.")
    ] = None,
    expect: Expect = None,
    as_json: JsonFlag = False,
) -> None:
    """Point CHANNEL of APP at a published release (the channel is created on first use); with --rollout or
    --ramp/--every, only a share of clients get it and the others keep what the channel served."""
    if version is not None and from_ is not None:
        raise UsageError("usage.conflicting_options", "give --version or --from, not both")
    if version is None and from_ is None:
        raise UsageError("usage.missing_option", "give --version V or --from CHANNEL")
    staged = None
    if rollout is not None or ramp is not None or every is not None:
        staged = Staged(
            percent=parse_percent_text(rollout) if rollout is not None else None,
            ramp=parse_ramp_text(ramp) if ramp is not None else None,
            every=every,
        )
    with backend() as store:
        moved = store.promote(app, channel, version=version, from_channel=from_, expect=expect, staged=staged)
        _moved(store, moved, "Promoted", as_json)


def rollback(
    app: str,
    channel: str,
    /,
    *,
    to: Annotated[str | None, Parameter(help="Roll back until this version is served.")] = None,
    expect: Expect = None,
    as_json: JsonFlag = False,
) -> None:
    """Undo the last promote of CHANNEL (or several, with --to), skipping yanked releases; a rollout ends."""
    with backend() as store:
        moved = store.rollback(app, channel, to=to, expect=expect)
        _moved(store, moved, "Rolled back", as_json)


@channel_app.command(name="list")
def list_(app: str, /, *, as_json: JsonFlag = False) -> None:
    """List the channels of APP and what each serves."""
    with backend() as store:
        found = store.list_channels(app)
        now = store.now()
    if as_json:
        print_json({"channels": [render_channel(c, now) for c in found]})
    else:
        views.channels_table(found, now=now)


@channel_app.command(name="show")
def show(app: str, channel: str, /, *, as_json: JsonFlag = False) -> None:
    """Show CHANNEL of APP: what it serves, and its rollout if one is staged."""
    with backend() as store:
        found = store.show_channel(app, channel)
        now = store.now()
    if as_json:
        print_json(render_channel(found, now))
    else:
        views.channel_detail(found, now)


@rollout_app.default
def rollout_show(app: str, channel: str, /, *, as_json: JsonFlag = False) -> None:
    """Show the rollout of CHANNEL of APP: its share now, its schedule and its next step."""
    show(app, channel, as_json=as_json)


def _change(app: str, channel: str, action: str, percent: int | None, expect: str | None, as_json: bool) -> None:
    with backend() as store:
        changed = store.change_rollout(app, channel, action=action, percent=percent, expect=expect)
        now = store.now()
    if as_json:
        print_json(render_channel(changed, now))
    else:
        views.channel_detail(changed, now)


@rollout_app.command(name="set")
def rollout_set(app: str, channel: str, percent: str, /, *, expect: Expect = None, as_json: JsonFlag = False) -> None:
    """Give the new release to PERCENT (1-100) of the clients from now on; a ramp stops here."""
    _change(app, channel, "set", parse_percent_text(percent), expect, as_json)


@rollout_app.command(name="halt")
def rollout_halt(app: str, channel: str, /, *, expect: Expect = None, as_json: JsonFlag = False) -> None:
    """Freeze the rollout at its share now."""
    _change(app, channel, "halt", None, expect, as_json)


@rollout_app.command(name="resume")
def rollout_resume(app: str, channel: str, /, *, expect: Expect = None, as_json: JsonFlag = False) -> None:
    """Let a halted ramp continue from where it froze (the halted time does not count)."""
    _change(app, channel, "resume", None, expect, as_json)


@rollout_app.command(name="complete")
def rollout_complete(app: str, channel: str, /, *, expect: Expect = None, as_json: JsonFlag = False) -> None:
    """Give the new release to every client now."""
    _change(app, channel, "complete", None, expect, as_json)


@channel_app.command(name="history")
def history(app: str, channel: str, /, *, as_json: JsonFlag = False) -> None:
    """Every promote and rollback of CHANNEL, oldest first."""
    with backend() as store:
        events = store.history(app, channel)
    if as_json:
        print_json({"events": [render_channel_event(e) for e in events]})
    else:
        views.channel_events_table(events)
