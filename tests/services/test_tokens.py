"""Token services: create, list, revoke, authenticate, and the secret never stored."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from sqlalchemy import text

from dist.domain.enums import AuditAction, Scope, TokenStatus
from dist.domain.render import render_audit_event, render_token
from dist.persistence.store import Store
from dist.persistence.uow import UnitOfWork
from dist.services import audit, tokens
from tests.conftest import Clock
from tests.services.conftest import ACTOR, refused, row_counts


def test_create_returns_the_secret_once_and_stores_only_its_hash(store: Store, uow: UnitOfWork) -> None:
    token, secret = tokens.create_token(uow, name="ci", scopes=["publish", "admin"], app="demo", actor=ACTOR)
    assert re.fullmatch(r"dist_[0-9a-f]{64}", secret)
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM tokens")).mappings().all()
        audit_rows = connection.execute(text("SELECT * FROM audit_events")).mappings().all()
    assert len(rows) == 1 and rows[0]["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    everything = repr([dict(r) for r in rows]) + repr([dict(r) for r in audit_rows])
    assert secret not in everything and secret[5:] not in everything
    assert rows[0]["token_hash"] not in repr([dict(r) for r in audit_rows])
    if store.location.embedded:
        raw = b"".join(p.read_bytes() for p in store.location.root.glob("dist.db*"))
        assert secret[5:].encode() not in raw
    listed = tokens.list_tokens(uow)
    assert [(t.id, t.name, t.scopes, t.app, t.channel) for t in listed] == [
        (token.id, "ci", [Scope.PUBLISH, Scope.ADMIN], "demo", None)
    ]
    assert secret not in repr(listed) and secret not in repr([render_audit_event(e) for e in audit.list_events(uow)])


def test_authenticate_stamps_last_use_and_refuses_with_distinct_codes(uow: UnitOfWork, clock: Clock) -> None:
    token, secret = tokens.create_token(
        uow,
        name="ci",
        scopes=["publish"],
        app="demo",
        channel="beta",
        expires_at=clock() + timedelta(days=1),
        actor=ACTOR,
    )
    assert tokens.list_tokens(uow)[0].last_used_at is None
    used_at = clock.advance(hours=1)
    assert tokens.authenticate(uow, secret=secret, scope=Scope.PUBLISH, app="demo", channel="beta").id == token.id
    assert tokens.list_tokens(uow)[0].last_used_at == used_at
    clock.advance(hours=1)
    # An empty app or channel (an upload) passes those gates.
    tokens.authenticate(uow, secret=secret, scope=Scope.PUBLISH)
    refusals = [
        ("auth.malformed", dict(secret="Bearer nope", scope=Scope.PUBLISH)),
        ("auth.unknown", dict(secret="dist_" + "0" * 64, scope=Scope.PUBLISH)),
        ("auth.missing_scope", dict(secret=secret, scope=Scope.ADMIN)),
        ("auth.app_forbidden", dict(secret=secret, scope=Scope.PUBLISH, app="other", channel="beta")),
        ("auth.channel_forbidden", dict(secret=secret, scope=Scope.PUBLISH, app="demo", channel="stable")),
    ]
    for code, arguments in refusals:
        clock.advance(minutes=1)
        assert refused(lambda arguments=arguments: tokens.authenticate(uow, **arguments)).code == code
    # A refused use is no use.
    assert tokens.list_tokens(uow)[0].last_used_at == used_at + timedelta(hours=1)
    clock.advance(days=1)
    assert refused(lambda: tokens.authenticate(uow, secret=secret, scope=Scope.PUBLISH)).code == "auth.expired"
    assert tokens.list_tokens(uow)[0].status(clock()) is TokenStatus.EXPIRED


def test_revoke_then_revoke_again_and_unknown_ids(store: Store, uow: UnitOfWork, clock: Clock) -> None:
    token, secret = tokens.create_token(uow, name="ci", scopes=["admin"], actor=ACTOR)
    revoked_at = clock.advance(minutes=5)
    revoked = tokens.revoke_token(uow, token_id=token.id or 0, actor="cli:bob")
    assert revoked.revoked_at == revoked_at
    assert render_token(tokens.list_tokens(uow)[0], clock())["status"] == "revoked"
    before = row_counts(store)
    error = refused(lambda: tokens.revoke_token(uow, token_id=token.id or 0, actor=ACTOR))
    assert (error.code, error.kind) == ("token.already_revoked", "conflict")
    for unknown in (999, 0, -1, 2**31, 2**63):
        error = refused(lambda unknown=unknown: tokens.revoke_token(uow, token_id=unknown, actor=ACTOR))
        assert (error.code, error.kind) == ("token.not_found", "not_found")
    assert refused(lambda: tokens.authenticate(uow, secret=secret, scope=Scope.PUBLISH)).code == "auth.revoked"
    assert row_counts(store) == before
    events = audit.list_events(uow)
    assert [(e.action, e.actor, e.target) for e in events] == [
        (AuditAction.TOKEN_CREATED, ACTOR, str(token.id)),
        (AuditAction.TOKEN_REVOKED, "cli:bob", str(token.id)),
    ]


def test_create_refuses_bad_input_and_writes_nothing(store: Store, uow: UnitOfWork, clock: Clock) -> None:
    cases = [
        ("token.invalid_scope", dict(name="t", scopes=["read"])),
        ("token.invalid_scope", dict(name="t", scopes=[])),
        ("token.invalid_name", dict(name="", scopes=["publish"])),
        ("token.invalid_name", dict(name="ci\ud800", scopes=["publish"])),
        ("app.invalid_slug", dict(name="t", scopes=["publish"], app="../x")),
        ("channel.invalid_name", dict(name="t", scopes=["publish"], channel="%2e%2e")),
        ("token.invalid_expiry", dict(name="t", scopes=["publish"], expires_at=clock())),
    ]
    for code, arguments in cases:
        assert refused(lambda arguments=arguments: tokens.create_token(uow, actor=ACTOR, **arguments)).code == code
    assert row_counts(store) == dict.fromkeys(row_counts(store), 0)


def test_token_limits_are_names_not_foreign_keys(uow: UnitOfWork) -> None:
    _, secret = tokens.create_token(uow, name="ci", scopes=["publish"], app="future", actor=ACTOR)
    assert tokens.authenticate(uow, secret=secret, scope=Scope.PUBLISH, app="future").app == "future"
    assert [t.status(t.created_at) for t in tokens.list_tokens(uow)] == [TokenStatus.ACTIVE]
