"""The public read routes: apps, releases, channels, history and the update check."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dist.domain.entities import Channel
from dist.domain.errors import Unavailable
from dist.domain.render import (
    render_app,
    render_artifact,
    render_channel,
    render_channel_event,
    render_release,
    render_stats,
)
from dist.domain.rollouts import channel_etag, next_step_at
from dist.http import contract
from dist.http.cache import Share, answered_for, keep_until
from dist.http.context import answer, call, store
from dist.http.openapi import operation
from dist.persistence.store import current_revision, head_revision
from dist.services import apps, channels, counts, releases


def _param(request: Request, name: str) -> str:
    value: str = request.path_params[name]
    return value


def rendered_channels(request: Request, found: Iterable[Channel]) -> list[dict[str, object]]:
    """Channels as they stand now; a cached copy lasts no longer than the next step of any rollout among them."""
    now = store(request).clock()
    rendered = []
    for channel in found:
        if channel.rollout is not None:
            keep_until(request.scope, next_step_at(channel.rollout.schedule, now))
        rendered.append(render_channel(channel, now))
    return rendered


def client_id(request: Request, query: contract.UpdateCheckQuery) -> str | None:
    """The client's id for a rollout: `?client=`, else the X-Dist-Client header."""
    return contract.given(query.client) or request.headers.get("x-dist-client")


@operation("get", "Whether the server and its database answer.", {200: contract.Health}, errors=())
async def healthz(request: Request) -> Response:
    revision = await run_in_threadpool(current_revision, store(request).engine)
    if revision != head_revision():
        raise Unavailable("store.schema_outdated", "the database schema is not at the current version")
    return answer({"status": "ok"})


@operation("get", "Every app, by slug.", {200: contract.AppList}, errors=())
async def list_apps(request: Request) -> Response:
    found = await call(request, apps.list_apps)
    return answer({"apps": [render_app(app) for app in found]})


@operation("get", "An app with its channels.", {200: contract.AppWithChannels})
async def show_app(request: Request) -> Response:
    app, app_channels = await call(request, apps.show_app, _param(request, "slug"))
    return answer({**render_app(app), "channels": rendered_channels(request, app_channels)})


@operation(
    "get",
    "An app's releases, newest first, a page at a time (follow next_cursor or the Link header).",
    {200: contract.ReleaseList},
    query=contract.ReleaseListQuery,
)
async def list_releases(request: Request) -> Response:
    slug = _param(request, "slug")
    query = contract.decode_query(contract.ReleaseListQuery, dict(request.query_params))
    page, cursor = await call(
        request, releases.list_releases, slug, limit=query.limit, cursor=contract.given(query.cursor)
    )
    headers = {}
    if cursor is not None:
        link = urlencode({"limit": query.limit, "cursor": cursor})
        headers["Link"] = f'<{request.url.path}?{link}>; rel="next"'
    return answer({"releases": [render_release(r) for r in page], "next_cursor": cursor}, headers=headers)


@operation("get", "A release with its artifacts (yanked ones too).", {200: contract.Release})
async def show_release(request: Request) -> Response:
    release = await call(request, releases.get_release, _param(request, "slug"), _param(request, "version"))
    return answer(render_release(release))


@operation("get", "An app's channels, by name.", {200: contract.ChannelList})
async def list_channels(request: Request) -> Response:
    found = await call(request, channels.list_channels, _param(request, "slug"))
    return answer({"channels": rendered_channels(request, found)})


@operation(
    "get",
    'A channel with the release it serves; its ETag is "<version>" ("none" when empty), for If-Match on its moves.',
    {200: contract.ChannelWithRelease},
)
async def show_channel(request: Request) -> Response:
    channel, release = await call(request, channels.get_channel, _param(request, "slug"), _param(request, "name"))
    current = render_release(release) if release is not None else None
    (rendered,) = rendered_channels(request, [channel])
    return answer({**rendered, "current_release": current}, headers={"ETag": channel_etag(channel.release)})


@operation("get", "Every promote and rollback of a channel, oldest first.", {200: contract.ChannelHistory})
async def channel_history(request: Request) -> Response:
    events = await call(request, channels.history, _param(request, "slug"), _param(request, "name"))
    return answer({"events": [render_channel_event(e) for e in events]})


@operation(
    "get",
    "The update check: what to download when the channel serves a version newer than `current` for "
    "`platform` (falling back to any); 204 when `current` is up to date. During a rollout a client in the share "
    "(by `client` or X-Dist-Client) gets the new release, any other the release before it.",
    {200: contract.UpdateCheck, 204: None},
    query=contract.UpdateCheckQuery,
)
async def latest(request: Request) -> Response:
    slug, name = _param(request, "slug"), _param(request, "name")
    query = contract.decode_query(contract.UpdateCheckQuery, dict(request.query_params))
    checked = await call(
        request,
        channels.update_check,
        slug,
        name,
        platform=query.platform,
        current=contract.given(query.current),
        client=client_id(request, query),
    )
    headers = {"Vary": "X-Dist-Client"}
    # The answer holds until the rollout's next step, and depends on the client only through its side of the
    # share; without a rollout, not at all.
    keep_until(request.scope, checked.until)
    share = None
    rollout = checked.channel.rollout
    if checked.percent is not None and rollout is not None:
        share = Share(slug, name, rollout.version, checked.percent)
    answered_for(request.scope, share)
    if checked.found is None:
        return Response(status_code=204, headers=headers)
    release, artifact = checked.found
    return answer(
        {"release": render_release(release), "artifact": render_artifact(release.app, release.version, artifact)},
        headers=headers,
    )


@operation(
    "get",
    "An app's downloads (GETs of its files from byte 0) and update checks by the version clients run, per UTC "
    "day; counts reach the store every few seconds.",
    {200: contract.Stats},
    query=contract.StatsQuery,
)
async def app_stats(request: Request) -> Response:
    query = contract.decode_query(contract.StatsQuery, dict(request.query_params))
    found = await call(request, counts.stats, _param(request, "slug"), days=query.days)
    return answer(render_stats(found))
