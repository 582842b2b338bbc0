"""Tokens in the domain: check_token against a plain model of docs/concepts.md, secrets, and status."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dist.domain.entities import Token
from dist.domain.enums import Scope, TokenStatus
from dist.domain.errors import DistError, ErrorKind
from dist.domain.rules import (
    check_token,
    hash_token_secret,
    looks_like_token_secret,
    new_token_secret,
    parse_scopes,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
APPS = ["demo", "other"]
CHANNELS = ["stable", "beta"]
SECRET_RE = re.compile(r"dist_[0-9a-f]{64}")

offsets = st.integers(-3, 3).map(lambda n: NOW + timedelta(seconds=n))


@st.composite
def tokens(draw: st.DrawFn) -> Token:
    return Token(
        name="t",
        scopes=draw(st.lists(st.sampled_from(list(Scope)), unique=True, max_size=2)),
        app=draw(st.one_of(st.none(), st.sampled_from(APPS))),
        channel=draw(st.one_of(st.none(), st.sampled_from(CHANNELS))),
        created_at=NOW - timedelta(days=1),
        expires_at=draw(st.one_of(st.none(), offsets)),
        revoked_at=draw(st.one_of(st.none(), offsets)),
    )


def model(token: Token, scope: Scope, app: str | None, channel: str | None, now: datetime) -> str | None:
    """Every gate of docs/concepts.md judged on its own; the refusal is the first failing gate in documented order."""
    grants = set(token.scopes) | (set(Scope) if Scope.ADMIN in token.scopes else set())
    failing = {
        "auth.revoked": token.revoked_at is not None,
        "auth.expired": token.expires_at is not None and not now < token.expires_at,
        "auth.missing_scope": scope not in grants,
        "auth.app_forbidden": bool(app) and token.app not in (None, app),
        "auth.channel_forbidden": bool(channel) and token.channel not in (None, channel),
    }
    order = ["auth.revoked", "auth.expired", "auth.missing_scope", "auth.app_forbidden", "auth.channel_forbidden"]
    return next((code for code in order if failing[code]), None)


requested = st.one_of(st.none(), st.just(""))


@given(
    tokens(),
    st.sampled_from(list(Scope)),
    st.one_of(requested, st.sampled_from(APPS)),
    st.one_of(requested, st.sampled_from(CHANNELS)),
    offsets,
)
def test_check_token_matches_the_model(
    token: Token, scope: Scope, app: str | None, channel: str | None, now: datetime
) -> None:
    try:
        check_token(token, scope, app, channel, now)
        refused = None
    except DistError as error:
        assert error.kind is ErrorKind.FORBIDDEN
        refused = error.code
    assert refused == model(token, scope, app, channel, now)


@given(tokens(), offsets)
def test_status_agrees_with_the_first_two_gates(token: Token, now: datetime) -> None:
    expected = model(token, Scope.PUBLISH, None, None, now)
    status = token.status(now)
    assert {
        TokenStatus.REVOKED: expected == "auth.revoked",
        TokenStatus.EXPIRED: expected == "auth.expired",
        TokenStatus.ACTIVE: expected not in ("auth.revoked", "auth.expired"),
    }[status]


def test_expiry_is_judged_against_the_clock_given() -> None:
    token = Token("ci", [Scope.PUBLISH], None, None, created_at=NOW, expires_at=NOW + timedelta(hours=1))
    check_token(token, Scope.PUBLISH, "demo", "beta", NOW + timedelta(minutes=59))
    with pytest.raises(DistError) as refused:
        check_token(token, Scope.PUBLISH, "demo", "beta", NOW + timedelta(hours=1))
    assert refused.value.code == "auth.expired"


def test_publish_scope_cannot_yank_but_admin_can_publish() -> None:
    publisher = Token("ci", [Scope.PUBLISH], None, None, created_at=NOW)
    admin = Token("ops", [Scope.ADMIN], None, None, created_at=NOW)
    with pytest.raises(DistError) as refused:
        check_token(publisher, Scope.ADMIN, None, None, NOW)
    assert refused.value.code == "auth.missing_scope"
    check_token(admin, Scope.PUBLISH, "demo", "stable", NOW)


def test_secrets_are_fresh_and_hash_to_their_sha256() -> None:
    secrets = {new_token_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert SECRET_RE.fullmatch(secret)
        assert looks_like_token_secret(secret)
        assert hash_token_secret(secret) == hashlib.sha256(secret.encode()).hexdigest()


@given(st.one_of(st.text(max_size=80), st.text("0123456789abcdefABCDEF_dist", min_size=60, max_size=72)))
def test_only_dist_secrets_look_like_one(text: str) -> None:
    assert looks_like_token_secret(text) is (SECRET_RE.fullmatch(text) is not None)


def test_scopes_keep_their_order_and_refuse_unknown_ones() -> None:
    assert parse_scopes(["admin", "publish", "admin"]) == [Scope.ADMIN, Scope.PUBLISH]
    for bad in (["read"], [], ["Publish"]):
        with pytest.raises(DistError) as refused:
            parse_scopes(bad)
        assert refused.value.code == "token.invalid_scope"
