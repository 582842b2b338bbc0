"""`dist token create|list|revoke`."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated

from cyclopts import App, Parameter

from dist.cli import views
from dist.cli.backend import backend
from dist.cli.context import JsonFlag, print_json
from dist.cli.errors import UsageError
from dist.domain.enums import Scope
from dist.domain.render import parse_timestamp, render_token, timestamp

token_app = App(name="token", help="Create, list and revoke API tokens for publishers and CI.")

DURATION_RE = re.compile(r"([1-9][0-9]{0,5})([mhdw])")
DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """`90m`, `12h`, `30d`, `2w`."""
    match = DURATION_RE.fullmatch(text.strip())
    if match is None:
        raise UsageError(
            "token.invalid_duration", f"{text!r} is not a duration; use a number and m, h, d or w, e.g. 30d or 12h"
        )
    amount, unit = match.groups()
    return timedelta(**{DURATION_UNITS[unit]: int(amount)})


def _expiry(expires_in: str | None, expires_at: str | None, now: datetime) -> datetime | None:
    if expires_in is not None and expires_at is not None:
        raise UsageError("usage.conflicting_options", "give --expires-in or --expires-at, not both")
    if expires_in is not None:
        return now + parse_duration(expires_in)
    if expires_at is not None:
        try:
            return parse_timestamp(expires_at)
        except ValueError:
            raise UsageError(
                "token.invalid_timestamp", f"{expires_at!r} is not an RFC 3339 time, e.g. 2026-12-31T23:59:59Z"
            ) from None
    return None


@token_app.command(name="create")
def create(
    *,
    name: Annotated[str, Parameter(help="What the token is for, e.g. the CI pipeline's name.")],
    scope: Annotated[
        list[Scope],
        Parameter(
            negative=(),
            help="publish (upload, publish, promote, rollback), admin (also yank, and all the others) or metrics "
            "(read /metrics). Repeatable.",
        ),
    ],
    app: Annotated[str | None, Parameter(help="Only for this app (default: every app).")] = None,
    channel: Annotated[str | None, Parameter(help="Only for this channel (default: every channel).")] = None,
    expires_in: Annotated[str | None, Parameter(help="Expire after this long: 90m, 12h, 30d, 2w.")] = None,
    expires_at: Annotated[str | None, Parameter(help="Expire at this RFC 3339 time.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a token and print its secret, which is shown this once and never again."""
    with backend() as store:
        expiry = _expiry(expires_in, expires_at, store.now())
        token, secret = store.create_token(
            name=name, scopes=[s.value for s in scope], app=app, channel=channel, expires_at=expiry
        )
        now = store.now()
    if as_json:
        print_json({**render_token(token, now), "secret": secret})
        return
    views.line(f"Created token {token.id} ({token.name}), scopes {', '.join(s.value for s in token.scopes)}")
    if token.expires_at is not None:
        views.line(f"expires {timestamp(token.expires_at)}")
    views.line(secret)
    views.line("Copy this secret now: it will not be shown again.")


@token_app.command(name="list")
def list_(*, as_json: JsonFlag = False) -> None:
    """List tokens: id, name, scopes, limits, status and last use. Secrets are never shown."""
    with backend() as store:
        found = store.list_tokens()
        now = store.now()
    if as_json:
        print_json({"tokens": [render_token(t, now) for t in found]})
    else:
        views.tokens_table(found, now)


@token_app.command(name="revoke")
def revoke(token_id: Annotated[int, Parameter(name="ID")], /, *, as_json: JsonFlag = False) -> None:
    """Revoke a token: it is refused from now on."""
    with backend() as store:
        token = store.revoke_token(token_id)
        now = store.now()
    if as_json:
        print_json(render_token(token, now))
    else:
        views.line(f"Revoked token {token.id} ({token.name})")
