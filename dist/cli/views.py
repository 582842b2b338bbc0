"""What a human sees: rich tables for lists and one-line summaries, built from the domain entities."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from rich import box
from rich.console import RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table

from dist.cli.context import stdout
from dist.domain.entities import App, AuditEvent, Channel, ChannelEvent, Delivery, Release, Token, Webhook
from dist.domain.render import render_rollout, timestamp
from dist.domain.rollouts import Rollout, effective_percent, state


def when(value: datetime | None) -> str:
    return timestamp(value) or "-"


def size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value, unit = float(n), "B"
    for larger in ("KiB", "MiB", "GiB", "TiB"):
        if value < 1024:
            break
        value, unit = value / 1024, larger
    return f"{value:.1f} {unit}"


def table(title: str | None, headers: Sequence[str], rows: Iterable[Sequence[RenderableType]], empty: str) -> None:
    """Print rows under headers, or `empty` when there are none."""
    rows = list(rows)
    if not rows:
        stdout.print(empty, markup=False)
        return
    grid = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title_justify="left")
    for header in headers:
        grid.add_column(header, no_wrap=True)
    for row in rows:
        grid.add_row(*row)
    stdout.print(grid)


def line(text: str) -> None:
    stdout.print(text, markup=False)


def apps_table(apps: list[App]) -> None:
    table(None, ["slug", "name", "created"], ([a.slug, a.name, when(a.created_at)] for a in apps), "No apps yet.")


def rollout_summary(rollout: Rollout, now: datetime) -> str:
    """One line: the share, over what, in what state, and the next step."""
    shown = render_rollout(rollout, now)
    text = f"{shown['percent']}% get {rollout.version}, the rest {rollout.base} ({shown['state']})"
    if shown["ramp"] is not None:
        text += f", ramp {','.join(str(s) for s in shown['ramp'])} every {shown['every']}"
    if shown["next_step_at"] is not None:
        text += f", next step {shown['next_step_at']}"
    return text


def rollout_cell(rollout: Rollout | None, now: datetime) -> RenderableType:
    """A rollout in a table: a bar of its share on a terminal, its summary as text otherwise."""
    if rollout is None:
        return "-"
    if not stdout.is_terminal:
        return rollout_summary(rollout, now)
    percent = effective_percent(rollout.schedule, now)
    cell = Table.grid(padding=(0, 1))
    cell.add_row(
        ProgressBar(total=100, completed=percent, width=20), f"{percent}% {state(rollout.schedule, now).value}"
    )
    return cell


def channels_table(channels: list[Channel], title: str | None = None, *, now: datetime | None = None) -> None:
    at = now if now is not None else datetime.now(UTC)
    table(
        title,
        ["channel", "serves", "updated", "rollout"],
        ([c.name, c.release or "-", when(c.updated_at), rollout_cell(c.rollout, at)] for c in channels),
        "No channels yet.",
    )


def rollout_detail(channel: Channel, now: datetime) -> None:
    if channel.rollout is None:
        line(f"no rollout: every client gets {channel.release or 'nothing'}")
        return
    line("rollout: " + rollout_summary(channel.rollout, now))
    if stdout.is_terminal:
        percent = effective_percent(channel.rollout.schedule, now)
        stdout.print(ProgressBar(total=100, completed=percent, width=40))


def channel_detail(channel: Channel, now: datetime) -> None:
    line(f"{channel.app} {channel.name}: serves {channel.release or 'nothing'} (updated {when(channel.updated_at)})")
    rollout_detail(channel, now)


def releases_table(releases: list[Release]) -> None:
    table(
        None,
        ["version", "status", "artifacts", "created", "by"],
        ([r.version, r.status.value, str(len(r.artifacts)), when(r.created_at), r.created_by] for r in releases),
        "No releases yet.",
    )


def release_detail(release: Release) -> None:
    line(f"{release.app} {release.version} ({release.status.value})")
    line(f"created {when(release.created_at)} by {release.created_by}")
    if release.notes:
        line("")
        line(release.notes)
    table(
        None,
        ["filename", "platform", "size", "content type", "sha256"],
        ([a.filename, a.platform, size(a.size), a.content_type, a.sha256] for a in release.artifacts),
        "No artifacts.",
    )


def channel_events_table(events: list[ChannelEvent]) -> None:
    table(
        None,
        ["at", "kind", "version", "actor"],
        ([when(e.at), e.kind.value, e.version, e.actor] for e in events),
        "No promotes or rollbacks yet.",
    )


def tokens_table(tokens: list[Token], now: datetime) -> None:
    table(
        None,
        ["id", "name", "scopes", "app", "channel", "status", "expires", "last used"],
        (
            [
                str(t.id),
                t.name,
                ",".join(s.value for s in t.scopes),
                t.app or "*",
                t.channel or "*",
                t.status(now).value,
                when(t.expires_at),
                when(t.last_used_at),
            ]
            for t in tokens
        ),
        "No tokens yet.",
    )


def audit_table(events: list[AuditEvent]) -> None:
    table(
        None,
        ["id", "at", "actor", "action", "app", "target"],
        ([str(e.id), when(e.at), e.actor, e.action.value, e.app or "-", e.target or "-"] for e in events),
        "The audit log is empty.",
    )


def webhooks_table(webhooks: list[Webhook]) -> None:
    table(
        None,
        ["id", "url", "events", "app", "created"],
        ([str(w.id), w.url, ",".join(w.events), w.app or "*", when(w.created_at)] for w in webhooks),
        "No webhooks yet.",
    )


def deliveries_table(deliveries: list[Delivery]) -> None:
    table(
        None,
        ["id", "webhook", "action", "state", "attempts", "last status", "last error", "next attempt"],
        (
            [
                str(d.id),
                str(d.webhook_id),
                d.action.value,
                d.state.value,
                str(d.attempts),
                "-" if d.last_status is None else str(d.last_status),
                d.last_error or "-",
                when(d.next_attempt_at) if d.state == "pending" else "-",
            ]
            for d in deliveries
        ),
        "No deliveries.",
    )
