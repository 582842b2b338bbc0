"""The commands' Backend over a local store: the services, each in its own unit of work."""

from __future__ import annotations

from datetime import datetime

from dist.cli.backend import Advance, Staged
from dist.cli.context import actor
from dist.cli.files import LocalFile
from dist.cli.uploads import upload
from dist.domain.counts import Stats
from dist.domain.entities import App, AuditEvent, Channel, ChannelEvent, Delivery, Release, Token, Webhook
from dist.domain.values import MAX_PAGE
from dist.persistence.store import Store
from dist.services import apps, channels, counts, releases, rollouts, tokens, webhooks
from dist.services.audit import list_events


class LocalBackend:
    def __init__(self, store: Store) -> None:
        self.store = store

    def now(self) -> datetime:
        return self.store.clock()

    def list_apps(self) -> list[App]:
        return apps.list_apps(self.store.uow())

    def show_app(self, slug: str) -> tuple[App, list[Channel]]:
        return apps.show_app(self.store.uow(), slug)

    def update_app(
        self,
        slug: str,
        *,
        name: str | None,
        default_channel: str | None = None,
        minisign_public_key: str | None = None,
        ed25519_public_key: str | None = None,
    ) -> App:
        return apps.update_app(
            self.store.uow(),
            slug=slug,
            name=name,
            default_channel=default_channel,
            minisign_public_key=minisign_public_key,
            ed25519_public_key=ed25519_public_key,
            actor=actor(),
        )

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
        specs = upload(self.store, files, advance)
        return releases.publish(
            self.store.uow(), app=app, version=version, artifacts=specs, notes=notes, channel=channel, actor=actor()
        )

    def list_releases(self, app: str) -> list[Release]:
        found: list[Release] = []
        cursor: str | None = None
        while True:
            page, cursor = releases.list_releases(self.store.uow(), app, limit=MAX_PAGE, cursor=cursor)
            found.extend(page)
            if cursor is None:
                return found

    def get_release(self, app: str, version: str) -> Release:
        return releases.get_release(self.store.uow(), app, version)

    def yank(self, app: str, version: str) -> Release:
        return releases.yank(self.store.uow(), app=app, version=version, actor=actor())

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
        return channels.promote(
            self.store.uow(),
            app=app,
            channel=channel,
            version=version,
            from_channel=from_channel,
            actor=actor(),
            expect=expect,
            rollout_percent=staged.percent if staged is not None else None,
            ramp=staged.ramp if staged is not None else None,
            every=staged.every if staged is not None else None,
        )

    def rollback(self, app: str, channel: str, *, to: str | None, expect: str | None = None) -> Channel:
        return channels.rollback(self.store.uow(), app=app, channel=channel, to=to, actor=actor(), expect=expect)

    def show_channel(self, app: str, channel: str) -> Channel:
        return rollouts.show(self.store.uow(), app=app, channel=channel)

    def change_rollout(
        self, app: str, channel: str, *, action: str, percent: int | None = None, expect: str | None = None
    ) -> Channel:
        return rollouts.change(
            self.store.uow(), app=app, channel=channel, action=action, percent=percent, actor=actor(), expect=expect
        )

    def list_channels(self, app: str) -> list[Channel]:
        return channels.list_channels(self.store.uow(), app)

    def history(self, app: str, channel: str) -> list[ChannelEvent]:
        return channels.history(self.store.uow(), app, channel)

    def create_token(
        self,
        *,
        name: str,
        scopes: list[str],
        app: str | None,
        channel: str | None,
        expires_at: datetime | None,
    ) -> tuple[Token, str]:
        return tokens.create_token(
            self.store.uow(),
            name=name,
            scopes=scopes,
            app=app,
            channel=channel,
            expires_at=expires_at,
            actor=actor(),
        )

    def list_tokens(self) -> list[Token]:
        return tokens.list_tokens(self.store.uow())

    def revoke_token(self, token_id: int) -> Token:
        return tokens.revoke_token(self.store.uow(), token_id=token_id, actor=actor())

    def audit(self, *, app: str | None, limit: int | None) -> list[AuditEvent]:
        return list_events(self.store.uow(), app=app, limit=limit)

    def create_webhook(self, *, url: str, events: list[str] | None, app: str | None) -> tuple[Webhook, str]:
        return webhooks.create_webhook(self.store.uow(), url=url, events=events, app=app, actor=actor())

    def list_webhooks(self) -> list[Webhook]:
        return webhooks.list_webhooks(self.store.uow())

    def list_deliveries(self, *, failed_only: bool, webhook_id: int | None, limit: int | None) -> list[Delivery]:
        return webhooks.list_deliveries(self.store.uow(), failed_only=failed_only, webhook_id=webhook_id, limit=limit)

    def redeliver(self, delivery_id: int) -> Delivery:
        return webhooks.redeliver(self.store.uow(), delivery_id=delivery_id, actor=actor())

    def delete_webhook(self, webhook_id: int) -> Webhook:
        return webhooks.delete_webhook(self.store.uow(), webhook_id=webhook_id, actor=actor())

    def stats(self, app: str, *, days: int) -> Stats:
        return counts.stats(self.store.uow(), app, days=days)
