"""What a handler reaches through its request: the open store (lifespan state), services run off the event
loop, and the caller's token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dist.domain.entities import Token
from dist.domain.enums import Scope
from dist.domain.errors import Unauthorized
from dist.http.contract import encode
from dist.http.ratelimit import AuthFailures
from dist.persistence.store import Store
from dist.persistence.uow import UnitOfWork
from dist.services import tokens

T = TypeVar("T")


def store(request: Request) -> Store:
    opened: Store = request.state.store
    return opened


def max_upload(request: Request) -> int:
    cap: int = request.state.max_upload
    return cap


def answer(document: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer: a rendering of dist/domain/render.py, in the shape of its contract type."""
    return Response(encode(document), status_code=status, headers=headers, media_type="application/json")


async def call(request: Request, service: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a service with a fresh unit of work in the thread pool: services are synchronous and the event
    loop must never wait on the database."""
    uow: UnitOfWork = store(request).uow()
    return await run_in_threadpool(service, uow, *args, **kwargs)


async def authorize(request: Request, scope: Scope, *, app: str = "", channel: str = "") -> str:
    """The audit actor (`token:<id>`) of the bearer token, which must allow `scope` on `app` and `channel`."""
    token = await bearer_token(request, scope, app=app, channel=channel)
    return f"token:{token.id}"


async def bearer_token(request: Request, scope: Scope, *, app: str = "", channel: str = "") -> Token:
    """The bearer token, which must allow `scope` on `app` and `channel`; its use is stamped."""
    header = request.headers.get("authorization")
    if header is None:
        raise Unauthorized("auth.missing", "this request needs an Authorization: Bearer dist_... header")
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("auth.malformed", "the Authorization header must be 'Bearer <token>'")
    failures: AuthFailures = request.state.auth_failures
    address = request.client.host if request.client else ""
    failures.check(address)
    try:
        token = await call(request, tokens.authenticate, secret=secret.strip(), scope=scope, app=app, channel=channel)
    except Unauthorized as error:
        # A well-formed secret that this server never issued is what guessing looks like.
        if error.code == "auth.unknown":
            failures.failed(address)
        raise
    return token
