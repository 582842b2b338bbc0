"""The download pages as HTML: pure functions from the domain's entities to bytes (Jinja2, autoescaped).

Release notes are Markdown (CommonMark, raw HTML off) and pass through nh3's allow-list afterwards, so that no
script, event handler, style or `javascript:` URL reaches a visitor whatever a publisher wrote.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from urllib.parse import quote

import nh3
from jinja2 import Environment, PackageLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

from dist.domain.entities import App, Artifact, Release
from dist.domain.pages import AppPage
from dist.domain.render import artifact_url, timestamp
from dist.pages import STYLESHEET_PATH
from dist.pages.charts import adoption_chart
from dist.pages.platforms import ordered_for, platform_label

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
    "img", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}, "th": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}

_markdown = MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")


def notes_html(text: str) -> Markup:
    """Release notes as safe HTML: headings shifted below the page's own, links that cannot run script."""
    rendered = _markdown.render(text)
    for level in range(6, 0, -1):
        shifted = min(level + 2, 6)
        rendered = rendered.replace(f"<h{level}>", f"<h{shifted}>").replace(f"</h{level}>", f"</h{shifted}>")
    cleaned = nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(cleaned)


@cache
def stylesheet() -> tuple[bytes, str]:
    """The one stylesheet and its ETag."""
    body = resources.files("dist.pages").joinpath("static/dist.css").read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def stylesheet_url() -> str:
    # The content's hash in the URL: browsers keep it for a year and fetch a new one when it changes.
    return f"{STYLESHEET_PATH}?v={stylesheet()[1].strip(chr(34))[:12]}"


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def _day(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d")


def _download_url(release: Release, artifact: Artifact) -> str:
    return artifact_url(release.app, release.version, artifact.filename)


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("dist.pages", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        markdown=notes_html,
        rfc3339=timestamp,
        day=_day,
        size=_size,
        platform_label=platform_label,
        download_url=_download_url,
        for_visitor=lambda artifacts, preferred: ordered_for(tuple(preferred), artifacts),
        urlpart=lambda text: quote(text, safe=""),
    )
    env.globals["stylesheet"] = stylesheet_url()
    return env


def _render(template: str, **context: object) -> bytes:
    return environment().get_template(template).render(**context).encode()


def index_page(apps: list[App]) -> bytes:
    return _render("index.html", apps=apps)


def app_page(page: AppPage, preferred: tuple[str, ...]) -> bytes:
    return _render(
        "app.html",
        app=page.app,
        serving=page.serving,
        releases=page.releases,
        next_cursor=page.next_cursor,
        first_page=page.first_page,
        adoption=adoption_chart(page.stats),
        preferred=preferred,
    )


def release_page(app: App, release: Release, channels: list[str], preferred: tuple[str, ...]) -> bytes:
    return _render("release_page.html", app=app, release=release, channels=channels, preferred=preferred)
