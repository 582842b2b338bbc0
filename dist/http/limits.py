"""Limits on what a client may send: header size, declared and actual body length, JSON size, body pace."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dist.domain.errors import DistError, ErrorKind, Malformed, TooLarge
from dist.http.contract import parse_json
from dist.http.defaults import DEFAULT_BODY_TIMEOUT
from dist.http.errors import BodyTimeout, error_response

MAX_HEADER_BYTES = 8 * 1024
MAX_JSON_BYTES = 1024 * 1024


class BodyPace:
    """Gives each wait for the next piece of a request body `seconds` at most: uvicorn waits forever for a
    client that stops sending, holding the connection and the upload's tmp/ file."""

    def __init__(self, app: ASGIApp, seconds: float = DEFAULT_BODY_TIMEOUT) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        body_done = False

        async def timed_receive() -> Message:
            nonlocal body_done
            if body_done:
                # After the body, receive() only waits for a disconnect (e.g. during a long download).
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.seconds)
            except TimeoutError:
                raise BodyTimeout(f"no byte of the body arrived for {self.seconds:g} seconds") from None
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, timed_receive, send)


class HeaderLimit:
    """Answers 431 to a request whose header block is over 8 KiB.

    uvicorn's httptools parser has no limit of its own and h11's refuses with a bare 400, so this check on
    the parsed headers is what guarantees the 431, whichever parser runs.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_HEADER_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            # Each header line is `name: value` and CRLF.
            size = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
            if size > self.limit:
                response = error_response(
                    431, "request.headers_too_large", f"the request headers are over {self.limit} bytes"
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def declared_length(request: Request, cap: int) -> int:
    """The body's Content-Length, checked against `cap` before any byte of the body is read."""
    if "transfer-encoding" in request.headers or "content-length" not in request.headers:
        raise DistError(
            "request.length_required", "send the body with a Content-Length header", ErrorKind.LENGTH_REQUIRED
        )
    text = request.headers["content-length"]
    if not (text.isascii() and text.isdigit()):
        raise Malformed("request.malformed", "Content-Length is not a number")
    length = int(text)
    if length > cap:
        raise TooLarge("request.too_large", f"the body is {length} bytes; the limit here is {cap} bytes")
    return length


async def body_chunks(request: Request, length: int) -> AsyncIterator[bytes]:
    """The body as it arrives, cut off with 413 if it runs past its declared `length`."""
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > length:
                raise TooLarge("request.too_large", f"the body runs past its Content-Length of {length} bytes")
            if chunk:
                yield chunk
    except ClientDisconnect:
        raise Malformed("request.incomplete", "the client went away before the body was complete") from None
    if received < length:
        raise Malformed("request.incomplete", f"the body ended after {received} of its {length} bytes")


async def read_json_bytes(request: Request) -> bytes:
    """The body of a JSON request (at most 1 MiB), as sent."""
    length = declared_length(request, MAX_JSON_BYTES)
    return b"".join([chunk async for chunk in body_chunks(request, length)])


async def read_json(request: Request, *, optional: bool = False) -> Any:
    """The JSON document in the body (at most 1 MiB), for `contract.decode_body`; `{}` for an empty body when
    `optional`."""
    data = await read_json_bytes(request)
    if not data and optional:
        return {}
    return parse_json(data)
