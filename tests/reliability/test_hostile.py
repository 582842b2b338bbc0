"""Clients that try to tie distd up or guess their way in: slow heads, stalled bodies, idle connections,
oversized header blocks, lying lengths, repeated bad tokens."""

from __future__ import annotations

import hashlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dist.persistence.store import StoreLocation
from tests.reliability.conftest import Outputs, Servers, admin_secret, run_dist
from tests.support import Server, raw_request

CAP = 1024 * 1024
BODY_TIMEOUT = 2


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    """One distd for the module, with a short body timeout, on an embedded store: these limits live above the
    database."""
    tmp_path = tmp_path_factory.mktemp("hostile")
    location = StoreLocation(tmp_path / "store")
    running = Servers(location, tmp_path, Outputs())
    try:
        server = running.start("--max-upload", "1MiB", "--body-timeout", str(BODY_TIMEOUT))
        yield server, admin_secret(location)
    finally:
        running.stop_all()


def read_until_closed(connection: socket.socket) -> bytes:
    """What the server sends until it closes; a reset (bytes of ours that arrived after its close) ends it too."""
    answer = b""
    try:
        while chunk := connection.recv(65536):
            answer += chunk
    except ConnectionResetError:
        pass
    return answer


def left_behind(server: Server) -> list[Path]:
    """Files in tmp/ and objects/, once the server has had a moment to clean up after a refusal."""
    root = server.location.root
    deadline = time.monotonic() + 10
    while any((root / "tmp").iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return sorted((root / "tmp").iterdir()) + sorted((root / "objects").rglob("*"))


def test_a_head_sent_one_byte_a_second_is_cut_off(hostile: tuple[Server, str]) -> None:
    server, _ = hostile
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 40
    answer, sent = b"", 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=1) as connection:
        for byte in head:
            try:
                connection.sendall(bytes([byte]))
            except OSError:
                break
            sent += 1
            try:
                # Waiting a second for an answer paces the client at a byte a second.
                answer = connection.recv(65536)
                break
            except TimeoutError:
                continue
        connection.settimeout(10)
        answer += read_until_closed(connection)
    # A byte a second: cut off after at most ten of them.
    assert sent <= 10
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_a_stalled_body_is_refused_and_nothing_is_kept(hostile: tuple[Server, str]) -> None:
    server, secret = hostile
    for path in ("/api/upload", "/api/apps/demo/releases"):
        with socket.create_connection(("127.0.0.1", server.port), timeout=BODY_TIMEOUT * 5) as connection:
            head = f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {secret}\r\nContent-Length: 5000\r\n\r\n"
            connection.sendall(head.encode() + b"{" * 100)
            answer = read_until_closed(connection)
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line.startswith(b"HTTP/1.1 408 "), answer
        assert json.loads(rest.partition(b"\r\n\r\n")[2])["error"]["code"] == "request.timeout"
    assert left_behind(server) == []


def test_idle_connections_do_not_stop_normal_requests(hostile: tuple[Server, str]) -> None:
    server, _ = hostile
    idle = []
    try:
        for n in range(500):
            connection = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            # Half of them send the start of a head, half nothing at all.
            if n % 2:
                connection.sendall(b"GET /api/apps HTTP/1.1\r\nHost: x\r\n")
            idle.append(connection)
        with httpx.Client(base_url=server.url, timeout=10) as http:
            answers = [http.get("/api/apps").status_code for _ in range(50)]
        assert answers == [200] * 50
    finally:
        for connection in idle:
            connection.close()


def _head_with_header_bytes(port: int, total: int) -> tuple[int, bytes]:
    """A GET whose header lines (name, value, ': ' and CRLF each) add up to `total` bytes."""
    host = "Host: x"
    filler = total - (len(host) + 2) - len("X-Fill: \r\n")
    return raw_request(port, f"GET /healthz HTTP/1.1\n{host}\nX-Fill: {'f' * filler}\n")


