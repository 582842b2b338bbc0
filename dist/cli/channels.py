"""`dist promote`, `dist rollback` and `dist channel list|history`."""

from __future__ import annotations

from typing import Annotated

from cyclopts import App, Parameter

from dist.cli import views
from dist.cli.backend import backend
from dist.cli.context import JsonFlag, print_json
from dist.cli.errors import UsageError
from dist.domain.entities import Channel
from dist.domain.render import render_channel, render_channel_event

channel_app = App(name="channel", help="List channels and their promote/rollback history.")


def _moved(channel: Channel, verb: str, as_json: bool) -> None:
    if as_json:
        print_json(render_channel(channel))
    else:
        views.line(f"{verb} {channel.app} {channel.name}: now serves {channel.release}")


def promote(
    app: str,
    channel: str,
    /,
    *,
    version: Annotated[str | None, Parameter(help="The version to promote.")] = None,
    from_: Annotated[str | None, Parameter(name="--from", help="Promote what this channel serves.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Point CHANNEL of APP at a published release (the channel is created on first use)."""
    if version is not None and from_ is not None:
        raise UsageError("usage.conflicting_options", "give --version or --from, not both")
    if version is None and from_ is None:
        raise UsageError("usage.missing_option", "give --version V or --from CHANNEL")
    with backend() as store:
        moved = store.promote(app, channel, version=version, from_channel=from_)
    _moved(moved, "Promoted", as_json)


def rollback(
    app: str,
    channel: str,
    /,
    *,
    to: Annotated[str | None, Parameter(help="Roll back until this version is served.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Undo the last promote of CHANNEL (or several, with --to), skipping yanked releases."""
    with backend() as store:
        moved = store.rollback(app, channel, to=to)
    _moved(moved, "Rolled back", as_json)


@channel_app.command(name="list")
def list_(app: str, /, *, as_json: JsonFlag = False) -> None:
    """List the channels of APP and what each serves."""
    with backend() as store:
        found = store.list_channels(app)
    if as_json:
        print_json({"channels": [render_channel(c) for c in found]})
    else:
        views.channels_table(found)


@channel_app.command(name="history")
def history(app: str, channel: str, /, *, as_json: JsonFlag = False) -> None:
    """Every promote and rollback of CHANNEL, oldest first."""
    with backend() as store:
        events = store.history(app, channel)
    if as_json:
        print_json({"events": [render_channel_event(e) for e in events]})
    else:
        views.channel_events_table(events)
