"""The download pages: `/`, `/apps/{slug}`, `/apps/{slug}/releases/{version}` and their stylesheet.

Each page depends on the visitor's platform (from User-Agent), so the read cache keeps one answer per platform
(see dist.http.cache.page_key) and the answers say `Vary: User-Agent`; an ETag lets a browser revalidate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from dist.http.context import call
from dist.http.openapi import F, operation
from dist.pages.platforms import visitor_platforms
from dist.services import apps, pages

if TYPE_CHECKING:
    from types import ModuleType

HTML = "text/html; charset=utf-8"
PAGE_CACHE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"


def _render() -> ModuleType:
    """The templates' renderer, imported by the first page asked for: Jinja2, markdown-it and nh3 cost a server
    that is never asked for a page some megabytes."""
    from dist.pages import render

    return render


def _page(summary: str, errors: tuple[int, ...] = (404, 422), media_type: str = "text/html") -> Callable[[F], F]:
    content = {media_type: {"schema": {"type": "string"}}}
    return operation(
        "get",
        summary,
        {},
        errors=errors,
        extra={"responses": {"200": {"description": "The page.", "content": content}}},
    )


def html_response(request: Request, body: bytes) -> Response:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": PAGE_CACHE, "Vary": "User-Agent"}
    return Response(body, media_type=HTML, headers=headers)


def _preferred(request: Request) -> tuple[str, ...]:
    return visitor_platforms(request.headers.get("user-agent"))


@_page("The download page's index: every app.", errors=())
async def index(request: Request) -> Response:
    found = await call(request, apps.list_apps)
    return html_response(request, _render().index_page(found))


@_page(
    "An app's download page: each channel's release with a download button per platform (the visitor's first), "
    "the update checks of the last 30 days, and its releases a page at a time (`?cursor=`)."
)
async def app(request: Request) -> Response:
    cursor = request.query_params.get("cursor")
    page = await call(request, pages.app_page, request.path_params["slug"], cursor=cursor)
    return html_response(request, _render().app_page(page, _preferred(request)))


@_page("One release's download page (yanked ones too, marked).")
async def release(request: Request) -> Response:
    params: dict[str, Any] = request.path_params
    found, shown, channels = await call(request, pages.release_page, params["slug"], params["version"])
    return html_response(request, _render().release_page(found, shown, channels, _preferred(request)))


@_page("The pages' stylesheet.", errors=(), media_type="text/css")
async def css(request: Request) -> Response:
    body, etag = _render().stylesheet()
    return Response(body, media_type="text/css", headers={"ETag": etag, "Cache-Control": IMMUTABLE})
