"""API tokens: create (the secret is shown once), list, revoke, and authenticate a presented secret."""

from __future__ import annotations

from datetime import datetime

from dist.domain.entities import Token
from dist.domain.enums import AuditAction, Scope
from dist.domain.errors import Conflict, Invalid, NotFound, Unauthorized
from dist.domain.render import render_token
from dist.domain.rules import check_token, hash_token_secret, looks_like_token_secret, new_token_secret, parse_scopes
from dist.domain.values import MAX_ID, parse_channel_name, parse_slug, parse_token_name
from dist.persistence.uow import UnitOfWork
from dist.services.audit import record


def create_token(
    uow: UnitOfWork,
    *,
    name: str,
    scopes: list[str],
    app: str | None = None,
    channel: str | None = None,
    expires_at: datetime | None = None,
    actor: str,
) -> tuple[Token, str]:
    """Create a token and return it with its secret, which is stored only as its SHA-256 and never again
    shown."""
    parse_token_name(name)
    parsed_scopes = parse_scopes(scopes)
    if app is not None:
        parse_slug(app)
    if channel is not None:
        parse_channel_name(channel)
    if expires_at is not None and expires_at.tzinfo is None:
        raise Invalid("token.invalid_expiry", "the expiry time needs a time zone, e.g. 2027-01-01T00:00:00Z")
    with uow.write():
        now = uow.clock()
        if expires_at is not None and expires_at <= now:
            raise Invalid("token.invalid_expiry", "the expiry time is in the past")
        secret = new_token_secret()
        token = uow.tokens.add(
            Token(name=name, scopes=parsed_scopes, app=app, channel=channel, created_at=now, expires_at=expires_at),
            hash_token_secret(secret),
        )
        record(
            uow,
            actor=actor,
            action=AuditAction.TOKEN_CREATED,
            app=app,
            target=str(token.id),
            detail=render_token(token, now),
        )
        uow.commit()
        return token, secret


def list_tokens(uow: UnitOfWork) -> list[Token]:
    """Every token, oldest first. Secrets are never stored, so never listed."""
    with uow.read():
        return uow.tokens.all()


def revoke_token(uow: UnitOfWork, *, token_id: int, actor: str) -> Token:
    """Revoke a token: `token.not_found` for an unknown id, `token.already_revoked` the second time."""
    with uow.write():
        token = uow.tokens.get(token_id) if 1 <= token_id <= MAX_ID else None
        if token is None:
            raise NotFound("token.not_found", f"there is no token {token_id}")
        if token.revoked_at is not None:
            raise Conflict("token.already_revoked", f"token {token_id} was already revoked")
        now = uow.clock()
        uow.tokens.revoke(token, now)
        record(
            uow,
            actor=actor,
            action=AuditAction.TOKEN_REVOKED,
            app=token.app,
            target=str(token.id),
            detail=render_token(token, now),
        )
        uow.commit()
        return token


def authenticate(uow: UnitOfWork, *, secret: str, scope: Scope, app: str = "", channel: str = "") -> Token:
    """The token whose secret this is, allowed `scope` on `app` and `channel`; stamps its last use.

    `auth.malformed` for something that is not a dist token, `auth.unknown` for a token this store never
    issued, then the refusals of `check_token`.
    """
    if not looks_like_token_secret(secret):
        raise Unauthorized("auth.malformed", "the bearer token is not a dist token (dist_ and 64 hex digits)")
    with uow.write():
        token = uow.tokens.find_by_hash(hash_token_secret(secret))
        if token is None:
            raise Unauthorized("auth.unknown", "this token is not known to this server")
        now = uow.clock()
        check_token(token, scope, app or None, channel or None, now)
        uow.tokens.mark_used(token, now)
        uow.commit()
        return token
