"""`dist serve` / `distd`: run the HTTP API on uvicorn."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any

from cyclopts import Parameter
from cyclopts.token import Token

from dist.cli.backend import local_only
from dist.cli.context import GLOBALS, stdout
from dist.domain.errors import Invalid
from dist.domain.values import parse_public_url
from dist.http.defaults import DEFAULT_BODY_TIMEOUT, DEFAULT_COUNTS_INTERVAL, DEFAULT_MAX_UPLOAD

SIZE_RE = re.compile(r"([0-9]+)\s*([kmgt]?)(i?b?)", re.IGNORECASE)
POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}


def parse_size(text: str) -> int:
    """Bytes from `1048576`, `512MiB`, `1G` (binary multiples) or `500MB` (decimal ones)."""
    match = SIZE_RE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a size: use bytes or a suffix such as 512MiB or 1G")
    number, prefix, suffix = match.groups()
    base = 1000 if suffix.lower() == "b" and prefix else 1024
    size = int(number) * int(base ** POWERS[prefix.lower()])
    if size < 1:
        raise ValueError("the upload limit must be at least one byte")
    return size


def _size_converter(type_: Any, tokens: Sequence[Token]) -> int:
    return parse_size(tokens[0].value)


def _seconds_converter(type_: Any, tokens: Sequence[Token]) -> float:
    text = tokens[0].value.strip()
    try:
        seconds = float(text) if text.isascii() else 0.0
    except ValueError:
        seconds = 0.0
    # NaN and infinity are refused along with zero and negatives.
    if not 0 < seconds < 86400:
        raise ValueError(f"{text!r} is not a number of seconds between 0 and 86400")
    return seconds


def _interval_converter(type_: Any, tokens: Sequence[Token]) -> float:
    text = tokens[0].value.strip()
    try:
        seconds = float(text) if text.isascii() else -1.0
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 3600:
        raise ValueError(f"{text!r} is not a number of seconds between 0 and 3600")
    return seconds


def _prefix_converter(type_: Any, tokens: Sequence[Token]) -> str:
    prefix = tokens[0].value
    # The prefix becomes the start of a URI path that nginx maps to objects/.
    plain = prefix.isascii() and prefix.isprintable() and not any(c in prefix for c in " ?#%")
    if not (plain and prefix.startswith("/") and prefix.endswith("/")):
        raise ValueError(f"{prefix!r} is not a location path such as /_dist_objects/")
    return prefix


def _public_url_converter(type_: Any, tokens: Sequence[Token]) -> str:
    try:
        return parse_public_url(tokens[0].value)
    except Invalid as error:
        raise ValueError(error.message) from None


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: Annotated[int, Parameter(help="Worker processes (each opens the store).")] = 1,
    max_upload: Annotated[
        int, Parameter(converter=_size_converter, help="The largest upload accepted, e.g. 512MiB or 1G.")
    ] = DEFAULT_MAX_UPLOAD,
    body_timeout: Annotated[
        float,
        Parameter(
            converter=_seconds_converter, help="Seconds a request body may stall before the request is refused (408)."
        ),
    ] = DEFAULT_BODY_TIMEOUT,
    accel_redirect: Annotated[
        str | None,
        Parameter(
            converter=_prefix_converter,
            help="Behind nginx: downloads answer with X-Accel-Redirect to this internal location (/_dist_objects/).",
        ),
    ] = None,
    objects_redirect: Annotated[
        bool,
        Parameter(
            negative=(),
            help="With blobs in a bucket: downloads answer 302 to a short-lived presigned URL, so that the bucket "
            "(or its CDN) sends the bytes.",
        ),
    ] = False,
    public_url: Annotated[
        str | None,
        Parameter(
            converter=_public_url_converter,
            env_var="DIST_PUBLIC_URL",
            help="Where clients reach distd (behind a proxy): the start of every URL in the update feeds.",
        ),
    ] = None,
    webhooks_allow_private: Annotated[
        bool,
        Parameter(
            negative=(),
            help="Let webhooks reach loopback, private and link-local addresses (refused by default, so that a "
            "webhook cannot probe the network distd runs in).",
        ),
    ] = False,
    counts_interval: Annotated[
        float,
        Parameter(
            converter=_interval_converter,
            help="Seconds between writes of the download counts and update checks gathered in memory (a crash "
            "loses at most that much); 0 counts nothing.",
        ),
    ] = DEFAULT_COUNTS_INTERVAL,
) -> int:
    """Serve the HTTP API (distd) on the store."""
    local_only("serve")
    from dist.persistence.store import open_store

    location = GLOBALS.location()
    # Schema to head and a legacy db.json imported once, here, before any worker starts.
    open_store(location).close()
    url = f"http://{host}:{port}"
    store_args = f"--store {location.root}" if location.embedded else "--database-url ..."
    stdout.print(f"distd serving {location.root} on {url} (API description: {url}/api/openapi.json)", markup=False)
    stdout.print(f"Create a token:  dist {store_args} token create --name ci --scope publish", markup=False)
    stdout.print(
        f"Upload a file:   curl -X POST -T FILE -H 'Authorization: Bearer dist_...' {url}/api/upload", markup=False
    )
    stdout.print(f"Then publish:    POST {url}/api/apps/APP/releases with the sha256 it returned", markup=False)
    # The serving process is a lean one (dist.http.server): this one's command-line and migration modules
    # would stay resident in it for nothing. Imported here so that other commands never load the server.
    from dist.http.server import exec_server

    exec_server(
        location,
        host=host,
        port=port,
        workers=workers,
        max_upload=max_upload,
        body_timeout=body_timeout,
        accel_redirect=accel_redirect,
        objects_redirect=objects_redirect,
        public_url=public_url,
        webhooks_allow_private=webhooks_allow_private,
        counts_interval=counts_interval,
    )
