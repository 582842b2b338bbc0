"""The one JSON rendering of each entity, shared by the API, the CLI's --json and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from dist.domain.counts import Stats
from dist.domain.entities import App, Artifact, AuditEvent, Channel, ChannelEvent, Delivery, Release, Token, Webhook
from dist.domain.enums import DeliveryState
from dist.domain.rollouts import Rollout, effective_percent, next_step_at, render_interval, state


def timestamp(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with `Z`; milliseconds when the time has them, microseconds when finer."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    # strftime's %Y drops leading zeros before year 1000 on some platforms; RFC 3339 needs four digits.
    text = f"{value.year:04d}-" + value.strftime("%m-%dT%H:%M:%S")
    if value.microsecond % 1000 == 0 and value.microsecond:
        text += f".{value.microsecond // 1000:03d}"
    elif value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


def parse_timestamp(text: str) -> datetime:
    """Read an RFC 3339 timestamp; raises ValueError when it is not one or has no offset."""
    if not isinstance(text, str) or len(text) < 20 or text[10] not in "Tt":
        raise ValueError(f"{text!r} is not an RFC 3339 timestamp")
    value = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1] in "Zz" else text)
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return value.astimezone(UTC)


def artifact_url(app: str, version: str, filename: str) -> str:
    return f"/api/apps/{app}/releases/{quote(version, safe='')}/artifacts/{quote(filename, safe='')}"


def render_app(app: App) -> dict[str, Any]:
    return {
        "slug": app.slug,
        "name": app.name,
        "created_at": timestamp(app.created_at),
        "default_channel": app.default_channel,
        "minisign_public_key": app.minisign_public_key,
        "ed25519_public_key": app.ed25519_public_key,
    }


def render_artifact(app: str, version: str, artifact: Artifact) -> dict[str, Any]:
    return {
        "filename": artifact.filename,
        "platform": artifact.platform,
        "sha256": artifact.sha256,
        "sha512": artifact.sha512,
        "sha1": artifact.sha1,
        "size": artifact.size,
        "content_type": artifact.content_type,
        "url": artifact_url(app, version, artifact.filename),
        "signatures": {"minisign": artifact.signatures.minisign, "ed25519": artifact.signatures.ed25519},
        "downloads": artifact.downloads,
    }


def render_release(release: Release) -> dict[str, Any]:
    return {
        "app": release.app,
        "version": release.version,
        "notes": release.notes,
        "status": release.status.value,
        "created_at": timestamp(release.created_at),
        "created_by": release.created_by,
        "artifacts": [render_artifact(release.app, release.version, a) for a in release.artifacts],
        "downloads": release.downloads,
    }


def render_stats(stats: Stats) -> dict[str, Any]:
    return {
        "app": stats.app,
        "from": stats.first_day.isoformat(),
        "to": stats.last_day.isoformat(),
        "downloads": stats.downloads,
        "checks": stats.checks,
        "days": [{"day": d.day.isoformat(), "downloads": d.downloads, "checks": d.checks} for d in stats.days],
        "downloads_by_version": [{"version": v.version, "count": v.count} for v in stats.downloads_by_version],
        "checks_by_version": [{"version": v.version, "count": v.count} for v in stats.checks_by_version],
    }


def render_rollout(rollout: Rollout, now: datetime) -> dict[str, Any]:
    """A rollout as it stands at `now`: its share, its schedule and when the share next grows."""
    schedule = rollout.schedule
    return {
        "version": rollout.version,
        "base": rollout.base,
        "percent": effective_percent(schedule, now),
        "ramp": list(schedule.steps) if schedule.every is not None else None,
        "every": render_interval(schedule.every) if schedule.every is not None else None,
        "state": state(schedule, now).value,
        "next_step_at": timestamp(next_step_at(schedule, now)),
    }


def render_channel(channel: Channel, now: datetime | None = None) -> dict[str, Any]:
    """The channel as it stands at `now` (the current time when not given): its rollout moves with time."""
    rollout = None
    if channel.rollout is not None:
        rollout = render_rollout(channel.rollout, now if now is not None else datetime.now(UTC))
    return {
        "app": channel.app,
        "name": channel.name,
        "release": channel.release,
        "updated_at": timestamp(channel.updated_at),
        "rollout": rollout,
    }


def render_channel_event(event: ChannelEvent) -> dict[str, Any]:
    return {"kind": event.kind.value, "version": event.version, "actor": event.actor, "at": timestamp(event.at)}


def render_token(token: Token, now: datetime) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "scopes": [s.value for s in token.scopes],
        "app": token.app,
        "channel": token.channel,
        "created_at": timestamp(token.created_at),
        "expires_at": timestamp(token.expires_at),
        "revoked_at": timestamp(token.revoked_at),
        "last_used_at": timestamp(token.last_used_at),
        "status": token.status(now).value,
    }


def render_audit_event(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": timestamp(event.at),
        "actor": event.actor,
        "action": event.action.value,
        "app": event.app,
        "target": event.target,
        "detail": event.detail,
    }


def render_webhook(webhook: Webhook) -> dict[str, Any]:
    """Never the signing secret: it is shown once, by the command that creates the webhook."""
    return {
        "id": webhook.id,
        "url": webhook.url,
        "events": list(webhook.events),
        "app": webhook.app,
        "created_at": timestamp(webhook.created_at),
    }


def render_delivery(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "webhook": delivery.webhook_id,
        "event": delivery.audit_event_id,
        "action": delivery.action.value,
        "message_id": delivery.message_id,
        "state": delivery.state.value,
        "attempts": delivery.attempts,
        "next_attempt_at": timestamp(delivery.next_attempt_at) if delivery.state == DeliveryState.PENDING else None,
        "last_attempt_at": timestamp(delivery.last_attempt_at),
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "created_at": timestamp(delivery.created_at),
        "delivered_at": timestamp(delivery.delivered_at),
    }
