"""distd's HTTP/1.1 protocol against raw sockets: a header line without end, pipelined requests, a client that
keeps its connection busy past the head deadline."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from dist.http.protocol import HEAD_TIMEOUT, MAX_HEAD_BYTES
from dist.persistence.store import StoreLocation
from tests.support import Server, start, stop


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp_path = tmp_path_factory.mktemp("protocol")
    location = StoreLocation(tmp_path / "store")
    log = tmp_path / "distd.log"
    process, port = start(location, log)
    try:
        yield Server(f"http://127.0.0.1:{port}", port, location, log)
    finally:
        stop(process)


def read_answers(connection: socket.socket, count: int) -> list[bytes]:
    """The status lines of `count` answers, each read with its Content-Length body."""
    buffer, lines = b"", []
    while len(lines) < count:
        while b"\r\n\r\n" not in buffer:
            chunk = connection.recv(65536)
            assert chunk, (lines, buffer)
            buffer += chunk
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        fields = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:])
        length = int(fields[b"content-length"])
        while len(buffer) < length:
            buffer += connection.recv(65536)
        buffer = buffer[length:]
        lines.append(head.split(b"\r\n")[0])
    return lines


def test_a_header_line_without_end_is_refused_once_past_the_bound(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        # A small send buffer: what the kernel queues for a server that has stopped reading stays small, so the
        # count below measures the server's bound, not how long a loaded machine took to schedule its close.
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Endless: ")
        sent = 0
        try:
            while sent < 64 * MAX_HEAD_BYTES:
                connection.sendall(b"e" * 4096)
                sent += 4096
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    # The connection was closed long before the whole line was sent, with a 431 when it could still be read.
    assert sent < 64 * MAX_HEAD_BYTES
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431 "), answer[:200]


def test_pipelined_requests_are_answered_in_order(server: Server) -> None:
    requests = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(requests + b"GET /api/apps HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_answers(connection, 3) == [b"HTTP/1.1 200 OK", b"HTTP/1.1 404 Not Found", b"HTTP/1.1 200 OK"]


def test_a_connection_in_use_outlives_the_head_deadline(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        deadline = time.monotonic() + HEAD_TIMEOUT + 1
        answered = 0
        while time.monotonic() < deadline:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_answers(connection, 1) == [b"HTTP/1.1 200 OK"]
            answered += 1
            time.sleep(0.25)
    assert answered > HEAD_TIMEOUT * 2
