"""A webhook receiver for the tests: a real HTTP server on loopback that verifies every request with the
Standard Webhooks library, as a user's endpoint would, and can be told to fail, stall or go away."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    message_id: str
    body: dict[str, Any]
    at: float


@dataclass
class Receiver:
    """Answers `status` after `delay` seconds; `secret` set: a request that fails verification gets 400 and
    is counted in `rejected`."""

    status: int = 204
    delay: float = 0.0
    secret: str | None = None
    received: list[Received] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    attempts: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self, port: int = 0) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver._lock:
                    receiver.attempts += 1
                    status, delay = receiver.status, receiver.delay
                if delay:
                    time.sleep(delay)
                headers = {k: v for k, v in self.headers.items()}
                try:
                    body = (
                        Webhook(receiver.secret).verify(data, headers)
                        if receiver.secret is not None
                        else json.loads(data)
                    )
                except WebhookVerificationError as error:
                    with receiver._lock:
                        receiver.rejected.append(str(error))
                    status = 400
                else:
                    if 200 <= status < 300:
                        with receiver._lock:
                            receiver.received.append(Received(headers["webhook-id"], body, time.monotonic()))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", port or self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def ids(self) -> list[str]:
        with self._lock:
            return [r.message_id for r in self.received]

    def actions(self) -> list[str]:
        with self._lock:
            return [r.body["action"] for r in self.received]

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        """Until `count` distinct messages have arrived; returns every delivery received."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(set(self.ids())) >= count:
                break
            time.sleep(0.05)
        with self._lock:
            return list(self.received)
