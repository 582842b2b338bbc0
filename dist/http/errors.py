"""The one place where errors become HTTP answers: every refusal is `{"error": {"code", "message"}}`."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from dist.domain.errors import DistError, ErrorKind
from dist.http.contract import STATUS, encode

log = logging.getLogger("dist.http")

# Starlette raises HTTPException for what its router refuses by itself.
ROUTER_CODES: dict[int, str] = {
    400: "request.malformed",
    404: "route.not_found",
    405: "method.not_allowed",
    413: "request.too_large",
}


class BodyTimeout(Exception):
    """The client sent no byte of its body for the allowed time."""


class RateLimited(DistError):
    """A refusal that tells the client when to try again (Retry-After, in seconds)."""

    kind = ErrorKind.RATE_LIMITED

    def __init__(self, code: str, message: str, *, retry_after: int) -> None:
        super().__init__(code, message)
        self.retry_after = retry_after


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, *, field: str | None = None
) -> Response:
    """The error envelope of every refusal (contract.Error); `field` names the refused request value."""
    detail = {"code": code, "message": message}
    if field:
        detail["field"] = field
    return Response(encode({"error": detail}), status_code=status, headers=headers, media_type="application/json")


def dist_error_response(error: DistError) -> Response:
    status = STATUS[error.kind]
    # RFC 9110: a 401 names the scheme the client should use.
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(error, RateLimited):
        headers = {"Retry-After": str(error.retry_after)}
    return error_response(status, error.code, error.message, headers, field=getattr(error, "field", None))


async def on_dist_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DistError)
    return dist_error_response(exc)


async def on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = ROUTER_CODES.get(exc.status_code, "request.refused")
    message = f"no route for {request.method} {request.url.path}" if exc.status_code in (404, 405) else exc.detail
    return error_response(exc.status_code, code, message, dict(exc.headers) if exc.headers else None)


async def on_database_error(request: Request, exc: Exception) -> Response:
    log.error("database error on %s %s: %s", request.method, request.url.path, exc)
    return error_response(503, "store.unavailable", "the database did not answer; try again")


async def on_integrity_error(request: Request, exc: Exception) -> Response:
    # Two writers raced past the same check (e.g. one version published twice at once on PostgreSQL); the
    # database kept one, and the other may simply read the new state and retry.
    log.warning("integrity error on %s %s: %s", request.method, request.url.path, exc)
    return error_response(409, "store.conflict", "a concurrent change got there first; read the new state and retry")


async def on_body_timeout(request: Request, exc: Exception) -> Response:
    # The connection is closed after this answer: what the client sends later is not waited for.
    return error_response(408, "request.timeout", str(exc), {"Connection": "close"})


async def on_unexpected(request: Request, exc: Exception) -> Response:
    # The traceback goes to the server log, never to the client.
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal.error", "the server failed to answer this request; it has been logged")


EXCEPTION_HANDLERS = {
    BodyTimeout: on_body_timeout,
    DistError: on_dist_error,
    HTTPException: on_http_exception,
    IntegrityError: on_integrity_error,
    OperationalError: on_database_error,
    Exception: on_unexpected,
}
