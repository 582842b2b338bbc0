"""What distd tells its operators: Prometheus metrics (`/metrics`) and an access log of JSON lines.

Every request gets a request id (the client's `X-Request-ID` when it sends a sane one, else a new one), returned
in the answer's `X-Request-ID` and written in its access log line. The log line holds the method, path, route,
status, sizes, duration, client address, user agent and whether the read cache answered; never a header that
carries a secret (Authorization) and no query parameter that could.

With several worker processes (`--workers N`) every process writes its numbers to files in
PROMETHEUS_MULTIPROC_DIR, which `dist serve` creates for the server and removes when it stops, and /metrics
sums them: whichever worker answers, the numbers are the server's. A server of one process keeps them in memory.

This runs for every request, cached update checks included, so each step is kept to a few microseconds: the
labelled series are looked up once, the log line goes straight to standard output in one `write` (without the
`logging` module's record, caller lookup and handler lock, which cost more than the rest of the line), and the
timestamp's seconds are formatted once a second.
"""

from __future__ import annotations

import itertools
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

import msgspec
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dist.domain.enums import Scope as TokenScope
from dist.http.cache import CACHE_SCOPE_KEY
from dist.http.context import bearer_token
from dist.http.counting import Counting
from dist.http.openapi import operation

MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
REQUEST_ID_HEADER = b"x-request-id"
REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
OTHER_ROUTE = "other"
# Query parameters whose values never reach the log.
SECRET_PARAMETERS = re.compile(r"token|secret|key|sig|auth|pass", re.IGNORECASE)
# From a cached read (well under a millisecond) to a large download.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

REQUESTS = Counter(
    "dist_http_requests", "HTTP requests answered, by route, method and status.", ["route", "method", "status"]
)
LATENCY = Histogram(
    "dist_http_request_duration_seconds",
    "Time from a request's arrival to the last byte of its answer, by route.",
    ["route"],
    buckets=LATENCY_BUCKETS,
)
BYTES_IN = Counter("dist_http_request_bytes", "Request body bytes received, by route.", ["route"])
BYTES_OUT = Counter("dist_http_response_bytes", "Response body bytes sent, by route.", ["route"])
UPDATE_CHECKS = Counter(
    "dist_update_checks", "Update checks answered (200 or 204), by app and channel.", ["app", "channel"]
)
CACHE_LOOKUPS = Counter(
    "dist_read_cache_lookups",
    "Public reads looked up in the read cache, by result (hit or miss): the hit ratio is hit / (hit + miss).",
    ["result"],
)
CACHE_HITS = CACHE_LOOKUPS.labels("hit")
CACHE_MISSES = CACHE_LOOKUPS.labels("miss")
UPDATE_CHECK_ROUTE = "/api/apps/{slug}/channels/{name}/latest"


def registry() -> CollectorRegistry:
    """The numbers of this server: every worker's when they are kept in files, else this process's."""
    if os.environ.get(MULTIPROC_DIR_ENV):
        merged = CollectorRegistry()
        MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        return merged
    return REGISTRY


@operation(
    "get",
    "Prometheus metrics (text format): requests by route and status, latency histograms, bytes in and out, "
    "update checks by app and channel, read cache hits and misses. Needs a token with the metrics scope.",
    {200: None},
    errors=(401, 403),
    scope=TokenScope.METRICS,
    extra={"responses": {"200": {"description": "Prometheus text format.", "content": {"text/plain": {}}}}},
)
async def metrics(request: Request) -> Response:
    await bearer_token(request, TokenScope.METRICS)
    return Response(generate_latest(registry()), media_type=CONTENT_TYPE_LATEST)


def update_check(path: str) -> tuple[str, str] | None:
    """(app, channel) of a path of the update check route."""
    if not (path.startswith("/api/apps/") and path.endswith("/latest")):
        return None
    parts = path[len("/api/apps/") : -len("/latest")].split("/")
    if len(parts) != 3 or parts[1] != "channels":
        return None
    return unquote(parts[0]), unquote(parts[2])


def current_version(query: bytes) -> str | None:
    if b"current=" not in query:
        return None
    found = [v for k, v in parse_qsl(query.decode("latin-1")) if k == "current"]
    return found[-1] if found else None


def logged_query(query: bytes) -> str:
    if not query:
        return ""
    text = query.decode("latin-1")
    # Most queries have nothing to decode or redact and are logged as they came.
    if not SECRET_PARAMETERS.search(text) and "%" not in text and "+" not in text:
        return text
    pairs = parse_qsl(text, keep_blank_values=True)
    return "&".join(f"{k}={'[redacted]' if SECRET_PARAMETERS.search(k) else v}" for k, v in pairs)


ROUTES_REMEMBERED = 4096


