"""The few S3 calls the object-store client does not make (listing and aborting multipart uploads), signed here
with AWS Signature Version 4 and sent with the standard library."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class S3Settings:
    """Where a bucket is and how to sign for it (path-style addressing: endpoint/bucket/key)."""

    endpoint: str
    bucket: str
    access_key_id: str
    secret_access_key: str
    region: str


@dataclass(frozen=True, slots=True)
class S3Response:
    status: int
    body: bytes

    def code(self) -> str | None:
        """The error code an S3 error body names (NoSuchBucket, InvalidAccessKeyId, ...)."""
        try:
            return ET.fromstring(self.body).findtext("Code")
        except ET.ParseError:
            return None


@dataclass(frozen=True, slots=True)
class MultipartUpload:
    key: str
    upload_id: str
    initiated: dt.datetime


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signed_headers(
    settings: S3Settings, method: str, path: str, query: dict[str, str], now: dt.datetime
) -> dict[str, str]:
    """The headers of a request signed with AWS Signature Version 4, for an empty body."""
    host = urlsplit(settings.endpoint).netloc
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    day = stamp[:8]
    canonical_query = "&".join(
        f"{quote(name, safe='-_.~')}={quote(value, safe='-_.~')}" for name, value in sorted(query.items())
    )
    headers = {"host": host, "x-amz-content-sha256": EMPTY_SHA256, "x-amz-date": stamp}
    names = ";".join(sorted(headers))
    canonical = "\n".join(
        [
            method,
            quote(path, safe="/-_.~"),
            canonical_query,
            "".join(f"{name}:{headers[name]}\n" for name in sorted(headers)),
            names,
            EMPTY_SHA256,
        ]
    )
    scope = f"{day}/{settings.region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(f"AWS4{settings.secret_access_key}".encode(), day)
    for part in (settings.region, "s3", "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={settings.access_key_id}/{scope}, SignedHeaders={names}, Signature={signature}"
    )
    return headers


def request(
    settings: S3Settings, method: str, key: str | None = None, query: dict[str, str] | None = None
) -> S3Response:
    """One signed request on the bucket (or on one of its keys); OSError when the endpoint cannot be reached."""
    parts = urlsplit(settings.endpoint)
    path = f"{parts.path.rstrip('/')}/{settings.bucket}" + (f"/{key}" if key is not None else "")
    query = query or {}
    headers = signed_headers(settings, method, path, query, dt.datetime.now(dt.UTC))
    target = quote(path, safe="/-_.~") + (
        "?" + "&".join(f"{quote(n, safe='-_.~')}={quote(v, safe='-_.~')}" for n, v in sorted(query.items()))
        if query
        else ""
    )
    connection_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_type(parts.netloc, timeout=TIMEOUT_SECONDS)
    try:
        connection.request(method, target, headers=headers)
        answer = connection.getresponse()
        return S3Response(answer.status, answer.read())
    finally:
        connection.close()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def multipart_uploads(settings: S3Settings, prefix: str) -> Iterator[MultipartUpload]:
    """The multipart uploads begun under `prefix` and neither completed nor aborted."""
    query = {"uploads": "", "prefix": prefix}
    while True:
        answer = request(settings, "GET", None, query)
        if answer.status != 200:
            raise OSError(f"listing multipart uploads answered {answer.status} {answer.code() or ''}".strip())
        root = ET.fromstring(answer.body)
        for upload in (e for e in root if _local(e.tag) == "Upload"):
            fields = {_local(e.tag): e.text or "" for e in upload}
            initiated = dt.datetime.fromisoformat(fields.get("Initiated", "").replace("Z", "+00:00"))
            if initiated.tzinfo is None:
                initiated = initiated.replace(tzinfo=dt.UTC)
            yield MultipartUpload(fields.get("Key", ""), fields.get("UploadId", ""), initiated)
        fields = {_local(e.tag): e.text or "" for e in root if len(e) == 0}
        if fields.get("IsTruncated", "false").lower() != "true":
            return
        query = {
            **query,
            "key-marker": fields.get("NextKeyMarker", ""),
            "upload-id-marker": fields.get("NextUploadIdMarker", ""),
        }


def abort_multipart_upload(settings: S3Settings, upload: MultipartUpload) -> None:
    answer = request(settings, "DELETE", upload.key, {"uploadId": upload.upload_id})
    if answer.status not in (200, 204, 404):
        raise OSError(f"aborting the multipart upload of {upload.key} answered {answer.status} {answer.code() or ''}")