def test_header_blocks_over_8_kib_get_431(hostile: tuple[Server, str]) -> None:
    server, _ = hostile
    assert _head_with_header_bytes(server.port, 8192)[0] == 200
    status, body = _head_with_header_bytes(server.port, 8193)
    assert (status, json.loads(body)["error"]["code"]) == (431, "request.headers_too_large")
    # A head far past any limit is refused without being buffered whole, and the connection closed.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        try:
            for _ in range(1024):
                connection.sendall(b"X-Big: " + b"b" * 1017 + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = read_until_closed(connection)
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_lying_lengths_and_uploads_past_the_cap_leave_nothing(hostile: tuple[Server, str]) -> None:
    server, secret = hostile
    auth = f"Authorization: Bearer {secret}\n"
    status, body = raw_request(server.port, f"POST /api/upload HTTP/1.1\nHost: x\n{auth}Content-Length: {CAP + 1}\n")
    assert (status, json.loads(body)["error"]["code"]) == (413, "request.too_large")
    with httpx.Client(base_url=server.url, timeout=10) as http:
        chunked = http.post("/api/upload", content=iter([b"a" * 10]), headers={"Authorization": f"Bearer {secret}"})
        assert chunked.status_code == 411
    # Shorter than declared: the client goes away mid-body.
    raw_request(
        server.port,
        f"POST /api/upload HTTP/1.1\nHost: x\n{auth}Content-Length: 50000\n",
        b"a" * 20000,
        close_early=True,
    )
    # Longer than declared: the declared bytes are the body, and they do not hash to what the client promised;
    # the rest is not a request.
    sent = b"b" * 3000
    digest = hashlib.sha256(sent).hexdigest()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        head = f"POST /api/upload HTTP/1.1\r\nHost: x\r\n{auth.strip()}\r\nX-Content-SHA256: {digest}\r\n"
        connection.sendall(f"{head}Content-Length: 1000\r\n\r\n".encode() + sent)
        answer = b""
        while b"upload.digest_mismatch" not in answer and (chunk := connection.recv(65536)):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 422 "), answer
    assert b"upload.digest_mismatch" in answer
    assert left_behind(server) == []


def test_repeated_bad_tokens_from_one_address_are_rate_limited(hostile: tuple[Server, str]) -> None:
    server, secret = hostile
    guess = {"Authorization": "Bearer dist_" + "0" * 64}
    good = {"Authorization": f"Bearer {secret}"}
    # From an address of its own, so that the other tests' address is never limited.
    guesser = httpx.HTTPTransport(local_address="127.0.0.3")
    with httpx.Client(base_url=server.url, timeout=10, transport=guesser) as http:
        answers = [http.post("/api/apps/demo/channels/beta/rollback", json={}, headers=guess) for _ in range(10)]
        assert [a.json()["error"]["code"] for a in answers] == ["auth.unknown"] * 10
        limited = http.post("/api/apps/demo/channels/beta/rollback", json={}, headers=guess)
        assert (limited.status_code, limited.json()["error"]["code"]) == (429, "auth.rate_limited")
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        # While it lasts, the address is refused even with a good token; reads stay open.
        assert http.post("/api/apps/demo/channels/beta/rollback", json={}, headers=good).status_code == 429
        assert http.get("/api/apps").status_code == 200
    # Another address is not affected.
    transport = httpx.HTTPTransport(local_address="127.0.0.4")
    with httpx.Client(base_url=server.url, timeout=10, transport=transport) as other:
        passed = other.post("/api/apps/demo/channels/beta/rollback", json={}, headers=good)
        assert (passed.status_code, passed.json()["error"]["code"]) == (404, "app.not_found")


@pytest.mark.parametrize("value", ["0", "nan"])
def test_body_timeout_must_be_a_positive_number_of_seconds(tmp_path: Path, value: str) -> None:
    done = run_dist(StoreLocation(tmp_path / "store"), "serve", "--body-timeout", value)
    assert done.returncode == 2
    assert done.stderr.startswith("error: usage.invalid: ") and "--body-timeout" in done.stderr


def test_a_body_trickling_after_an_early_answer_is_cut_off(hostile: tuple[Server, str]) -> None:
    server, _ = hostile
    answer, sent = b"", 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=1) as connection:
        # Refused (401) before the body is read; the client then sends the body a byte a second.
        connection.sendall(b"POST /api/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
        for _ in range(100):
            try:
                connection.sendall(b"x")
            except OSError:
                break
            sent += 1
            try:
                chunk = connection.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 401 "), answer
    # The connection is closed within ten seconds, long before the 100 bytes are through.
    assert sent <= 10
