"""Conditional GET: a 200 whose ETag the client already holds (If-None-Match) becomes a 304 without a body.

It sits outside the read cache, so a replayed answer is checked the same way as a fresh one, and the cache
only ever keeps full answers.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# What a 304 repeats of the 200 it stands for (RFC 9110 §15.4.5).
KEPT_ON_304 = (b"etag", b"cache-control", b"vary", b"content-location", b"expires", b"date")


def etag_matches(header: str, etag: str) -> bool:
    """If-None-Match's weak comparison: `W/"x"` matches `"x"`, and `*` matches any."""
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag.removeprefix("W/") in tags


class ConditionalGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        if_none_match = Headers(scope=scope).get("if-none-match")
        if if_none_match is None:
            await self.app(scope, receive, send)
            return
        replaced = False

        async def conditional_send(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] == 200:
                etag = Headers(raw=message.get("headers", [])).get("etag")
                if etag is not None and etag_matches(if_none_match, etag):
                    replaced = True
                    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() in KEPT_ON_304]
                    await send({"type": "http.response.start", "status": 304, "headers": headers})
                    await send({"type": "http.response.body", "body": b""})
                    return
            if replaced:
                return
            await send(message)

        await self.app(scope, receive, conditional_send)
