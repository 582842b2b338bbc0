"""The read cache: public GET answers kept in memory and replayed from the event loop, without the thread
pool or the database, until anything is committed to the store.

Every commit empties it: one made through this process (any request but GET or HEAD) as soon as it answers,
one made elsewhere (the `dist` CLI, another distd) as the store's change watch reports it (see
dist.persistence.changes), which is checked before each cached read. An answer is kept only when no change was
seen while it was computed, so a read that raced a write never outlives it. An answer that holds only until a
rollout's next step (a route says so with `keep_until`) is dropped at that instant.

A client id (`?client=` or X-Dist-Client) can change an answer during a rollout. A route that reads one says
how its answer depends on it (`answered_for`): not at all (kept once for every client), only through whether
the client is in the rollout's share (kept twice, in and out, and each client's side computed here from its
bucket), or in a way the cache cannot tell (kept per client id).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dist.domain.errors import DistError
from dist.domain.rollouts import gets_new_release, parse_client_id
from dist.pages.platforms import visitor_key
from dist.persistence.changes import ChangeWatch

MAX_ENTRIES = 4096
# How long a request waits for another computing the same answer before it computes the answer itself.
LEADER_WAIT_SECONDS = 5.0
MAX_BYTES = 16 * 1024 * 1024
MAX_ENTRY_BYTES = 1024 * 1024
# The public reads: apps, releases, channels, history, the update check, the feeds and the download pages, but
# not downloads.
CACHED_PREFIXES = ("/api/apps", "/feeds/", "/apps/")
FEEDS_PREFIX = "/feeds/"
PAGES_PREFIX = "/apps/"
INDEX_PAGE = "/"
NOT_CACHED = "/artifacts/"
NO_CACHE_PARAMETER = b"noCache="
SAFE_METHODS = ("GET", "HEAD")
# The request header that names a client for a rollout: answers differ by it, so keys do.
CLIENT_HEADER = b"x-dist-client"
CLIENT_PARAMETER = b"client="
# Where a route notes, in the request's scope, until when its answer holds (a rollout's next step).
KEEP_UNTIL = "dist.keep_until"
# Where a route that read a client id notes how its answer depends on it.
ANSWERED_FOR = "dist.answered_for"


@dataclass(frozen=True, slots=True)
class Share:
    """An answer that depends on the client only through whether it is in this rollout's share."""

    app: str
    channel: str
    version: str
    percent: int

    def side(self, client: str) -> bytes:
        return b"#in" if gets_new_release(self.percent, self.app, self.channel, self.version, client) else b"#out"


# The answer is the same for every client.
EVERY_CLIENT = "every client"


def answered_for(scope: MutableMapping[str, Any], share: Share | None) -> None:
    """Say how the answer being computed depends on the client: only through `share`, or (None) not at all."""
    scope[ANSWERED_FOR] = share if share is not None else EVERY_CLIENT


CACHE_SCOPE_KEY = "dist.cache"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    # After this instant the answer is stale (a rollout has taken its next step); None: until the next change.
    expires: datetime | None = None


def keep_until(scope: MutableMapping[str, Any], when: datetime | None) -> None:
    """Say that the answer being computed holds until `when` at most (None: no limit from this part of it)."""
    if when is None:
        return
    earlier: datetime | None = scope.get(KEEP_UNTIL)
    scope[KEEP_UNTIL] = when if earlier is None else min(earlier, when)


