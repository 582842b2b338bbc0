"""The read cache: public GET answers kept in memory and replayed from the event loop, without the thread
pool or the database, until anything is committed to the store.

Every commit empties it: one made through this process (any request but GET or HEAD) as soon as it answers,
one made elsewhere (the `dist` CLI, another distd) as the store's change watch reports it (see
dist.persistence.changes), which is checked before each cached read. An answer is kept only when no change was
seen while it was computed, so a read that raced a write never outlives it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dist.pages.platforms import visitor_key
from dist.persistence.changes import ChangeWatch

MAX_ENTRIES = 4096
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
CACHE_SCOPE_KEY = "dist.cache"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class ReadCache:
    """A bounded LRU of answers valid for one generation of the store; a change starts a new, empty one."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.watch: ChangeWatch | None = None
        self.generation = 0
        self.hits = 0
        self._answers: OrderedDict[bytes, Answer] = OrderedDict()
        self._bytes = 0

    def invalidate(self) -> None:
        self.generation += 1
        self._answers.clear()
        self._bytes = 0

    def current(self) -> int | None:
        """The generation after catching up with changes, or None when changes could go unseen."""
        watch = self.watch
        if watch is None or not watch.live:
            return None
        watch.poll()
        return self.generation if watch.live else None

    def get(self, key: bytes) -> Answer | None:
        answer = self._answers.get(key)
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


def feed_key(scope: Scope) -> bytes:
    """A feed's cache key. Its URLs may come from the request's scheme and Host (no public URL set): one
    answer for each. electron-updater adds a random `noCache` parameter to every check, which no feed reads:
    left in, it would make every check a miss and push the other answers out."""
    path: str = scope["path"]
    scheme: str = scope["scheme"]
    parameters: list[bytes] = scope["query_string"].split(b"&")
    query = b"&".join(p for p in parameters if not p.startswith(NO_CACHE_PARAMETER))
    host = Headers(scope=scope).get("host", "")
    return f"{path}?".encode() + query + f"#{scheme}://{host}".encode()


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
        key = path.encode() + b"?" + scope["query_string"]
        if path.startswith(FEEDS_PREFIX):
            key = feed_key(scope)
        elif path.startswith(PAGES_PREFIX):
            key = page_key(scope)
        answer = self.cache.get(key)
        # For the metrics (dist.http.telemetry): whether the cache answered.
        scope[CACHE_SCOPE_KEY] = "miss" if answer is None else "hit"
        if answer is not None:
            await send({"type": "http.response.start", "status": answer.status, "headers": answer.headers})
            await send({"type": "http.response.body", "body": answer.body})
            return
        await self._record(scope, receive, send, key, generation)

    async def _write(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def invalidating_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.cache.invalidate()
            await send(message)

        try:
            await self.app(scope, receive, invalidating_send)
        finally:
            self.cache.invalidate()

    async def _record(self, scope: Scope, receive: Receive, send: Send, key: bytes, generation: int) -> None:
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
                    answer = Answer(start["status"], list(start.get("headers", [])), chunks[0])
                    # The change watch is polled again: a commit seen only now may predate this answer.
                    if self.cache.current() == generation:
                        self.cache.put(key, answer, generation)
            await send(message)

        await self.app(scope, receive, recording_send)
