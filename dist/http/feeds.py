"""The update feed routes under /feeds/: parse, read what the channel serves, hand it to the format's module.

URLs inside a feed are absolute: from the server's public URL when it has one, else from the request.
Every answer carries an ETag over its bytes (dist.http.conditional answers If-None-Match with 304).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from dist.domain.feeds import electron, sparkle, squirrel, tauri
from dist.domain.feeds.model import ChannelFeed, feed_release
from dist.domain.values import Version, parse_platform
from dist.http import contract
from dist.http.cache import Share, answered_for, keep_until
from dist.http.context import call
from dist.http.openapi import operation
from dist.services import feeds
from dist.services.feeds import Served

YAML = "application/yaml; charset=utf-8"
JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
# Caches may keep a feed but must ask again before using it: a channel moves at any time.
CACHE_CONTROL = "no-cache"
F = TypeVar("F", bound=Callable[..., Any])


def _feed(summary: str, media_type: str, *, no_update: bool = False, query: type | None = None) -> Callable[[F], F]:
    """The operation of a feed route: its answer in the updater's format, 304 to a matching If-None-Match, 204
    where the format says so, and the error envelope for 404 and 422."""
    schema: dict[str, Any] = {"type": "object"} if media_type == JSON else {"type": "string"}
    headers = {"ETag": {"schema": {"type": "string"}}, "Cache-Control": {"schema": {"type": "string"}}}
    responses: dict[str, Any] = {
        "200": {
            "description": "The feed.",
            "headers": headers,
            "content": {media_type.split(";")[0]: {"schema": schema}},
        },
        "304": {"description": "If-None-Match matched: the client's copy is current."},
    }
    if no_update:
        responses["204"] = {"description": "The client's version is up to date."}
    return operation("get", summary, {}, query=query, extra={"responses": responses})


def base_url(request: Request) -> str:
    public: str | None = request.state.public_url
    return public if public is not None else str(request.base_url).rstrip("/")


def _param(request: Request, name: str) -> str:
    value: str = request.path_params[name]
    return value


def client_id(request: Request) -> str | None:
    """The client's id for a rollout, as the update check takes it: `?client=`, else X-Dist-Client."""
    return request.query_params.get("client") or request.headers.get("x-dist-client")


def _channel(request: Request, served: Served) -> ChannelFeed:
    # A cached copy of the feed lasts no longer than the rollout's current step.
    keep_until(request.scope, served.until)
    return ChannelFeed(
        app=served.app.slug,
        app_name=served.app.name,
        channel=served.channel.name,
        is_default=served.is_default,
        release=feed_release(base_url(request), served.release),
        staging=served.staging,
    )


async def _channel_feed(
    request: Request, channel: str, *, latest_alias: bool = False, self_bucketing: bool = False
) -> ChannelFeed:
    served = await call(
        request,
        feeds.served,
        _param(request, "slug"),
        channel,
        latest_alias=latest_alias,
        client=client_id(request),
        self_bucketing=self_bucketing,
    )
    # How the feed depends on the client asking: through its side of the rollout's share, or not at all.
    rollout = served.channel.rollout
    share = None
    if served.percent is not None and rollout is not None:
        share = Share(served.app.slug, served.channel.name, rollout.version, served.percent)
    if share is not None or served.staging is None:
        answered_for(request.scope, share)
    return _channel(request, served)


def _up_to_date(feed: ChannelFeed, current: str) -> bool:
    return Version.parse(feed.release.version) <= Version.parse(current)


def feed_response(body: bytes, media_type: str) -> Response:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return Response(body, media_type=media_type, headers={"ETag": etag, "Cache-Control": CACHE_CONTROL})


def no_update() -> Response:
    return Response(status_code=204, headers={"Cache-Control": CACHE_CONTROL})


@_feed("electron-updater's channel file: <channel>.yml (Windows), -mac.yml, -linux.yml, -linux-arm64.yml.", YAML)
async def electron_channel_file(request: Request) -> Response:
    wanted = electron.parse_channel_file(_param(request, "file"))
    feed = await _channel_feed(request, wanted.channel, latest_alias=True, self_bucketing=True)
    return feed_response(electron.render(feed, wanted), YAML)


@_feed("Squirrel.Mac (Electron's autoUpdater): the .zip to update to.", JSON, no_update=True)
async def squirrel_mac(request: Request) -> Response:
    platform = parse_platform(_param(request, "platform"))
    feed = await _channel_feed(request, _param(request, "channel"))
    body = squirrel.render_mac(feed, platform)
    return no_update() if _up_to_date(feed, _param(request, "version")) else feed_response(body, JSON)


@_feed("Squirrel.Windows: a line 'SHA1 URL SIZE' for each full .nupkg.", TEXT)
async def squirrel_windows(request: Request) -> Response:
    platform = parse_platform(_param(request, "platform"))
    Version.parse(_param(request, "version"))
    feed = await _channel_feed(request, _param(request, "channel"))
    return feed_response(squirrel.render_releases(feed, platform), TEXT)


@_feed("Tauri v2's dynamic endpoint: the signed artifact for {target}-{arch}.", JSON, no_update=True)
async def tauri_dynamic(request: Request) -> Response:
    platform = parse_platform(f"{_param(request, 'target')}-{_param(request, 'arch')}")
    feed = await _channel_feed(request, _param(request, "channel"))
    body = tauri.render_dynamic(feed, platform)
    return no_update() if _up_to_date(feed, _param(request, "current_version")) else feed_response(body, JSON)


@_feed("Tauri v2's static JSON: every platform with a minisign-signed artifact.", JSON)
async def tauri_static(request: Request) -> Response:
    feed = await _channel_feed(request, _param(request, "channel"))
    return feed_response(tauri.render_static(feed), JSON)


@_feed("Sparkle's appcast: an item per channel.", RSS, query=contract.AppcastQuery)
async def sparkle_appcast(request: Request) -> Response:
    query = contract.decode_query(contract.AppcastQuery, dict(request.query_params))
    platform = contract.given(query.platform)
    app, served = await call(request, feeds.all_served, _param(request, "slug"), client=client_id(request))
    link = base_url(request) + request.url.path
    body = sparkle.render(app.name, link, [_channel(request, s) for s in served], platform)
    return feed_response(body, RSS)
