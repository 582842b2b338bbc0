"""`dist serve` / `distd`: run the HTTP API on uvicorn."""

from __future__ import annotations

from dist.domain.errors import Unavailable


def serve() -> int:
    """Serve the HTTP API."""
    raise Unavailable("serve.unavailable", "the HTTP server is not part of this build yet")
