"""Blob downloads, by sha256 and by release and file name: strong ETag, 304, single byte ranges, HEAD,
immutable caching. The bytes are sent from the object store in chunks, never read whole into memory; with
redirects on, a store that signs URLs (a bucket) sends them itself, after a 302 to a short-lived URL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from email.utils import formatdate
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from dist.domain.errors import NotFound
from dist.domain.values import DEFAULT_CONTENT_TYPE, parse_sha256
from dist.http.conditional import etag_matches
from dist.http.context import call, store
from dist.http.counting import Counting
from dist.http.errors import error_response
from dist.http.openapi import F, operation
from dist.persistence.objects import BlobStat, ObjectStore
from dist.services import releases

IMMUTABLE = "public, max-age=31536000, immutable"
UNSATISFIABLE = "unsatisfiable"
# How long a presigned download URL stays good: long enough to start a download, short enough not to be shared.
PRESIGNED_FOR = timedelta(minutes=5)


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def parse_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """The one byte range `header` asks for, as (first, last); UNSATISFIABLE; or None to send the whole blob
    (no header, a malformed one, or several ranges, which RFC 9110 lets a server ignore)."""
    if header is None:
        return None
    unit, _, spec = header.partition("=")
    first_text, dash, last_text = (part.strip() for part in spec.partition("-"))
    if unit.strip().lower() != "bytes" or not dash or not (first_text or last_text):
        return None
    if (first_text and not _digits(first_text)) or (last_text and not _digits(last_text)):
        return None
    if not first_text:
        suffix = int(last_text)
        return (max(size - suffix, 0), size - 1) if suffix and size else UNSATISFIABLE
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None
    if first >= size:
        return UNSATISFIABLE
    return first, min(int(last_text), size - 1) if last_text else size - 1


class BlobResponse(Response):
    """The bytes of a blob, whole or one range of them, streamed from the object store (a file read a megabyte
    at a time, or a ranged GET on the bucket)."""

    def __init__(
        self,
        objects: ObjectStore,
        sha256: str,
        *,
        byte_range: tuple[int, int] | None,
        headers: dict[str, str],
        media_type: str,
        stat_result: BlobStat,
    ) -> None:
        size = stat_result.size
        self.objects = objects
        self.sha256 = sha256
        self.first, last = byte_range if byte_range is not None else (0, size - 1)
        self.length = last - self.first + 1
        headers = {
            **headers,
            "Content-Length": str(self.length),
            "Last-Modified": formatdate(stat_result.modified.timestamp(), usegmt=True),
        }
        if byte_range is not None:
            headers["Content-Range"] = f"bytes {self.first}-{last}/{size}"
        self.status_code = 206 if byte_range is not None else 200
        self.media_type = media_type
        self.background = None
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        if scope["method"] == "HEAD" or self.length <= 0:
            await send({"type": "http.response.body", "body": b""})
            return
        offset, end = self.first, self.first + self.length
        async for chunk in self.objects.chunks_async(self.sha256, offset, end):
            offset += len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        if offset != end:
            raise OSError(f"the blob {self.sha256} ended at byte {offset}, before byte {end}")
        await send({"type": "http.response.body", "body": b""})


def accel_response(prefix: str, sha256: str, headers: dict[str, str], media_type: str) -> Response:
    """No body: nginx, proxying distd, sends the file from its `internal` location at `prefix`."""
    return Response(headers={**headers, "X-Accel-Redirect": f"{prefix}{sha256[:2]}/{sha256}"}, media_type=media_type)


async def _send_blob(
    request: Request,
    sha256: str,
    *,
    content_type: str = DEFAULT_CONTENT_TYPE,
    filename: str | None = None,
    count: Callable[[], None],
) -> Response:
    """The blob's bytes (or 304, 416, or a redirect to the bucket); `count` is called when the answer is a
    download (a GET from byte 0)."""
    objects = store(request).objects
    # A file's stat is answered from the inode cache: cheaper here than a hop to the thread pool.
    stat = (
        objects.stat(sha256)
        if objects.local_path(sha256) is not None
        else await run_in_threadpool(objects.stat, sha256)
    )
    if stat is None:
        raise NotFound("object.not_found", f"there is no blob {sha256}")
    etag = f'"{sha256}"'
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE, "Accept-Ranges": "bytes"}
    if filename is not None:
        headers["Content-Disposition"] = content_disposition(filename)
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    accel: str | None = request.state.accel_redirect
    if_range = request.headers.get("if-range")
    byte_range = parse_range(request.headers.get("range"), stat.size)
    if if_range is not None and if_range.strip() != etag:
        byte_range = None
    if request.method == "GET" and (byte_range is None or (byte_range != UNSATISFIABLE and byte_range[0] == 0)):
        count()
    if accel is not None:
        return accel_response(accel, sha256, headers, content_type)
    if request.state.objects_redirect:
        url = objects.presigned_url(sha256, PRESIGNED_FOR)
        if url is not None:
            return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
    if byte_range == UNSATISFIABLE:
        return error_response(
            416,
            "download.range_not_satisfiable",
            f"the blob is {stat.size} bytes; the range asked for lies outside it",
            {**headers, "Content-Range": f"bytes */{stat.size}"},
        )
    assert not isinstance(byte_range, str)
    return BlobResponse(
        objects, sha256, byte_range=byte_range, headers=headers, media_type=content_type, stat_result=stat
    )


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII `filename` and, for other names, the exact one as RFC 5987 `filename*`."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\%' else "_" for c in filename)
    value = f'attachment; filename="{fallback}"'
    if fallback != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value


def _download(summary: str) -> Callable[[F], F]:
    blob_headers = {
        "ETag": {"schema": {"type": "string"}, "description": 'The strong ETag "<sha256>".'},
        "Cache-Control": {"schema": {"type": "string"}},
    }
    binary = {"*/*": {"schema": {"type": "string", "format": "binary"}}}
    # Range, If-Range and If-None-Match are HTTP's own headers, described here rather than as parameters.
    return operation(
        "get",
        f"{summary} Honours one byte range (Range: bytes=0-1023; several ranges get the whole blob), If-Range "
        "and If-None-Match against the strong ETag.",
        {},
        errors=(404, 416, 422),
        extra={
            "responses": {
                "200": {"description": "The bytes.", "headers": blob_headers, "content": binary},
                "206": {"description": "One byte range.", "headers": blob_headers, "content": binary},
                "302": {
                    "description": "distd --objects-redirect with blobs in a bucket: Location is a presigned URL of "
                    "the blob, good for five minutes.",
                    "headers": {"Location": {"schema": {"type": "string"}}},
                },
                "304": {"description": "If-None-Match matched: the client's copy is current."},
            }
        },
    )


@_download("A blob by its sha256.")
async def object_by_sha256(request: Request) -> Response:
    sha256 = parse_sha256(request.path_params["sha256"])
    counting: Counting = request.state.counting
    return await _send_blob(request, sha256, count=lambda: counting.download_blob(sha256))


@_download("A release's file, as an attachment.")
async def artifact_by_filename(request: Request) -> Response:
    params = request.path_params
    artifact = await call(request, releases.get_artifact, params["slug"], params["version"], params["filename"])
    counting: Counting = request.state.counting
    artifact_id = artifact.id
    assert artifact_id is not None
    return await _send_blob(
        request,
        artifact.sha256,
        content_type=artifact.content_type,
        filename=artifact.filename,
        count=lambda: counting.download_artifact(artifact_id),
    )
