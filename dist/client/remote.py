"""A typed client of distd's API: requests and answers are the contract's types (dist/http/contract.py), and
what it returns are the domain's entities, so that the CLI renders a remote store exactly as a local one.

Connection errors and 502, 503 and 504 are retried with backoff; nothing else is. Every refusal comes back as
the DistError the server reported (its code, message and kind), and a server that cannot be reached as one
`server.*` error: the CLI prints either as one line.
"""

from __future__ import annotations

import hashlib
import ssl
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from dist.domain import entities
from dist.domain.counts import DayCounts, Stats, VersionCount
from dist.domain.errors import DistError, ErrorKind
from dist.domain.rollouts import Rollout, schedule_as_rendered
from dist.domain.signatures import Signatures
from dist.domain.values import MAX_PAGE
from dist.http import contract

T = TypeVar("T")
RETRIED_STATUSES = (502, 503, 504)
ATTEMPTS = 4
FIRST_BACKOFF = 0.5
UPLOAD_CHUNK = 1024 * 1024
# A generous read timeout: the server answers a publish only once every blob is checked.
TIMEOUT = httpx.Timeout(30.0, read=300.0)
Progress = Callable[[int], None]


def _quoted(*parts: str) -> str:
    return "/".join(quote(part, safe="") for part in parts)


def _kind(status: int) -> ErrorKind:
    for kind, mapped in contract.STATUS.items():
        if mapped == status:
            return kind
    return ErrorKind.UNAVAILABLE if status >= 500 else ErrorKind.INVALID


