"""The one JSON rendering of each entity, and RFC 3339 timestamps with `Z`."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dist.domain import rollouts
from dist.domain.entities import App, Artifact, AuditEvent, Channel, ChannelEvent, Release, Token
from dist.domain.enums import AuditAction, ChannelEventKind, ReleaseStatus, Scope
from dist.domain.render import (
    parse_timestamp,
    render_app,
    render_audit_event,
    render_channel,
    render_channel_event,
    render_release,
    render_token,
    timestamp,
)
from dist.domain.rollouts import Rollout
from dist.domain.signatures import Signatures

RFC3339_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3}|\.\d{6})?Z")
AT = datetime(2026, 3, 4, 5, 6, 7, 250000, tzinfo=UTC)

zones = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
moments = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.one_of(st.just(UTC), zones)
)


@given(moments)
def test_timestamps_are_rfc3339_utc_and_read_back(moment: datetime) -> None:
    text = timestamp(moment)
    assert text is not None and RFC3339_UTC.fullmatch(text), text
    back = parse_timestamp(text)
    assert back == moment and back.utcoffset() == timedelta(0)


def test_timestamp_precision() -> None:
    assert timestamp(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"
    assert timestamp(AT) == "2026-03-04T05:06:07.250Z"
    assert timestamp(AT.replace(microsecond=1)) == "2026-03-04T05:06:07.000001Z"
    assert timestamp(datetime(2026, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))) == "2025-12-31T23:00:00Z"
    assert timestamp(None) is None


@pytest.mark.parametrize(
    "text", ["2026-01-01", "2026-01-01T00:00:00", "2026-01-01 00:00:00Z", "yesterday", "", "2026-13-01T00:00:00Z"]
)
def test_parse_timestamp_refuses_what_is_not_rfc3339_with_offset(text: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_parse_timestamp_converts_offsets_to_utc() -> None:
    assert parse_timestamp("2026-01-01T02:00:00+02:00") == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_timestamp("2026-01-01T00:00:00.5z") == datetime(2026, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)


def test_renderings_have_exactly_the_documented_shapes() -> None:
    artifact = Artifact(
        "my app.tar.gz",
        "linux-x86_64",
        "ab" * 32,
        12,
        "application/gzip",
        signatures=Signatures(ed25519="c2ln"),
        sha512="cd" * 64,
        sha1="ef" * 20,
        downloads=7,
        id=3,
    )
    release = Release("demo", "1.0.0+build.1", "notes", ReleaseStatus.PUBLISHED, AT, "cli:alice", [artifact], id=9)
    rendered = render_release(release)
    assert rendered == {
        "app": "demo",
        "version": "1.0.0+build.1",
        "notes": "notes",
        "status": "published",
        "created_at": "2026-03-04T05:06:07.250Z",
        "created_by": "cli:alice",
        "artifacts": [
            {
                "filename": "my app.tar.gz",
                "platform": "linux-x86_64",
                "sha256": "ab" * 32,
                "sha512": "cd" * 64,
                "sha1": "ef" * 20,
                "size": 12,
                "content_type": "application/gzip",
                "url": "/api/apps/demo/releases/1.0.0%2Bbuild.1/artifacts/my%20app.tar.gz",
                "signatures": {"minisign": None, "ed25519": "c2ln"},
                "downloads": 7,
            }
        ],
        "downloads": 7,
    }
    assert render_app(App("demo", "Demo", AT, id=1)) == {
        "slug": "demo",
        "name": "Demo",
        "created_at": "2026-03-04T05:06:07.250Z",
        "default_channel": "stable",
        "minisign_public_key": None,
        "ed25519_public_key": None,
    }
    assert render_channel(Channel("demo", "beta", None, AT, AT, id=2)) == {
        "app": "demo",
        "name": "beta",
        "release": None,
        "updated_at": "2026-03-04T05:06:07.250Z",
        "rollout": None,
    }
    rolling = Channel("demo", "beta", "2.0.0", AT, AT, id=2)
    rolling.rollout = Rollout("2.0.0", "1.0.0", rollouts.ramp([5, 50, 100], timedelta(hours=24), AT))
    assert render_channel(rolling, AT + timedelta(hours=25))["rollout"] == {
        "version": "2.0.0",
        "base": "1.0.0",
        "percent": 50,
        "ramp": [5, 50, 100],
        "every": "24h",
        "state": "rolling",
        "next_step_at": "2026-03-06T05:06:07.250Z",
    }
    assert render_channel_event(ChannelEvent(ChannelEventKind.ROLLBACK, "1.0.0", "token:4", AT)) == {
        "kind": "rollback",
        "version": "1.0.0",
        "actor": "token:4",
        "at": "2026-03-04T05:06:07.250Z",
    }
    event = AuditEvent(AT, "cli:alice", AuditAction.RELEASE_YANKED, "demo", "1.0.0", {"version": "1.0.0"}, id=5)
    assert render_audit_event(event) == {
        "id": 5,
        "at": "2026-03-04T05:06:07.250Z",
        "actor": "cli:alice",
        "action": "release_yanked",
        "app": "demo",
        "target": "1.0.0",
        "detail": {"version": "1.0.0"},
    }
    assert json.loads(json.dumps(rendered)) == rendered


def test_a_token_renders_its_status_and_limits_but_nothing_secret() -> None:
    token = Token("ci", [Scope.ADMIN, Scope.PUBLISH], "demo", None, AT, expires_at=AT + timedelta(days=1), id=7)
    assert render_token(token, AT) == {
        "id": 7,
        "name": "ci",
        "scopes": ["admin", "publish"],
        "app": "demo",
        "channel": None,
        "created_at": "2026-03-04T05:06:07.250Z",
        "expires_at": "2026-03-05T05:06:07.250Z",
        "revoked_at": None,
        "last_used_at": None,
        "status": "active",
    }
    assert render_token(token, AT + timedelta(days=1))["status"] == "expired"
    token.revoked_at = AT
    assert render_token(token, AT)["status"] == "revoked"
