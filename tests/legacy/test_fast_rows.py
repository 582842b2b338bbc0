"""The importer's fast paths accept exactly what its full checks accept, and give the same rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from dist.domain.errors import DistError
from dist.persistence.legacy.bulk import sqlite_utc_text
from dist.persistence.legacy.records import (
    Fields,
    artifact_row,
    audit_row,
    fast_artifact_row,
    fast_audit_row,
    fast_release_row,
    release_row,
)
from dist.persistence.models.base import UTCDateTime

SHA = "a" * 64
PLUS_5_30 = timezone(timedelta(hours=5, minutes=30))
# Per member: values a record may hold, good ones first. Each bad one breaks some rule of docs/legacy.md.
VALUES: dict[str, list[Any]] = {
    "id": [7, 2**31 - 1, 0, -3, 2**31, "7", 7.0, True, None],
    "app_id": [3, 0, "3", None, 2**31],
    "release_id": [5, 0, False, None, 2**40],
    "version": ["1.2.3", "1.0.0-rc.1+b.5", "1.0", "01.0.0", "1.0.0-", "\u0661.0.0", 1, None],
    "notes": ["", "Schnell — äöü", "x" * 3000, "a\x00b", "\ud800", 5, None],
    "status": ["published", "yanked", "deleted", "Published", None, ["published"]],
    "created_at": [
        "2025-03-01T12:00:00Z",
        "2025-03-01T12:00:00.250+02:00",
        "2025-03-01t12:00:00z",
        "2025-02-30T12:00:00Z",
        "2025-03-01T12:00:00",
        "2025-03-01 12:00:00Z",
        "yesterday",
        20250301,
        None,
    ],
    "created_by": ["cli:alice", "", "x" * 255, "x" * 256, "a\x00", 3, None],
    "filename": ["app.tar.gz", "..", "a/b", "%2e%2e", "a\x7fb", "x" * 256, "", 1, None],
    "platform": ["linux-x86_64", "any", "Linux", "linux-", "x" * 65, None],
    "sha256": [SHA, SHA.upper(), SHA[:63], 1, None],
    "size": [0, 10, 2**63 - 1, 2**63, -1, 1.5, True, "10", None],
    "content_type": ["application/octet-stream", "x" * 256, "\ud83d", None, 1],
    "at": ["2024-01-01T00:00:00Z", "2024-13-01T00:00:00Z", "", None],
    "actor": ["token:3", "x" * 256, None, 4],
    "action": ["app_created", "token_revoked", "app_deleted", None, 1],
    "app": [None, "web-app", "Web App", "x" * 300, 5],
    "target": [None, "1.0.0", "x" * 256, "\x00", 7],
    "detail": [{}, {"k": [1, 2]}, [], "x", None],
}
KINDS: dict[str, tuple[str, Callable[[Any], Any], Callable[[Fields], Any], list[str]]] = {
    "release": (
        "releases",
        fast_release_row,
        release_row,
        ["id", "app_id", "version", "notes", "status", "created_at", "created_by"],
    ),
    "artifact": (
        "artifacts",
        fast_artifact_row,
        artifact_row,
        ["id", "release_id", "filename", "platform", "sha256", "size", "content_type"],
    ),
    "audit": ("audit", fast_audit_row, audit_row, ["id", "at", "actor", "action", "app", "target", "detail"]),
}


def full(kind: str, item: Any) -> Any:
    member, _, row, _ = KINDS[kind]
    return row(Fields(member, 0, item))


@st.composite
def records(draw: st.DrawFn, kind: str) -> Any:
    """A record of `kind`: each member good, bad or absent; sometimes not an object at all."""
    if draw(st.integers(0, 20)) == 0:
        return draw(st.sampled_from([None, [], "record", 3]))
    item = {}
    for member in KINDS[kind][3]:
        choice = draw(st.integers(0, 6))
        if choice == 0:
            continue
        # Mostly a good value, so that records with a single defect are common.
        item[member] = VALUES[member][0 if choice < 4 else draw(st.integers(0, len(VALUES[member]) - 1))]
    return item


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_fast_row_is_the_full_checks_row(kind: str) -> None:
    @settings(max_examples=400, deadline=None)
    @given(records(kind))
    def check(item: Any) -> None:
        fast = KINDS[kind][1](item)
        if fast is None:
            return
        # Whatever the fast path accepts, the full checks accept too, with the same row.
        assert full(kind, item) == fast

    check()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_good_value_takes_the_fast_path(kind: str) -> None:
    _, fast_row, _, members = KINDS[kind]
    for name in members:
        for value in VALUES[name]:
            item = {m: VALUES[m][0] for m in members} | {name: value}
            try:
                expected = full(kind, item)
            except DistError:
                assert fast_row(item) is None, (name, value)
                continue
            assert fast_row(item) == expected, (name, value)


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.sampled_from([UTC, PLUS_5_30])
    )
)
def test_sqlite_timestamps_are_stored_as_sqlalchemy_stores_them(value: datetime) -> None:
    dialect = sqlite.dialect()
    processor = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert processor is not None
    assert sqlite_utc_text(value) == processor(value)
