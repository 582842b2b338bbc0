"""distd's HTTP/1.1 protocol: uvicorn's h11 protocol with the deadlines and bounds uvicorn leaves out.

uvicorn waits forever for a request head that arrives one byte at a time, and its httptools parser buffers a
header block of any size before the application sees it. This subclass of the h11 protocol (whose receive
buffer is bounded by `h11_max_incomplete_event_size`) cuts off a connection whose request head is not complete
within HEAD_TIMEOUT, answers 431 rather than a bare 400 when the head overflows that buffer, and closes a
connection whose client goes on sending a body after the answer was given (uvicorn would wait for it).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from dist.http.limits import MAX_HEADER_BYTES

# Seconds a client has to send a whole request head, from its first byte (or from the connection).
HEAD_TIMEOUT = 5.0
# The most a connection buffers of an incomplete request head: the 8 KiB of headers that the application
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


class DistHTTPProtocol(H11Protocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._refusal_hint: int | None = None
        next_event = self.conn.next_event

        # h11 reports an overflowing head as a protocol error hinting 431; uvicorn turns every protocol error
        # into a 400, so the hint is kept here for send_400_response.
        def remember_hint() -> Any:
            try:
                return next_event()
            except h11.RemoteProtocolError as error:
                self._refusal_hint = error.error_status_hint
                raise

        self.conn.next_event = remember_hint  # type: ignore[method-assign]

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(HEAD_TIMEOUT, REQUEST_TIMEOUT)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.transport.is_closing():
            return
        if self.conn.their_state is h11.IDLE:
            # A head is (still) on its way: its deadline runs from its first byte, not from the latest one.
            if self._deadline is None:
                self._arm(HEAD_TIMEOUT, REQUEST_TIMEOUT)
        elif self.conn.our_state is not h11.DONE:
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing():
            return
        if self.conn.their_state is h11.SEND_BODY:
            # Answered before the body was read (401, 413, ...): the rest of the body is not waited for long.
            self._arm(DRAIN_TIMEOUT, b"")

    def send_400_response(self, msg: str) -> None:
        if self._refusal_hint == 431:
            self._disarm()
            self.transport.write(HEAD_TOO_LARGE)
            self.transport.close()
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
