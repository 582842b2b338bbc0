"""The bare references of the upload and read benchmarks: Starlette endpoints doing only the unavoidable work.

`POST /upload` streams the body, hashes it and writes it to a file that it fsyncs and renames, as any durable
upload must; `GET /json` answers a fixed document shaped like an update check. It runs under the same uvicorn
settings as `dist serve` (see `uvicorn_settings`), so a ratio against it is the cost of dist itself.

    python -m bench.bare_app --port PORT --upload-dir DIR
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

# The shape and size of a real update-check answer (GET …/channels/{name}/latest).
UPDATE = {
    "release": {
        "app": "acme-0",
        "version": "1000.0.0",
        "notes": "",
        "status": "published",
        "created_at": "2026-01-01T00:00:00Z",
        "created_by": "token:1",
        "artifacts": [
            {
                "filename": "acme-0-1000.0.0-linux-x86_64.tar.gz",
                "platform": "linux-x86_64",
                "sha256": "0" * 64,
                "size": 4096,
                "content_type": "application/octet-stream",
                "url": "/api/apps/acme-0/releases/1000.0.0/artifacts/acme-0-1000.0.0-linux-x86_64.tar.gz",
            }
        ],
    },
    "artifact": {
        "filename": "acme-0-1000.0.0-linux-x86_64.tar.gz",
        "platform": "linux-x86_64",
        "sha256": "0" * 64,
        "size": 4096,
        "content_type": "application/octet-stream",
        "url": "/api/apps/acme-0/releases/1000.0.0/artifacts/acme-0-1000.0.0-linux-x86_64.tar.gz",
    },
}


def make_app(upload_dir: Path) -> Starlette:
    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def latest(request: Request) -> JSONResponse:
        return JSONResponse(UPDATE)

    async def upload(request: Request) -> JSONResponse:
        digest = hashlib.sha256()
        size = 0
        fd, name = tempfile.mkstemp(dir=upload_dir)
        with os.fdopen(fd, "wb") as out:
            async for chunk in request.stream():
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        sha256 = digest.hexdigest()
        os.replace(name, upload_dir / sha256)
        return JSONResponse({"sha256": sha256, "size": size}, status_code=201)

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/json", latest),
            Route("/upload", upload, methods=["POST"]),
        ]
    )


def uvicorn_settings() -> dict[str, Any]:
    """The uvicorn settings `dist serve` runs with by default (dist/http/server.py), so that both sides differ only
    in the app: one worker, httptools, uvicorn's default logging (access log on), the same keep-alive."""
    return {
        "http": "httptools",
        "timeout_keep_alive": 5,
        "server_header": False,
        "workers": 1,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--upload-dir", type=Path, required=True)
    args = p.parse_args()
    args.upload_dir.mkdir(parents=True, exist_ok=True)
    uvicorn.run(make_app(args.upload_dir), host="127.0.0.1", port=args.port, **uvicorn_settings())


if __name__ == "__main__":
    main()