class Telemetry:
    """Outermost middleware: request id, metrics and the access log line of every request; it also counts the
    update checks that name the client's version (before the read cache, which answers most of them)."""

    def __init__(
        self,
        app: ASGIApp,
        routes: Sequence[BaseRoute],
        counting: Counting,
        log: Callable[[bytes], None] | None = None,
    ) -> None:
        """`log` takes each access log line (None: no access log)."""
        self.app = app
        self.counting = counting
        self.log = log
        self._series: dict[tuple[str, str, int], _Series] = {}
        self.routes = [(r.path_regex, r.path) for r in routes if isinstance(r, Route)]
        # Paths seen lately and their route: an updater fleet asks for the same few paths all day, and matching
        # every route's pattern in turn would cost each request more than the rest of the telemetry.
        self._seen: dict[str, str] = {}

    def route(self, path: str) -> str:
        found = self._seen.get(path)
        if found is not None:
            return found
        found = next((template for regex, template in self.routes if regex.match(path)), OTHER_ROUTE)
        if len(self._seen) >= ROUTES_REMEMBERED:
            self._seen.clear()
        self._seen[path] = found
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        path: str = scope["path"]
        method: str = scope["method"]
        status = 500
        sent = received = 0

        async def measured_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
            return message

        async def measured_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, measured_receive, measured_send)
        finally:
            elapsed = time.perf_counter() - started
            route = self.route(path)
            self._record(scope, route, method, status, elapsed, received, sent, request_id)

    def _record(
        self,
        scope: Scope,
        route: str,
        method: str,
        status: int,
        elapsed: float,
        received: int,
        sent: int,
        request_id: str,
    ) -> None:
        series = self._series.get((route, method, status))
        if series is None:
            series = self._series[(route, method, status)] = _Series(route, method, status)
        series.requests.inc()
        series.latency.observe(elapsed)
        if received:
            series.bytes_in.inc(received)
        if sent:
            series.bytes_out.inc(sent)
        cache = scope.get(CACHE_SCOPE_KEY)
        if cache is not None:
            (CACHE_HITS if cache == "hit" else CACHE_MISSES).inc()
        if series.update_checks:
            check = update_check(scope["path"])
            if check is not None:
                UPDATE_CHECKS.labels(*check).inc()
                version = current_version(scope["query_string"])
                if version is not None:
                    self.counting.check(check[0], check[1], version)
        if self.log is not None:
            self.log(_encode(_line(scope, route, status, elapsed, received, sent, request_id, cache)) + b"\n")


class _Series:
    """The labelled series of one (route, method, status): prometheus-client's `labels()` validates and locks at
    every call, a dictionary lookup does not."""

    __slots__ = ("bytes_in", "bytes_out", "latency", "requests", "update_checks")

    def __init__(self, route: str, method: str, status: int) -> None:
        self.requests = REQUESTS.labels(route, method, str(status))
        self.latency = LATENCY.labels(route)
        self.bytes_in = BYTES_IN.labels(route)
        self.bytes_out = BYTES_OUT.labels(route)
        self.update_checks = status in (200, 204) and method == "GET" and route == UPDATE_CHECK_ROUTE


def stdout_writer() -> Callable[[bytes], None]:
    """Writes each access log line to standard output in one `write`: a line of under 4 KiB written so is never
    interleaved with another process's (`--workers N`), and it is in the file or pipe when the request ends."""
    fd = sys.stdout.fileno()

    def write(line: bytes) -> None:
        try:
            while line:
                line = line[os.write(fd, line) :]
        except OSError:
            # A closed or full log destination must not fail the request (as the logging module would not).
            pass

    return write


_encode = msgspec.json.Encoder().encode


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            text: str = value.decode("latin-1")
            if REQUEST_ID_RE.fullmatch(text):
                return text
            break
    return f"{_ID_PREFIX}{next(_ids):016x}"


# New request ids: 32 hex digits, a random half per process and a counter, unique without a call to the kernel.
_ID_PREFIX = os.urandom(8).hex()
_ids = itertools.count(1)


def _line(
    scope: Scope,
    route: str,
    status: int,
    elapsed: float,
    received: int,
    sent: int,
    request_id: str,
    cache: str | None,
) -> dict[str, Any]:
    user_agent = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"user-agent"), None)
    client = scope.get("client")
    return {
        "time": _timestamp(),
        "request_id": request_id,
        "client": client[0] if client else None,
        "method": scope["method"],
        "path": scope["path"],
        "query": logged_query(scope["query_string"]),
        "route": route,
        "status": status,
        "bytes_in": received,
        "bytes_out": sent,
        "duration_ms": round(elapsed * 1000, 3),
        "cache": cache,
        "user_agent": user_agent,
    }


_second: tuple[int, str] = (0, "")


def _timestamp() -> str:
    """The time in ISO 8601 UTC with milliseconds; the part up to the seconds is formatted once a second."""
    global _second
    now = time.time()
    second = int(now)
    if _second[0] != second:
        _second = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    return f"{_second[1]}.{int((now - second) * 1000):03d}Z"
