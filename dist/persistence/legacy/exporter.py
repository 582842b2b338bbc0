"""Writing the records of a database as a legacy db.json, streamed: a batch of rows in memory at a time.

Every member of every record is written, defaults included, in the order of docs/legacy.md; records in id
order, a channel's history in the order of its events. Timestamps are rendered as everywhere else.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import IO, Any

from sqlalchemy import Connection, Select, select
from sqlalchemy.orm import Session

from dist.domain.render import timestamp
from dist.persistence.legacy.loader import (
    APPS,
    ARTIFACTS,
    AUDIT,
    CHANNEL_EVENTS,
    CHANNELS,
    MEMBERS,
    PROGRESS_EVERY,
    RELEASES,
    ROLLOUTS,
    TOKENS,
    WEBHOOKS,
)
from dist.persistence.maintenance import STREAM_BATCH, Progress, no_progress


def snapshot(session: Session) -> Connection:
    """The session's connection, in a transaction that reads one instant of the database throughout (under
    PostgreSQL's default, read committed, each query would see a later one)."""
    options = {"isolation_level": "REPEATABLE READ"} if session.get_bind().dialect.name == "postgresql" else {}
    return session.connection(execution_options=options)


def _rows(connection: Connection, query: Select[Any]) -> Iterator[Any]:
    yield from connection.execution_options(yield_per=STREAM_BATCH).execute(query)


def _app(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "slug": row.slug,
        "name": row.name,
        "created_at": timestamp(row.created_at),
        "default_channel": row.default_channel,
        "minisign_public_key": row.minisign_public_key,
        "ed25519_public_key": row.ed25519_public_key,
    }


def _release(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "app_id": row.app_id,
        "version": row.version,
        "notes": row.notes,
        "status": row.status.value,
        "created_at": timestamp(row.created_at),
        "created_by": row.created_by,
    }


def _artifact(row: Any) -> dict[str, Any]:
    record = {
        "id": row.id,
        "release_id": row.release_id,
        "filename": row.filename,
        "platform": row.platform,
        "sha256": row.sha256,
        "size": row.size,
        "content_type": row.content_type,
    }
    # Optional: written only for a signed artifact, so that unsigned ones read as in older stores.
    signatures = {
        kind: value
        for kind, value in (("minisign", row.minisign_signature), ("ed25519", row.ed25519_signature))
        if value is not None
    }
    if signatures:
        record["signatures"] = signatures
    return record


def _token(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "token_hash": row.token_hash,
        "scopes": row.scopes,
        "app": row.app,
        "channel": row.channel,
        "created_at": timestamp(row.created_at),
        "expires_at": timestamp(row.expires_at),
        "revoked_at": timestamp(row.revoked_at),
        "last_used_at": timestamp(row.last_used_at),
    }


def _audit(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": timestamp(row.at),
        "actor": row.actor,
        "action": row.action.value,
        "app": row.app,
        "target": row.target,
        "detail": row.detail,
    }


def _webhook(row: Any) -> dict[str, Any]:
    # The secret goes with it: a restored webhook signs as before, and its receivers keep their configuration.
    return {
        "id": row.id,
        "url": row.url,
        "events": row.events,
        "app": row.app,
        "secret": row.secret,
        "created_at": timestamp(row.created_at),
    }


def _channels(connection: Connection) -> Iterator[dict[str, Any]]:
    """Channels with their histories: two streams in channel order, merged."""
    # A channel has one rollout at most, and few channels roll out at once: they are read in one go, first.
    rollouts = {r.channel_id: r for r in connection.execute(select(ROLLOUTS))}
    events = _rows(connection, select(CHANNEL_EVENTS).order_by(CHANNEL_EVENTS.c.channel_id, CHANNEL_EVENTS.c.id))
    event = next(events, None)
    for row in _rows(connection, select(CHANNELS).order_by(CHANNELS.c.id)):
        # Events of channels that do not exist (a database edited by hand) have no place in the format.
        while event is not None and event.channel_id < row.id:
            event = next(events, None)
        history = []
        while event is not None and event.channel_id == row.id:
            history.append(
                {
                    "kind": event.kind.value,
                    "release_id": event.release_id,
                    "at": timestamp(event.at),
                    "actor": event.actor,
                }
            )
            event = next(events, None)
        record = {
            "id": row.id,
            "app_id": row.app_id,
            "name": row.name,
            "release_id": row.release_id,
            "created_at": timestamp(row.created_at),
            "history": history,
        }
        rollout = rollouts.get(row.id)
        if rollout is not None:
            record["rollout"] = {
                "release_id": rollout.release_id,
                "base_release_id": rollout.base_release_id,
                "steps": list(rollout.steps),
                "every_seconds": rollout.every_seconds,
                "started_at": timestamp(rollout.started_at),
                "halted_at": timestamp(rollout.halted_at),
                "halted_microseconds": rollout.halted_microseconds,
            }
        yield record


def _records(connection: Connection, member: str) -> Iterator[dict[str, Any]]:
    simple: dict[str, tuple[Any, Callable[[Any], dict[str, Any]]]] = {
        "apps": (APPS, _app),
        "releases": (RELEASES, _release),
        "artifacts": (ARTIFACTS, _artifact),
        "tokens": (TOKENS, _token),
        "audit": (AUDIT, _audit),
        "webhooks": (WEBHOOKS, _webhook),
    }
    if member == "channels":
        yield from _channels(connection)
        return
    table, render = simple[member]
    for row in _rows(connection, select(table).order_by(table.c.id)):
        yield render(row)


def write_document(connection: Connection, out: IO[str], progress: Progress = no_progress) -> dict[str, int]:
    """Write every record as one db.json document to `out`; returns the records written per member."""
    counts = {}
    out.write("{")
    for number, member in enumerate(MEMBERS):
        out.write(f'{"," if number else ""}\n "{member}": [')
        count = 0
        for count, record in enumerate(_records(connection, member), start=1):
            out.write(("\n  " if count == 1 else ",\n  ") + json.dumps(record, ensure_ascii=False))
            if count % PROGRESS_EVERY == 0:
                progress(f"exporting {member}", count, None)
        out.write("\n ]" if count else "]")
        counts[member] = count
        progress(f"exporting {member}", count, count)
    out.write("\n}\n")
    return counts