class ReadCache:
    """A bounded LRU of answers valid for one generation of the store; a change starts a new, empty one."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.watch: ChangeWatch | None = None
        # The store's clock, which rollouts step by (set with the store when the server starts).
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.generation = 0
        self.hits = 0
        self._answers: OrderedDict[bytes, Answer] = OrderedDict()
        self._bytes = 0
        # How the answers under a key depend on the client (see `answered_for`), until when.
        self._dependence: dict[bytes, tuple[Share | str, datetime | None]] = {}

    def invalidate(self) -> None:
        self.generation += 1
        self._answers.clear()
        self._bytes = 0
        self._dependence.clear()

    def dependence(self, key: bytes) -> Share | str | None:
        """How the answers under `key` depend on the client, when a route said so in this generation."""
        found = self._dependence.get(key)
        if found is None:
            return None
        rule, expires = found
        if expires is not None and expires <= self.clock():
            del self._dependence[key]
            return None
        return rule

    def depends(self, key: bytes, rule: Share | str, expires: datetime | None, generation: int) -> None:
        if generation != self.generation:
            return
        if len(self._dependence) >= self.max_entries:
            self._dependence.clear()
        self._dependence[key] = (rule, expires)

    def current(self) -> int | None:
        """The generation after catching up with changes, or None when changes could go unseen."""
        watch = self.watch
        if watch is None or not watch.live:
            return None
        watch.poll()
        return self.generation if watch.live else None

    def get(self, key: bytes) -> Answer | None:
        answer = self._answers.get(key)
        if answer is not None and answer.expires is not None and answer.expires <= self.clock():
            del self._answers[key]
            self._bytes -= len(answer.body) + len(key)
            return None
        if answer is not None:
            self._answers.move_to_end(key)
            self.hits += 1
        return answer

    def put(self, key: bytes, answer: Answer, generation: int) -> None:
        """Keep `answer` unless the store changed since `generation` was read."""
        size = len(answer.body) + len(key)
        if generation != self.generation or size > MAX_ENTRY_BYTES:
            return
        previous = self._answers.pop(key, None)
        if previous is not None:
            self._bytes -= len(previous.body) + len(key)
        self._answers[key] = answer
        self._bytes += size
        while len(self._answers) > self.max_entries or self._bytes > self.max_bytes:
            old_key, old = self._answers.popitem(last=False)
            self._bytes -= len(old.body) + len(old_key)


def feed_key(scope: Scope, query: bytes) -> bytes:
    """A feed's cache key. Its URLs may come from the request's scheme and Host (no public URL set): one
    answer for each. electron-updater adds a random `noCache` parameter to every check, which no feed reads:
    left in, it would make every check a miss and push the other answers out."""
    path: str = scope["path"]
    scheme: str = scope["scheme"]
    query = b"&".join(p for p in query.split(b"&") if not p.startswith(NO_CACHE_PARAMETER))
    host = Headers(scope=scope).get("host", "")
    return f"{path}?".encode() + query + f"#{scheme}://{host}".encode()


class Unkeyable(Exception):
    """A request whose client id the cache cannot read as the route would: it is answered uncached."""


def client_of(scope: Scope) -> tuple[bytes, str | None]:
    """The query string without its client id, and the client id the routes read (`?client=`, else the
    X-Dist-Client header), normalised as they normalise it."""
    query: bytes = scope["query_string"]
    given: str | None = None
    if CLIENT_PARAMETER in query:
        parameters = query.split(b"&")
        named = [p for p in parameters if p.startswith(CLIENT_PARAMETER)]
        if len(named) > 1:
            raise Unkeyable
        query = b"&".join(p for p in parameters if not p.startswith(CLIENT_PARAMETER))
        given = unquote_plus(named[0][len(CLIENT_PARAMETER) :].decode("latin-1")) if named else None
    if not given:
        for name, value in scope["headers"]:
            if name == CLIENT_HEADER:
                given = value.decode("latin-1")
                break
    try:
        return query, parse_client_id(given)
    except DistError:
        raise Unkeyable from None


def page_key(scope: Scope) -> bytes:
    """A download page's cache key: the page shows the visitor's platform first, so one answer per platform."""
    user_agent = Headers(scope=scope).get("user-agent")
    path: str = scope["path"]
    query: bytes = scope["query_string"]
    return f"{path}?".encode() + query + f"#{visitor_key(user_agent)}".encode()


class ReadCacheMiddleware:
    """Answers cached GETs of the public read routes and records new ones; any other method invalidates the
    cache when it answers (its transaction has committed by then) and when it ends."""

    def __init__(self, app: ASGIApp, cache: ReadCache) -> None:
        self.app = app
        self.cache = cache
        # The answers being computed, by key, each with the event set once it is kept (or cannot be).
        self._computing: dict[bytes, asyncio.Event] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method not in SAFE_METHODS:
            await self._write(scope, receive, send)
            return
        path: str = scope["path"]
        generation = self.cache.current() if method == "GET" else None
        cached = path.startswith(CACHED_PREFIXES) or path == INDEX_PAGE
        if generation is None or not cached or NOT_CACHED in path:
            await self.app(scope, receive, send)
            return
        try:
            query, client = client_of(scope)
        except Unkeyable:
            await self.app(scope, receive, send)
            return
        if path.startswith(FEEDS_PREFIX):
            key = feed_key(scope, query)
        elif path.startswith(PAGES_PREFIX):
            key = page_key(scope)
        else:
            key = path.encode() + b"?" + query
        answer = self.cache.get(self._variant(key, client))
        leader = self._computing.get(key) if answer is None else None
        if leader is not None:
            # After a change empties the cache, the busiest answers are asked for many times at once: one request
            # computes each, and the others wait for it rather than run the same queries side by side.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(LEADER_WAIT_SECONDS):
                    await leader.wait()
            answer = self.cache.get(self._variant(key, client))
        # For the metrics (dist.http.telemetry): whether the cache answered.
        scope[CACHE_SCOPE_KEY] = "miss" if answer is None else "hit"
        if answer is not None:
            await send({"type": "http.response.start", "status": answer.status, "headers": answer.headers})
            await send({"type": "http.response.body", "body": answer.body})
            return
        if leader is not None or key in self._computing:
            await self._record(scope, receive, send, key, client, generation)
            return
        kept = self._computing[key] = asyncio.Event()
        try:
            await self._record(scope, receive, send, key, client, generation, kept)
        finally:
            del self._computing[key]
            kept.set()

    def _variant(self, key: bytes, client: str | None, rule: Share | str | None = None) -> bytes:
        """Where the answer for `client` is kept among the answers under `key`."""
        if client is None:
            return key
        if rule is None:
            rule = self.cache.dependence(key)
        if rule == EVERY_CLIENT:
            return key
        if isinstance(rule, Share):
            return key + rule.side(client)
        return key + b"#client=" + client.encode()

    async def _write(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def invalidating_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.cache.invalidate()
            await send(message)

        try:
            await self.app(scope, receive, invalidating_send)
        finally:
            self.cache.invalidate()

    async def _record(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        key: bytes,
        client: str | None,
        generation: int,
        kept: asyncio.Event | None = None,
    ) -> None:
        start: Message = {}
        chunks: list[bytes] = []

        async def recording_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                # Server errors (a database gone away) are never kept; neither are streamed answers.
                if not message.get("more_body", False) and start["status"] < 500 and len(chunks) == 1:
                    expires = scope.get(KEEP_UNTIL)
                    answer = Answer(start["status"], list(start.get("headers", [])), chunks[0], expires)
                    # The change watch is polled again: a commit seen only now may predate this answer.
                    if self.cache.current() == generation:
                        rule = scope.get(ANSWERED_FOR)
                        if client is not None and rule is not None:
                            self.cache.depends(key, rule, expires, generation)
                        self.cache.put(self._variant(key, client, rule), answer, generation)
                if not message.get("more_body", False) and kept is not None:
                    # Whoever waits for this answer finds it kept now, before it reaches this request's client.
                    kept.set()
            await send(message)

        await self.app(scope, receive, recording_send)
