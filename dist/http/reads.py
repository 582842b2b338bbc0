"""The public read routes: apps, releases, channels, history and the update check."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dist.domain.errors import Invalid, Unavailable
from dist.domain.render import render_app, render_artifact, render_channel, render_channel_event, render_release
from dist.domain.values import DEFAULT_PLATFORM
from dist.http.context import call, store
from dist.persistence.store import current_revision, head_revision
from dist.services import apps, channels, releases


def _param(request: Request, name: str) -> str:
    value: str = request.path_params[name]
    return value


async def healthz(request: Request) -> Response:
    revision = await run_in_threadpool(current_revision, store(request).engine)
    if revision != head_revision():
        raise Unavailable("store.schema_outdated", "the database schema is not at the current version")
    return JSONResponse({"status": "ok"})


async def list_apps(request: Request) -> Response:
    found = await call(request, apps.list_apps)
    return JSONResponse({"apps": [render_app(app) for app in found]})


async def show_app(request: Request) -> Response:
    app, app_channels = await call(request, apps.show_app, _param(request, "slug"))
    return JSONResponse({**render_app(app), "channels": [render_channel(c) for c in app_channels]})


def _limit(request: Request) -> int:
    text = request.query_params.get("limit")
    if text is None:
        return releases.DEFAULT_PAGE
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        raise Invalid("release.invalid_limit", f"limit must be a whole number between 1 and {releases.MAX_PAGE}")
    return int(text)


async def list_releases(request: Request) -> Response:
    slug, limit = _param(request, "slug"), _limit(request)
    page, cursor = await call(
        request, releases.list_releases, slug, limit=limit, cursor=request.query_params.get("cursor")
    )
    headers = {}
    if cursor is not None:
        query = urlencode({"limit": limit, "cursor": cursor})
        headers["Link"] = f'<{request.url.path}?{query}>; rel="next"'
    return JSONResponse({"releases": [render_release(r) for r in page], "next_cursor": cursor}, headers=headers)


async def show_release(request: Request) -> Response:
    release = await call(request, releases.get_release, _param(request, "slug"), _param(request, "version"))
    return JSONResponse(render_release(release))


async def list_channels(request: Request) -> Response:
    found = await call(request, channels.list_channels, _param(request, "slug"))
    return JSONResponse({"channels": [render_channel(c) for c in found]})


async def show_channel(request: Request) -> Response:
    channel, release = await call(request, channels.get_channel, _param(request, "slug"), _param(request, "name"))
    current = render_release(release) if release is not None else None
    return JSONResponse({**render_channel(channel), "current_release": current})


async def channel_history(request: Request) -> Response:
    events = await call(request, channels.history, _param(request, "slug"), _param(request, "name"))
    return JSONResponse({"events": [render_channel_event(e) for e in events]})


async def latest(request: Request) -> Response:
    """The update check: 200 with what to download, 204 when `current` is up to date."""
    slug, name = _param(request, "slug"), _param(request, "name")
    platform = request.query_params.get("platform", DEFAULT_PLATFORM)
    found = await call(
        request, channels.latest, slug, name, platform=platform, current=request.query_params.get("current")
    )
    if found is None:
        return Response(status_code=204)
    release, artifact = found
    return JSONResponse(
        {"release": render_release(release), "artifact": render_artifact(release.app, release.version, artifact)}
    )
