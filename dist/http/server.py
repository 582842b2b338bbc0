"""The serving process of distd: uvicorn over the HTTP API, nothing else.

`dist serve` parses its options and opens the store once (schema at head, legacy db.json imported), then
replaces itself with `python -m dist.http.server HOST PORT WORKERS`, the store and limits in the environment,
so that the process that serves never loads the command line's or the migrations' modules.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from typing import NoReturn

import uvicorn

from dist.http.app import (
    ACCEL_REDIRECT_ENV,
    BODY_TIMEOUT_ENV,
    COUNTS_INTERVAL_ENV,
    MAX_UPLOAD_ENV,
    OBJECTS_REDIRECT_ENV,
    PUBLIC_URL_ENV,
    WEBHOOKS_ALLOW_PRIVATE_ENV,
    app_from_environment,
)
from dist.http.protocol import DistHTTPProtocol
from dist.http.telemetry import MULTIPROC_DIR_ENV
from dist.persistence.store import StoreLocation

METRICS_DIR_OWNED_ENV = "DIST_METRICS_DIR_OWNED"


def exec_server(
    location: StoreLocation,
    *,
    host: str,
    port: int,
    workers: int,
    max_upload: int,
    body_timeout: float,
    accel_redirect: str | None = None,
    objects_redirect: bool = False,
    public_url: str | None = None,
    webhooks_allow_private: bool = False,
    counts_interval: float | None = None,
) -> NoReturn:
    """Replace this process with the serving process (never returns)."""
    env = dict(os.environ)
    env["DIST_STORE"] = str(location.root)
    if location.database_url is not None:
        env["DIST_DATABASE_URL"] = location.database_url
    env.pop("DIST_OBJECTS", None)
    if location.objects_url is not None:
        env["DIST_OBJECTS"] = location.objects_url
    env[OBJECTS_REDIRECT_ENV] = "1" if objects_redirect else "0"
    env[MAX_UPLOAD_ENV] = str(max_upload)
    env[BODY_TIMEOUT_ENV] = str(body_timeout)
    env.pop(ACCEL_REDIRECT_ENV, None)
    if accel_redirect is not None:
        env[ACCEL_REDIRECT_ENV] = accel_redirect
    env.pop(PUBLIC_URL_ENV, None)
    if public_url is not None:
        env[PUBLIC_URL_ENV] = public_url
    env[WEBHOOKS_ALLOW_PRIVATE_ENV] = "1" if webhooks_allow_private else "0"
    # Several workers keep their metrics in files here, which /metrics sums; removed when the server stops (main).
    # One process keeps them in memory: prometheus-client's files cost every request a check of the process id
    # under a lock, about a tenth of a cached read's time.
    env.pop(MULTIPROC_DIR_ENV, None)
    env.pop(METRICS_DIR_OWNED_ENV, None)
    if workers > 1:
        env[MULTIPROC_DIR_ENV] = tempfile.mkdtemp(prefix="distd-metrics-")
        env[METRICS_DIR_OWNED_ENV] = "1"
    env.pop(COUNTS_INTERVAL_ENV, None)
    if counts_interval is not None:
        env[COUNTS_INTERVAL_ENV] = str(counts_interval)
    # What was printed must reach its reader before the process image is replaced.
    sys.stdout.flush()
    sys.stderr.flush()
    argv = [sys.executable, "-m", "dist.http.server", host, str(port), str(workers)]
    os.execve(sys.executable, argv, env)


def run(host: str, port: int, workers: int) -> None:
    """uvicorn with distd's settings; the app is built from the environment (see app_from_environment)."""
    uvicorn.run(
        "dist.http.app:app_from_environment" if workers > 1 else app_from_environment(),
        factory=workers > 1,
        workers=workers if workers > 1 else None,
        host=host,
        port=port,
        # httptools under bounds and deadlines of our own (see dist.http.protocol): uvicorn's own protocols
        # neither bound a header line nor time out a slow request head.
        http=DistHTTPProtocol,
        # distd answers no WebSocket: none of its implementations is loaded.
        ws="none",
        timeout_keep_alive=5,
        server_header=False,
        access_log=False,
    )


def main(argv: list[str]) -> None:
    host, port, workers = argv
    owned = os.environ.get(MULTIPROC_DIR_ENV) if os.environ.get(METRICS_DIR_OWNED_ENV) == "1" else None
    try:
        run(host, int(port), int(workers))
    finally:
        if owned:
            shutil.rmtree(owned, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
