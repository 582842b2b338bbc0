"""The commands' Backend over a remote distd (dist/client/remote.py): uploads what the server lacks, then
calls the routes."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

import msgspec

from dist.cli.backend import Advance, Staged
from dist.cli.files import LocalFile
from dist.client.remote import Remote, file_digest, now
from dist.domain.counts import Stats
from dist.domain.entities import App, AuditEvent, Channel, ChannelEvent, Delivery, Release, Token, Webhook
from dist.domain.enums import Scope
from dist.http import contract

T = TypeVar("T")


def _maybe(value: T | None) -> T | msgspec.UnsetType:
    """A request's optional field: left out when None."""
    return msgspec.UNSET if value is None else value


class RemoteBackend:
    def __init__(self, client: Remote) -> None:
        self.client = client

    def now(self) -> datetime:
        return now()

    def list_apps(self) -> list[App]:
        return self.client.list_apps()

    def show_app(self, slug: str) -> tuple[App, list[Channel]]:
        return self.client.show_app(slug)

    def update_app(
        self,
        slug: str,
        *,
        name: str | None,
        default_channel: str | None = None,
        minisign_public_key: str | None = None,
        ed25519_public_key: str | None = None,
    ) -> App:
        patch = contract.AppPatch(
            name=_maybe(name),
            default_channel=_maybe(default_channel),
            minisign_public_key=_maybe(minisign_public_key),
            ed25519_public_key=_maybe(ed25519_public_key),
        )
        return self.client.update_app(slug, patch)

    def publish(
        self,
        app: str,
        version: str,
        files: list[LocalFile],
        *,
        notes: str,
        channel: str | None,
        advance: Advance | None,
    ) -> Release:
        artifacts = []
        for local in files:
            digest = file_digest(local.path)
            sent = (lambda n, local=local: advance(local, n)) if advance is not None else None
            self.client.upload(local.path, digest, local.size, sent)
            artifacts.append(
                contract.PublishArtifact(
                    filename=local.filename,
                    sha256=digest,
                    platform=local.platform,
                    content_type=local.content_type,
                    signatures=contract.SignaturesRequest(
                        minisign=_maybe(local.minisign_signature), ed25519=_maybe(local.ed25519_signature)
                    ),
                )
            )
        body = contract.PublishRequest(version=version, artifacts=artifacts, notes=notes, channel=_maybe(channel))
        return self.client.publish(app, body)

    def list_releases(self, app: str) -> list[Release]:
        return self.client.list_releases(app)

    def get_release(self, app: str, version: str) -> Release:
        return self.client.get_release(app, version)

    def yank(self, app: str, version: str) -> Release:
        return self.client.yank(app, version)

    def promote(
        self,
        app: str,
        channel: str,
        *,
        version: str | None,
        from_channel: str | None,
        expect: str | None = None,
        staged: Staged | None = None,
    ) -> Channel:
        rollout = None
        if staged is not None:
            rollout = contract.RolloutSpec(
                percent=_maybe(staged.percent), ramp=_maybe(staged.ramp), every=_maybe(staged.every)
            )
        return self.client.promote(
            app, channel, version=version, from_channel=from_channel, expect=expect, rollout=rollout
        )

    def rollback(self, app: str, channel: str, *, to: str | None, expect: str | None = None) -> Channel:
        return self.client.rollback(app, channel, to=to, expect=expect)

    def show_channel(self, app: str, channel: str) -> Channel:
        return self.client.show_channel(app, channel)

    def change_rollout(
        self, app: str, channel: str, *, action: str, percent: int | None = None, expect: str | None = None
    ) -> Channel:
        return self.client.change_rollout(app, channel, action=action, percent=percent, expect=expect)

    def list_channels(self, app: str) -> list[Channel]:
        return self.client.list_channels(app)

    def history(self, app: str, channel: str) -> list[ChannelEvent]:
        return self.client.history(app, channel)

    def create_token(
        self,
        *,
        name: str,
        scopes: list[str],
        app: str | None,
        channel: str | None,
        expires_at: datetime | None,
    ) -> tuple[Token, str]:
        body = contract.TokenRequest(
            name=name,
            scopes=[Scope(s) for s in scopes],
            app=_maybe(app),
            channel=_maybe(channel),
            expires_at=_maybe(expires_at),
        )
        return self.client.create_token(body)

    def list_tokens(self) -> list[Token]:
        return self.client.list_tokens()

    def revoke_token(self, token_id: int) -> Token:
        return self.client.revoke_token(token_id)

    def audit(self, *, app: str | None, limit: int | None) -> list[AuditEvent]:
        return self.client.audit(app=app, limit=limit)

    def create_webhook(self, *, url: str, events: list[str] | None, app: str | None) -> tuple[Webhook, str]:
        return self.client.create_webhook(contract.WebhookRequest(url=url, events=_maybe(events), app=_maybe(app)))

    def list_webhooks(self) -> list[Webhook]:
        return self.client.list_webhooks()

    def list_deliveries(self, *, failed_only: bool, webhook_id: int | None, limit: int | None) -> list[Delivery]:
        return self.client.list_deliveries(failed_only=failed_only, webhook_id=webhook_id, limit=limit)

    def redeliver(self, delivery_id: int) -> Delivery:
        return self.client.redeliver(delivery_id)

    def delete_webhook(self, webhook_id: int) -> Webhook:
        return self.client.delete_webhook(webhook_id)

    def stats(self, app: str, *, days: int) -> Stats:
        return self.client.stats(app, days=days)
