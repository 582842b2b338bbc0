"""Rules about channels, releases and tokens, as plain functions over entities."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime

from dist.domain.entities import Token
from dist.domain.enums import ChannelEventKind, Scope
from dist.domain.errors import Conflict, Forbidden, Invalid

TOKEN_PREFIX = "dist_"


def replay(events: Iterable[tuple[ChannelEventKind, int]]) -> list[int]:
    """The stack of release ids a channel's events build: a promote pushes, a rollback pops to its target."""
    stack: list[int] = []
    for kind, release_id in events:
        if kind is ChannelEventKind.PROMOTE:
            stack.append(release_id)
        else:
            # A rollback always pops the top, even when it lands on an earlier promote of the same release.
            if stack:
                stack.pop()
            while stack and stack[-1] != release_id:
                stack.pop()
            if not stack:
                stack.append(release_id)
    return stack


def rollback_target(stack: Sequence[int], yanked: set[int], to: int | None = None) -> int:
    """Where a rollback lands: the release below the top, or `to`, never a yanked one.

    Raises `channel.nothing_to_roll_back` when nothing is below, and `channel.not_in_history`
    when `to` is not below the top.
    """
    below = list(stack[:-1])
    if to is not None:
        if stack and stack[-1] == to:
            raise Conflict("channel.unchanged", "the channel already serves that release")
        if to in yanked:
            raise Conflict("release.yanked", "that release is yanked; a rollback never lands on a yanked release")
        if to not in below:
            raise Conflict(
                "channel.not_in_history",
                "that version is not below the channel's current release in its promote history",
            )
        return to
    while below:
        candidate = below.pop()
        if candidate not in yanked:
            return candidate
    raise Conflict("channel.nothing_to_roll_back", "the channel has no earlier release to roll back to")


def new_token_secret() -> str:
    """A fresh token secret, `dist_` and 64 hex digits from the OS CSPRNG."""
    return TOKEN_PREFIX + secrets.token_hex(32)


def hash_token_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def looks_like_token_secret(secret: str) -> bool:
    body = secret[len(TOKEN_PREFIX) :]
    return secret.startswith(TOKEN_PREFIX) and len(body) == 64 and all(c in "0123456789abcdef" for c in body)


def parse_scopes(values: Iterable[str]) -> list[Scope]:
    scopes: list[Scope] = []
    for value in values:
        try:
            scope = Scope(value)
        except ValueError:
            raise Invalid("token.invalid_scope", f"{value!r} is not a scope: use publish, admin or metrics") from None
        if scope not in scopes:
            scopes.append(scope)
    if not scopes:
        raise Invalid("token.invalid_scope", "a token needs at least one scope: publish, admin or metrics")
    return scopes


def check_token(token: Token, scope: Scope, app: str | None, channel: str | None, now: datetime) -> None:
    """Refuse `token` for this use, in the order revoked, expired, scope, app, channel; else return.

    `admin` includes `publish`. An empty requested `app` or `channel` passes its gate.
    """
    if token.revoked_at is not None:
        raise Forbidden("auth.revoked", "this token has been revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise Forbidden("auth.expired", "this token has expired")
    if scope not in token.scopes and Scope.ADMIN not in token.scopes:
        raise Forbidden("auth.missing_scope", f"this token lacks the {scope.value} scope")
    if app and token.app is not None and token.app != app:
        raise Forbidden("auth.app_forbidden", f"this token may not act on app {app!r}")
    if channel and token.channel is not None and token.channel != channel:
        raise Forbidden("auth.channel_forbidden", f"this token may not act on channel {channel!r}")
