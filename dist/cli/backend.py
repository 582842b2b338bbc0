"""What the commands work on: a local store (the services over a unit of work) or a remote distd (the HTTP
client). Both return the domain's entities, so each command has one code path and renders, prints and exits
the same way whichever it is given.

Remote when `--server URL` or DIST_SERVER is given, or when neither a store nor a database URL is given and
`dist login` saved a server. The local side is imported only when used: remote mode loads neither SQLAlchemy
nor Alembic.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from dist.cli.context import GLOBALS
from dist.cli.errors import UsageError
from dist.cli.files import LocalFile
from dist.domain.counts import Stats
from dist.domain.entities import App, AuditEvent, Channel, ChannelEvent, Delivery, Release, Token, Webhook

if TYPE_CHECKING:
    from dist.client.remote import Remote

TOKEN_ENV = "DIST_TOKEN"


@dataclass(frozen=True, slots=True)
class Staged:
    """How a promote is staged: a fixed `percent`, or a `ramp` of percents with its interval `every`."""

    percent: int | None = None
    ramp: list[int] | None = None
    every: str | None = None


# Called with a file and the number of its bytes just sent or stored.
Advance = Callable[[LocalFile, int], None]


class Backend(Protocol):
    def now(self) -> datetime: ...

    def list_apps(self) -> list[App]: ...

    def show_app(self, slug: str) -> tuple[App, list[Channel]]: ...

    def update_app(
        self,
        slug: str,
        *,
        name: str | None,
        default_channel: str | None = None,
        minisign_public_key: str | None = None,
        ed25519_public_key: str | None = None,
    ) -> App: ...

    def publish(
        self,
        app: str,
        version: str,
        files: list[LocalFile],
        *,
        notes: str,
        channel: str | None,
        advance: Advance | None,
    ) -> Release: ...

    def list_releases(self, app: str) -> list[Release]: ...

    def get_release(self, app: str, version: str) -> Release: ...

    def yank(self, app: str, version: str) -> Release: ...

    def promote(
        self,
        app: str,
        channel: str,
        *,
        version: str | None,
        from_channel: str | None,
        expect: str | None = None,
        staged: Staged | None = None,
    ) -> Channel: ...

    def rollback(self, app: str, channel: str, *, to: str | None, expect: str | None = None) -> Channel: ...

    def show_channel(self, app: str, channel: str) -> Channel: ...

    def change_rollout(
        self, app: str, channel: str, *, action: str, percent: int | None = None, expect: str | None = None
    ) -> Channel: ...

    def list_channels(self, app: str) -> list[Channel]: ...

    def history(self, app: str, channel: str) -> list[ChannelEvent]: ...

    def create_token(
        self,
        *,
        name: str,
        scopes: list[str],
        app: str | None,
        channel: str | None,
        expires_at: datetime | None,
    ) -> tuple[Token, str]: ...

    def list_tokens(self) -> list[Token]: ...

    def revoke_token(self, token_id: int) -> Token: ...

    def audit(self, *, app: str | None, limit: int | None) -> list[AuditEvent]: ...

    def create_webhook(self, *, url: str, events: list[str] | None, app: str | None) -> tuple[Webhook, str]: ...

    def list_webhooks(self) -> list[Webhook]: ...

    def list_deliveries(self, *, failed_only: bool, webhook_id: int | None, limit: int | None) -> list[Delivery]: ...

    def redeliver(self, delivery_id: int) -> Delivery: ...

    def delete_webhook(self, webhook_id: int) -> Webhook: ...

    def stats(self, app: str, *, days: int) -> Stats: ...


def remote_server() -> tuple[str, str | None] | None:
    """The server and token of remote mode, or None for a local store."""
    if GLOBALS.server:
        return GLOBALS.server, os.environ.get(TOKEN_ENV) or _saved_token(GLOBALS.server)
    if GLOBALS.store is not None or GLOBALS.database_url is not None:
        return None
    from dist.client.login import saved

    login = saved()
    if login is None:
        return None
    return login.server, os.environ.get(TOKEN_ENV) or login.token


def _saved_token(server: str) -> str | None:
    from dist.client.login import saved

    login = saved()
    return login.token if login is not None and login.server.rstrip("/") == server.rstrip("/") else None


def local_only(command: str, hint: str = "run it where the store is, without --server") -> None:
    """Refuse a command that works on the store's files and database when given a server."""
    if GLOBALS.server:
        raise UsageError("usage.local_only", f"`dist {command}` works on a local store only: {hint}")


@contextmanager
def backend() -> Iterator[Backend]:
    remote = remote_server()
    if remote is not None:
        yield from _remote(*remote)
        return
    from dist.cli.context import opened_store
    from dist.cli.local import LocalBackend

    with opened_store() as store:
        yield LocalBackend(store)


def _remote(server: str, token: str | None) -> Iterator[Backend]:
    from dist.cli.remote import RemoteBackend
    from dist.client.remote import Remote

    client: Remote = Remote(server, token)
    try:
        yield RemoteBackend(client)
    finally:
        client.close()
