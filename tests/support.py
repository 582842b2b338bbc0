"""Helpers of the acceptance tests: a real distd process on a free port, `dist` processes on its store, and
raw HTTP/1.1 requests sent byte for byte."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from dist.persistence.store import StoreLocation

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def store_args(location: StoreLocation) -> list[str]:
    args = ["--store", str(location.root)]
    args += ["--database-url", location.database_url] if location.database_url else []
    return [*args, "--objects", location.objects_url] if location.objects_url else args


@dataclass
class Server:
    url: str
    port: int
    location: StoreLocation
    log: Path

    def dist(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(BIN / "dist"), *store_args(self.location), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    def token(self, *args: str) -> str:
        done = self.dist("token", "create", "--name", "ci", *args, "--json")
        assert done.returncode == 0, done.stderr
        secret: str = json.loads(done.stdout)["secret"]
        return secret


def start(
    location: StoreLocation, log: Path, *extra: str, program: str = "dist"
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    args = [str(BIN / program), *store_args(location)]
    args += ["serve"] if program == "dist" else []
    with log.open("wb") as out:
        process = subprocess.Popen([*args, "--port", str(port), *extra], stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process, port
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"distd did not start: {log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def raw_request(port: int, head: str, body: bytes = b"", *, close_early: bool = False) -> tuple[int, bytes]:
    """Send bytes as they are (no client fixing them up); the status and body of the answer, or (0, b"")
    when the connection is closed on purpose before an answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        if close_early:
            return 0, b""
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += connection.recv(65536)
        header, _, rest = answer.partition(b"\r\n\r\n")
        length = int(
            next(line.split(b":")[1] for line in header.split(b"\r\n") if line.lower().startswith(b"content-length"))
        )
        while len(rest) < length:
            rest += connection.recv(65536)
        return int(header.split()[1]), rest