def _verify(base_url: str) -> ssl.SSLContext | bool:
    """httpx's default trust store for an https server. A plain-http one never opens TLS (redirects are not
    followed), so it gets a context that verifies against no certificate at all: building the default one reads
    the whole CA bundle, a tenth of a second of every command's start-up."""
    if base_url.lower().startswith("https://"):
        return True
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class Remote:
    """distd at `base_url`, as `token` (None: only the public reads work)."""

    def __init__(self, base_url: str, token: str | None, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=TIMEOUT, verify=_verify(self.base_url)
        )
        self.sleep = sleep

    def close(self) -> None:
        self.http.close()

    # --- transport ---------------------------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request, retried with backoff after a connection error or a 502, 503 or 504."""
        body: Callable[[], Any] | None = kwargs.pop("body", None)
        delay = FIRST_BACKOFF
        for attempt in range(1, ATTEMPTS + 1):
            try:
                if body is not None:
                    kwargs["content"] = body()
                response = self.http.request(method, path, **kwargs)
            except httpx.ConnectError as error:
                if attempt == ATTEMPTS:
                    raise self._unreachable(error) from None
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as error:
                if attempt == ATTEMPTS:
                    raise DistError(
                        "server.connection_lost",
                        f"{self.base_url} dropped the connection: {error}",
                        ErrorKind.UNAVAILABLE,
                    ) from None
            except httpx.TimeoutException:
                raise DistError(
                    "server.timeout", f"{self.base_url} did not answer in time", ErrorKind.UNAVAILABLE
                ) from None
            except httpx.HTTPError as error:
                raise DistError("server.error", f"{self.base_url}: {error}", ErrorKind.UNAVAILABLE) from None
            else:
                if response.status_code not in RETRIED_STATUSES or attempt == ATTEMPTS:
                    return response
            self.sleep(delay)
            delay *= 2
        raise AssertionError("the last attempt returns or raises")

    def _unreachable(self, error: httpx.ConnectError) -> DistError:
        text = str(error) or type(error).__name__
        if "SSL" in text or "certificate" in text.lower():
            return DistError("server.tls_error", f"TLS with {self.base_url} failed: {text}", ErrorKind.UNAVAILABLE)
        return DistError("server.unreachable", f"cannot reach {self.base_url}: {text}", ErrorKind.UNAVAILABLE)

    def _call(self, kind: type[T], method: str, path: str, **kwargs: Any) -> T:
        response = self._send(method, path, **kwargs)
        self._raise_for(response)
        try:
            return msgspec.json.decode(response.content, type=kind)
        except msgspec.DecodeError:
            raise DistError(
                "server.bad_answer", f"{method} {path} answered what is not a dist answer", ErrorKind.UNAVAILABLE
            ) from None

    def _raise_for(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        try:
            error = msgspec.json.decode(response.content, type=contract.Error).error
        except msgspec.DecodeError:
            raise DistError(
                "server.bad_answer",
                f"{self.base_url} answered {response.status_code} without a dist error: is this a dist server?",
                _kind(response.status_code),
            ) from None
        raise DistError(error.code, error.message, _kind(response.status_code))

    def _json(self, body: msgspec.Struct) -> dict[str, Any]:
        return {"content": msgspec.json.encode(body), "headers": {"Content-Type": "application/json"}}

    # --- apps, releases, channels ------------------------------------------------------------------------------

    def list_apps(self) -> list[entities.App]:
        return [_app(a) for a in self._call(contract.AppList, "GET", "/api/apps").apps]

    def show_app(self, slug: str) -> tuple[entities.App, list[entities.Channel]]:
        found = self._call(contract.AppWithChannels, "GET", f"/api/apps/{_quoted(slug)}")
        return _app(found), [_channel(c) for c in found.channels]

    def list_releases(self, app: str) -> list[entities.Release]:
        found: list[entities.Release] = []
        params: dict[str, str | int] = {"limit": MAX_PAGE}
        while True:
            page = self._call(contract.ReleaseList, "GET", f"/api/apps/{_quoted(app)}/releases", params=params)
            found += [_release(r) for r in page.releases]
            if page.next_cursor is None:
                return found
            params["cursor"] = page.next_cursor

    def get_release(self, app: str, version: str) -> entities.Release:
        return _release(self._call(contract.Release, "GET", f"/api/apps/{_quoted(app, 'releases', version)}"))

    def yank(self, app: str, version: str) -> entities.Release:
        path = f"/api/apps/{_quoted(app, 'releases', version)}/yank"
        return _release(self._call(contract.Release, "POST", path, **self._json(contract.EmptyRequest())))

    def list_channels(self, app: str) -> list[entities.Channel]:
        found = self._call(contract.ChannelList, "GET", f"/api/apps/{_quoted(app)}/channels")
        return [_channel(c) for c in found.channels]

    def history(self, app: str, channel: str) -> list[entities.ChannelEvent]:
        found = self._call(contract.ChannelHistory, "GET", f"/api/apps/{_quoted(app, 'channels', channel)}/history")
        return [entities.ChannelEvent(kind=e.kind, version=e.version, actor=e.actor, at=e.at) for e in found.events]

    def _channel_write(self, path: str, body: msgspec.Struct, expect: str | None) -> entities.Channel:
        sent = self._json(body)
        if expect is not None:
            sent["headers"]["If-Match"] = f'"{expect}"'
        return _channel(self._call(contract.Channel, "POST", path, **sent))

    def promote(
        self,
        app: str,
        channel: str,
        *,
        version: str | None,
        from_channel: str | None,
        expect: str | None = None,
        rollout: contract.RolloutSpec | None = None,
    ) -> entities.Channel:
        body = contract.PromoteRequest(
            version=msgspec.UNSET if version is None else version,
            from_=msgspec.UNSET if from_channel is None else from_channel,
            rollout=msgspec.UNSET if rollout is None else rollout,
        )
        return self._channel_write(f"/api/apps/{_quoted(app, 'channels', channel)}/promote", body, expect)

    def rollback(self, app: str, channel: str, *, to: str | None, expect: str | None = None) -> entities.Channel:
        body = contract.RollbackRequest(to=msgspec.UNSET if to is None else to)
        return self._channel_write(f"/api/apps/{_quoted(app, 'channels', channel)}/rollback", body, expect)

    def show_channel(self, app: str, channel: str) -> entities.Channel:
        found = self._call(contract.ChannelWithRelease, "GET", f"/api/apps/{_quoted(app, 'channels', channel)}")
        return _channel(found)

    def change_rollout(
        self, app: str, channel: str, *, action: str, percent: int | None, expect: str | None = None
    ) -> entities.Channel:
        body = (
            contract.RolloutRequest(percent=percent)
            if action == "set" and percent is not None
            else contract.RolloutRequest(action=action)
        )
        return self._channel_write(f"/api/apps/{_quoted(app, 'channels', channel)}/rollout", body, expect)

    # --- publishing ----------------------------------------------------------------------------------------------

    def has_blob(self, sha256: str) -> bool:
        response = self._send("HEAD", f"/api/objects/{sha256}")
        if response.status_code == 404:
            return False
        self._raise_for(response)
        return True

    def upload(self, path: Path, sha256: str, size: int, progress: Progress | None = None) -> None:
        """Stream the file to the server (checked against `sha256` there), unless it already holds those bytes."""
        if self.has_blob(sha256):
            if progress is not None:
                progress(size)
            return

        def chunks() -> Iterator[bytes]:
            with path.open("rb") as source:
                while chunk := source.read(UPLOAD_CHUNK):
                    yield chunk
                    if progress is not None:
                        progress(len(chunk))

        headers = {"Content-Length": str(size), "X-Content-SHA256": sha256, "Content-Type": "application/octet-stream"}
        self._call(contract.StoredBlob, "POST", "/api/upload", body=chunks, headers=headers)

    def publish(self, app: str, body: contract.PublishRequest) -> entities.Release:
        """Publish over uploaded blobs, with an Idempotency-Key that every retry of this call repeats."""
        request = self._json(body)
        request["headers"]["Idempotency-Key"] = str(uuid.uuid4())
        return _release(self._call(contract.Release, "POST", f"/api/apps/{_quoted(app)}/releases", **request))

    # --- admin ---------------------------------------------------------------------------------------------------

    def current_token(self) -> entities.Token:
        """The token this client sends, as the server sees it: a way to check it."""
        return _token(self._call(contract.Token, "GET", "/api/token"))

    def list_tokens(self) -> list[entities.Token]:
        return [_token(t) for t in self._call(contract.TokenList, "GET", "/api/tokens").tokens]

    def create_token(self, body: contract.TokenRequest) -> tuple[entities.Token, str]:
        created = self._call(contract.NewToken, "POST", "/api/tokens", **self._json(body))
        return _token(created), created.secret

    def revoke_token(self, token_id: int) -> entities.Token:
        body = self._json(contract.EmptyRequest())
        return _token(self._call(contract.Token, "POST", f"/api/tokens/{token_id}/revoke", **body))

    def audit(self, *, app: str | None, limit: int | None) -> list[entities.AuditEvent]:
        params: dict[str, str | int] = {}
        if app is not None:
            params["app"] = app
        if limit is not None:
            params["limit"] = limit
        events = self._call(contract.AuditLog, "GET", "/api/audit", params=params).events
        return [
            entities.AuditEvent(
                at=e.at, actor=e.actor, action=e.action, app=e.app, target=e.target, detail=e.detail, id=e.id
            )
            for e in events
        ]

    def stats(self, app: str, *, days: int) -> Stats:
        found = self._call(contract.Stats, "GET", f"/api/apps/{_quoted(app)}/stats", params={"days": days})
        return Stats(
            app=found.app,
            first_day=found.first_day,
            last_day=found.last_day,
            days=[DayCounts(d.day, d.downloads, dict(d.checks)) for d in found.days],
            downloads_by_version=[VersionCount(v.version, v.count) for v in found.downloads_by_version],
            checks_by_version=[VersionCount(v.version, v.count) for v in found.checks_by_version],
        )

    def update_app(self, slug: str, body: contract.AppPatch) -> entities.App:
        return _app(self._call(contract.App, "PATCH", f"/api/apps/{_quoted(slug)}", **self._json(body)))

    # --- webhooks ------------------------------------------------------------------------------------------------

    def create_webhook(self, body: contract.WebhookRequest) -> tuple[entities.Webhook, str]:
        created = self._call(contract.NewWebhook, "POST", "/api/webhooks", **self._json(body))
        return _webhook(created), created.secret

    def list_webhooks(self) -> list[entities.Webhook]:
        return [_webhook(w) for w in self._call(contract.WebhookList, "GET", "/api/webhooks").webhooks]

    def list_deliveries(
        self, *, failed_only: bool, webhook_id: int | None, limit: int | None
    ) -> list[entities.Delivery]:
        params: dict[str, str | int] = {"failed": "true"} if failed_only else {}
        if webhook_id is not None:
            params["webhook"] = webhook_id
        if limit is not None:
            params["limit"] = limit
        found = self._call(contract.DeliveryList, "GET", "/api/webhooks/deliveries", params=params).deliveries
        return [_delivery(d) for d in found]

    def redeliver(self, delivery_id: int) -> entities.Delivery:
        body = self._json(contract.EmptyRequest())
        return _delivery(
            self._call(contract.Delivery, "POST", f"/api/webhooks/deliveries/{delivery_id}/redeliver", **body)
        )

    def delete_webhook(self, webhook_id: int) -> entities.Webhook:
        return _webhook(self._call(contract.Webhook, "DELETE", f"/api/webhooks/{webhook_id}"))


def file_digest(path: Path) -> str:
    with path.open("rb") as source:
        return hashlib.file_digest(source, "sha256").hexdigest()


def now() -> datetime:
    return datetime.now(UTC)


# --- answers as domain entities --------------------------------------------------------------------------------


def _app(found: contract.App) -> entities.App:
    return entities.App(
        slug=found.slug,
        name=found.name,
        created_at=found.created_at,
        default_channel=found.default_channel,
        minisign_public_key=found.minisign_public_key,
        ed25519_public_key=found.ed25519_public_key,
    )


def _channel(found: contract.Channel) -> entities.Channel:
    # The API does not show when a channel was created; nothing the CLI prints needs it.
    channel = entities.Channel(
        app=found.app, name=found.name, release=found.release, created_at=found.updated_at, updated_at=found.updated_at
    )
    shown = found.rollout
    if shown is not None:
        schedule = schedule_as_rendered(
            percent=shown.percent,
            steps=shown.ramp,
            every=shown.every,
            state=shown.state,
            next_step=shown.next_step_at,
            now=now(),
        )
        channel.rollout = Rollout(shown.version, shown.base, schedule)
    return channel


def _release(found: contract.Release) -> entities.Release:
    return entities.Release(
        app=found.app,
        version=found.version,
        notes=found.notes,
        status=found.status,
        created_at=found.created_at,
        created_by=found.created_by,
        artifacts=[
            entities.Artifact(
                filename=a.filename,
                platform=a.platform,
                sha256=a.sha256,
                size=a.size,
                content_type=a.content_type,
                signatures=Signatures(minisign=a.signatures.minisign, ed25519=a.signatures.ed25519),
                sha512=a.sha512,
                sha1=a.sha1,
                downloads=a.downloads,
            )
            for a in found.artifacts
        ],
    )


def _token(found: contract.Token) -> entities.Token:
    return entities.Token(
        name=found.name,
        scopes=list(found.scopes),
        app=found.app,
        channel=found.channel,
        created_at=found.created_at,
        expires_at=found.expires_at,
        revoked_at=found.revoked_at,
        last_used_at=found.last_used_at,
        id=found.id,
    )


def _webhook(found: contract.Webhook) -> entities.Webhook:
    return entities.Webhook(
        url=found.url, events=list(found.events), app=found.app, created_at=found.created_at, id=found.id
    )


def _delivery(found: contract.Delivery) -> entities.Delivery:
    # The payload stays on the server: no rendering shows it.
    return entities.Delivery(
        webhook_id=found.webhook,
        audit_event_id=found.event,
        action=found.action,
        message_id=found.message_id,
        payload="",
        created_at=found.created_at,
        next_attempt_at=found.next_attempt_at or found.created_at,
        state=found.state,
        attempts=found.attempts,
        last_attempt_at=found.last_attempt_at,
        last_status=found.last_status,
        last_error=found.last_error,
        delivered_at=found.delivered_at,
        id=found.id,
    )
