"""distd's HTTP/1.1 protocol: uvicorn's httptools protocol with the deadlines and bounds uvicorn leaves out.

httptools (llhttp) parses a request in C, at about twice the requests per second of uvicorn's pure-Python h11
protocol, which is what keeps the update check's tail latency low under many connections. But uvicorn waits
forever for a request head that arrives one byte at a time, and httptools buffers a header line of any length.
This subclass cuts off a connection whose request head is not complete within HEAD_TIMEOUT, answers 431 once a
head runs past MAX_HEAD_BYTES (so a connection never holds more of one), and closes a connection whose client
goes on sending a body after the answer was given (uvicorn would wait for it).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from dist.http.limits import MAX_HEADER_BYTES

# Seconds a client has to send a whole request head, from its first byte (or from the connection).
HEAD_TIMEOUT = 5.0
# The most a connection receives of an incomplete request head: the 8 KiB of headers that the application
# checks (and answers 431 above), plus as much again for the request line.
MAX_HEAD_BYTES = 2 * MAX_HEADER_BYTES
# Seconds a client may go on sending a body the server has already answered without reading.
DRAIN_TIMEOUT = 5.0


def _raw_response(status: int, reason: str, code: str, message: str) -> bytes:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


REQUEST_TIMEOUT = _raw_response(
    408, "Request Timeout", "request.timeout", f"the request head was not complete within {HEAD_TIMEOUT:g} seconds"
)
HEAD_TOO_LARGE = _raw_response(
    431,
    "Request Header Fields Too Large",
    "request.headers_too_large",
    f"the request head is over {MAX_HEAD_BYTES} bytes",
)


class DistHTTPProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        # True from the end of a request (or the connection's start) until the next head is complete.
        self._awaiting_head = True
        self._head_bytes = 0
        self._heads = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(HEAD_TIMEOUT, REQUEST_TIMEOUT)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        counted, heads = self._awaiting_head, self._heads
        super().data_received(data)
        if self.transport.is_closing():
            return
        # Bytes count towards a head only when all of them may belong to it: a chunk that completed a head, or
        # that began while a body was still arriving, is not counted (the bound stays one chunk away at most).
        if counted and heads == self._heads:
            self._head_bytes += len(data)
        answered = self.cycle is None or self.cycle.response_complete
        if self._awaiting_head and self._head_bytes > MAX_HEAD_BYTES:
            self._disarm()
            if answered:
                self.transport.write(HEAD_TOO_LARGE)
            self.transport.close()
        elif self._awaiting_head and answered:
            # A head is (still) on its way: its deadline runs from its first byte, not from the latest one.
            if self._deadline is None:
                self._arm(HEAD_TIMEOUT, REQUEST_TIMEOUT)
        elif not answered:
            self._disarm()

    def on_headers_complete(self) -> None:
        self._awaiting_head = False
        self._head_bytes = 0
        self._heads += 1
        self._disarm()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._awaiting_head = True

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing():
            return
        if not self._awaiting_head:
            # Answered before the body was read (401, 413, ...): the rest of the body is not waited for long.
            self._arm(DRAIN_TIMEOUT, b"")

    def send_400_response(self, msg: str) -> None:
        if self.cycle is not None and not self.cycle.response_complete and not self.cycle.more_body:
            # Bytes past the request being answered do not parse (a body longer than its Content-Length): the
            # answer goes out first, then the connection is closed.
            self.cycle.keep_alive = False
            self.transport.pause_reading()
            return
        super().send_400_response(msg)

    def _arm(self, seconds: float, answer: bytes) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._cut_off, answer)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _cut_off(self, answer: bytes) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if answer and (self.cycle is None or self.cycle.response_complete):
            self.transport.write(answer)
        self.transport.close()
