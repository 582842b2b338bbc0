"""The distd application: one list of routes over the services, the open store in lifespan state."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dist.delivery.worker import DeliveryWorker
from dist.domain.values import parse_public_url
from dist.http import admin, downloads, feeds, pages, reads, webhooks, writes
from dist.http.cache import ReadCache, ReadCacheMiddleware
from dist.http.conditional import ConditionalGet
from dist.http.contract import encode
from dist.http.counting import Counting
from dist.http.defaults import DEFAULT_BODY_TIMEOUT, DEFAULT_COUNTS_INTERVAL, DEFAULT_MAX_UPLOAD
from dist.http.digests import DigestFiller
from dist.http.errors import EXCEPTION_HANDLERS
from dist.http.limits import BodyPace, HeaderLimit
from dist.http.openapi import OPENAPI_ANSWER, openapi_document, operation
from dist.http.ratelimit import AuthFailures
from dist.http.telemetry import Telemetry, metrics, stdout_writer
from dist.pages import STYLESHEET_PATH
from dist.persistence.changes import ChangeWatch, watch_for
from dist.persistence.store import Store, StoreLocation, open_store

MAX_UPLOAD_ENV = "DIST_MAX_UPLOAD"
BODY_TIMEOUT_ENV = "DIST_BODY_TIMEOUT"
ACCEL_REDIRECT_ENV = "DIST_ACCEL_REDIRECT"
PUBLIC_URL_ENV = "DIST_PUBLIC_URL"
WEBHOOKS_ALLOW_PRIVATE_ENV = "DIST_WEBHOOKS_ALLOW_PRIVATE"
OBJECTS_REDIRECT_ENV = "DIST_OBJECTS_REDIRECT"
COUNTS_INTERVAL_ENV = "DIST_COUNTS_INTERVAL"
# How long startup waits for the change watch before serving uncached (PostgreSQL's listener connecting).
WATCH_START_POLLS = 100
WATCH_START_POLL_SECONDS = 0.02
# How long shutdown waits for the delivery worker to finish what it is doing (recording attempts).
WORKER_STOP_SECONDS = 15.0


@operation("get", "This document (OpenAPI 3.1).", {200: None}, errors=(), extra=OPENAPI_ANSWER)
async def openapi(request: Request) -> Response:
    document: Callable[[], bytes] = request.state.openapi
    return Response(document(), media_type="application/json")


async def releases(request: Request) -> Response:
    # One route for both methods, so that a 405 on this path lists them both in Allow.
    if request.method == "POST":
        return await writes.publish(request)
    return await reads.list_releases(request)


releases.operations = {**reads.list_releases.operations, **writes.publish.operations}  # type: ignore[attr-defined]


async def app_route(request: Request) -> Response:
    if request.method == "PATCH":
        return await admin.update_app(request)
    return await reads.show_app(request)


app_route.operations = {**reads.show_app.operations, **admin.update_app.operations}  # type: ignore[attr-defined]


ROUTES = [
    Route("/healthz", reads.healthz),
    Route("/metrics", metrics),
    Route("/api/openapi.json", openapi),
    Route("/api/apps", reads.list_apps),
    Route("/api/apps/{slug}", app_route, methods=["GET", "PATCH"]),
    Route("/api/apps/{slug}/releases", releases, methods=["GET", "POST"]),
    Route("/api/apps/{slug}/releases/{version}", reads.show_release),
    Route("/api/apps/{slug}/releases/{version}/yank", writes.yank, methods=["POST"]),
    Route("/api/apps/{slug}/releases/{version}/artifacts/{filename}", downloads.artifact_by_filename),
    Route("/api/apps/{slug}/stats", reads.app_stats),
    Route("/api/apps/{slug}/channels", reads.list_channels),
    Route("/api/apps/{slug}/channels/{name}", reads.show_channel),
    Route("/api/apps/{slug}/channels/{name}/history", reads.channel_history),
    Route("/api/apps/{slug}/channels/{name}/latest", reads.latest),
    Route("/api/apps/{slug}/channels/{name}/promote", writes.promote, methods=["POST"]),
    Route("/api/apps/{slug}/channels/{name}/rollback", writes.rollback, methods=["POST"]),
    Route("/api/apps/{slug}/channels/{name}/rollout", writes.rollout, methods=["POST"]),
    Route("/api/objects/{sha256}", downloads.object_by_sha256),
    Route("/api/upload", writes.upload, methods=["POST"]),
    Route("/api/audit", admin.audit),
    Route("/api/tokens", admin.tokens_route, methods=["GET", "POST"]),
    Route("/api/tokens/{id}/revoke", admin.revoke_token, methods=["POST"]),
    Route("/api/token", admin.current_token),
    Route("/feeds/{slug}/electron/{file}", feeds.electron_channel_file),
    Route("/feeds/{slug}/squirrel/{channel}/{platform}/{version}", feeds.squirrel_mac),
    Route("/feeds/{slug}/squirrel/{channel}/{platform}/{version}/RELEASES", feeds.squirrel_windows),
    Route("/feeds/{slug}/tauri/{channel}.json", feeds.tauri_static),
    Route("/feeds/{slug}/tauri/{channel}/{target}/{arch}/{current_version}", feeds.tauri_dynamic),
    Route("/feeds/{slug}/sparkle/appcast.xml", feeds.sparkle_appcast),
    Route("/api/webhooks", webhooks.webhooks, methods=["GET", "POST"]),
    Route("/api/webhooks/deliveries", webhooks.list_deliveries),
    Route("/api/webhooks/deliveries/{id}/redeliver", webhooks.redeliver, methods=["POST"]),
    Route("/api/webhooks/{id}", webhooks.delete, methods=["DELETE"]),
    Route("/", pages.index),
    Route("/apps/{slug}", pages.app),
    Route("/apps/{slug}/releases/{version}", pages.release),
    Route(STYLESHEET_PATH, pages.css),
]


def create_app(
    source: StoreLocation | Store,
    *,
    max_upload: int = DEFAULT_MAX_UPLOAD,
    body_timeout: float = DEFAULT_BODY_TIMEOUT,
    accel_redirect: str | None = None,
    objects_redirect: bool = False,
    public_url: str | None = None,
    deliver_webhooks: bool = True,
    webhooks_allow_private: bool = False,
    counts_interval: float = DEFAULT_COUNTS_INTERVAL,
    access_log: Callable[[bytes], None] | None = None,
) -> Starlette:
    """The HTTP API over a store: given a location it opens the store at startup and closes it at shutdown;
    given an open Store it uses it and leaves closing it to the caller. A request body that stalls for
    `body_timeout` seconds is refused with 408. With `accel_redirect`, downloads answer with an
    X-Accel-Redirect to that prefix and no body, for nginx in front to send the file; with `objects_redirect`,
    downloads from a bucket answer 302 to a short-lived presigned URL. `public_url` is where
    clients reach the server (behind a proxy); the feeds' URLs start with it, else with the request's own.
    While it serves, a delivery worker sends the store's webhook deliveries (unless not `deliver_webhooks`),
    refusing endpoints on private addresses unless `webhooks_allow_private`. Downloads and update checks are
    counted and written to the store every `counts_interval` seconds and at shutdown (0: not counted).
    `access_log` takes each request's access log line (distd writes them to standard output)."""
    public = parse_public_url(public_url) if public_url is not None else None

    def state(opened: Store) -> dict[str, Any]:
        return {
            "store": opened,
            "max_upload": max_upload,
            # Built when first asked for: most servers never are, and building it leaves its garbage behind.
            "openapi": functools.cache(lambda: encode(openapi_document(ROUTES, max_upload))),
            "auth_failures": AuthFailures(),
            "accel_redirect": accel_redirect,
            "objects_redirect": objects_redirect,
            "public_url": public,
            "counting": counting,
            "digests": digests,
        }

    cache = ReadCache()
    counting = Counting(counts_interval)
    digests = DigestFiller()

    def worker(opened: Store) -> DeliveryWorker | None:
        return DeliveryWorker(opened, allow_private=webhooks_allow_private) if deliver_webhooks else None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        if isinstance(source, Store):
            async with (
                watching(cache, source, worker(source)),
                flushing(counting, source),
                digests.running(source),
            ):
                yield state(source)
            return
        opened = await run_in_threadpool(open_store, source)
        try:
            async with (
                watching(cache, opened, worker(opened)),
                flushing(counting, opened),
                digests.running(opened),
            ):
                yield state(opened)
        finally:
            opened.close()

    app = Starlette(
        routes=ROUTES,
        middleware=[
            Middleware(Telemetry, routes=ROUTES, counting=counting, log=access_log),
            Middleware(HeaderLimit),
            Middleware(BodyPace, seconds=body_timeout),
            Middleware(ConditionalGet),
            Middleware(ReadCacheMiddleware, cache=cache),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.read_cache = cache
    return app


@asynccontextmanager
async def watching(cache: ReadCache, opened: Store, worker: DeliveryWorker | None) -> AsyncIterator[None]:
    """The cache follows the store's changes while the server runs; until its watch is live (PostgreSQL's
    listener connected), answers are not cached. The delivery worker is woken by the same changes."""
    watch = watch_for(opened.engine.url)
    cache.watch = watch
    cache.clock = opened.clock

    def changed() -> None:
        cache.invalidate()
        if worker is not None:
            worker.wake()

    task = asyncio.create_task(watch.run(changed))
    for _ in range(WATCH_START_POLLS):
        if watch.live or task.done():
            break
        await asyncio.sleep(WATCH_START_POLL_SECONDS)
    delivering = asyncio.create_task(worker.run(lambda: polled(watch))) if worker is not None else None
    try:
        yield
    finally:
        if delivering is not None:
            # Asked to stop rather than cancelled: a database call it has running in a thread is waited for,
            # never abandoned with its connection while the store closes.
            assert worker is not None
            worker.stop()
            await asyncio.wait({delivering}, timeout=WORKER_STOP_SECONDS)
        for running in (delivering, task):
            if running is not None:
                running.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await running
        cache.watch = None
        watch.close()


@asynccontextmanager
async def flushing(counting: Counting, opened: Store) -> AsyncIterator[None]:
    """The counts are written every interval while the server runs, and once more when it stops."""
    if not counting.enabled:
        yield
        return
    counting.clock = opened.clock
    task = asyncio.create_task(counting.run(opened))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await counting.flush(opened)


def polled(watch: ChangeWatch) -> bool:
    """Catch up with the changes (each one calls back); whether the watch is live."""
    watch.poll()
    return watch.live


def app_from_environment() -> Starlette:
    """The factory uvicorn's worker processes call: the store from DIST_STORE / DIST_DATABASE_URL, the
    upload cap from DIST_MAX_UPLOAD, the body timeout from DIST_BODY_TIMEOUT, the public URL from
    DIST_PUBLIC_URL, the objects from DIST_OBJECTS and DIST_OBJECTS_REDIRECT, DIST_WEBHOOKS_ALLOW_PRIVATE and the
    counts' interval from DIST_COUNTS_INTERVAL, which `dist serve` sets before starting them."""
    cap = os.environ.get(MAX_UPLOAD_ENV)
    timeout = os.environ.get(BODY_TIMEOUT_ENV)
    accel = os.environ.get(ACCEL_REDIRECT_ENV)
    public_url = os.environ.get(PUBLIC_URL_ENV)
    counts_interval = os.environ.get(COUNTS_INTERVAL_ENV)
    return create_app(
        StoreLocation.resolve(),
        max_upload=int(cap) if cap else DEFAULT_MAX_UPLOAD,
        body_timeout=float(timeout) if timeout else DEFAULT_BODY_TIMEOUT,
        accel_redirect=accel or None,
        objects_redirect=os.environ.get(OBJECTS_REDIRECT_ENV) == "1",
        public_url=public_url or None,
        webhooks_allow_private=os.environ.get(WEBHOOKS_ALLOW_PRIVATE_ENV) == "1",
        counts_interval=float(counts_interval) if counts_interval else DEFAULT_COUNTS_INTERVAL,
        access_log=stdout_writer(),
    )
