"""Blobs in an S3-compatible bucket: PREFIX/<aa>/<sha256>, uploaded under PREFIX/tmp/ (multipart once past one
part, a bounded buffer) and copied to the content address only once the digest is checked.

An upload that names its digest beforehand (X-Content-SHA256, as `dist --server` sends) skips the copy: it goes
straight to its content address, where nothing appears until the upload is completed, which happens only once
the digest has been checked (a body within one part is sent whole, by one PUT, at that point; a longer one is a
multipart upload, invisible until completed and aborted otherwise).

The client is obstore (Rust's object_store): bench/objects.py measured it against boto3, whose import alone
costs distd several times the memory. The two calls obstore does not make, listing and aborting unfinished
multipart uploads, are signed in dist.persistence.s3_requests.
"""

from __future__ import annotations

import contextlib
import io
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import obstore
from obstore.exceptions import BaseError
from obstore.store import S3Store

from dist.domain.errors import Invalid, Unavailable
from dist.persistence import s3_requests
from dist.persistence.objects import BlobStat, BlobWriter, Leftover, Listed, ObjectStore, blob_key, named_as_blob
from dist.persistence.s3_requests import MultipartUpload, S3Settings

if TYPE_CHECKING:
    from obstore import WritableFile

TMP = "tmp/"
# One part of a multipart upload (S3's smallest) and the parts sent at once: what an upload holds in memory.
PART_SIZE = 8 * 1024 * 1024
PARTS_IN_FLIGHT = 2
DOWNLOAD_CHUNK = 1024 * 1024
DEFAULT_REGION = "us-east-1"


def _unavailable(store: S3Objects, error: BaseException) -> Unavailable:
    text = str(error).split("\n\nDebug source:", 1)[0]
    return Unavailable("objects.unavailable", f"the object store {store.url} failed: {text}")


class S3BlobWriter(BlobWriter):
    def __init__(
        self,
        store: S3Objects,
        *,
        max_size: int | None = None,
        expected_sha256: str | None = None,
        sha256_only: bool = False,
    ):
        super().__init__(max_size=max_size, expected_sha256=expected_sha256, sha256_only=sha256_only)
        self._store = store
        # Straight to the content address when it is known and not taken; otherwise through a temporary key.
        self._direct = expected_sha256 is not None and store.stat(expected_sha256) is None
        self._key = blob_key(expected_sha256) if self._direct and expected_sha256 else f"{TMP}upload-{uuid.uuid4().hex}"
        self._file: WritableFile | None = obstore.open_writer(
            store.client, self._key, buffer_size=PART_SIZE, max_concurrency=PARTS_IN_FLIGHT
        )

    def _write(self, chunk: bytes) -> None:
        assert self._file is not None
        try:
            self._file.write(chunk)
        except BaseError as error:
            raise _unavailable(self._store, error) from None

    def _finish(self, sha256: str) -> bool:
        assert self._file is not None
        client, target = self._store.client, blob_key(sha256)
        try:
            self._file.close()
            self._file = None
            if self._direct:
                return True
            if self._store.stat(sha256) is not None:
                obstore.delete(client, self._key)
                return False
            # A server-side copy: the content address appears whole, holding bytes whose digest was checked.
            obstore.copy(client, self._key, target)
            obstore.delete(client, self._key)
        except BaseError as error:
            raise _unavailable(self._store, error) from None
        return True

    def _discard(self) -> None:
        writer, self._file = self._file, None
        try:
            if writer is not None:
                # Leaving the writer on an error aborts its multipart upload; a single put was never sent.
                with contextlib.suppress(BaseError):
                    writer.__exit__(RuntimeError, RuntimeError("upload given up"), None)
            if not self._direct:
                obstore.delete(self._store.client, self._key)
        except (BaseError, FileNotFoundError):
            pass  # gc sweeps what is left under tmp/


class _BlobReader(io.RawIOBase):
    """A blob read through obstore's file object, as the file object Python's io expects."""

    def __init__(self, source: Any):
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._source.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._source.close()
        super().close()


class S3Objects(ObjectStore):
    def __init__(self, settings: S3Settings, prefix: str):
        self.settings = settings
        self.prefix = prefix
        self.url = f"s3://{settings.bucket}/{prefix}" if prefix else f"s3://{settings.bucket}"
        self.client = S3Store(
            settings.bucket,
            prefix=prefix or None,
            endpoint=settings.endpoint,
            access_key_id=settings.access_key_id,
            secret_access_key=settings.secret_access_key,
            region=settings.region,
            client_options={"allow_http": True, "connect_timeout": "5s", "timeout": "300s"},
            retry_config={
                "max_retries": 3,
                "retry_timeout": timedelta(seconds=20),
                "backoff": {
                    "init_backoff": timedelta(milliseconds=100),
                    "max_backoff": timedelta(seconds=5),
                    "base": 2,
                },
            },
        )

    @classmethod
    def from_environment(cls, bucket: str, prefix: str, env: Mapping[str, str]) -> S3Objects:
        if not bucket:
            raise Invalid("objects.bad_url", "an s3:// object store URL names a bucket: s3://BUCKET/PREFIX")
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
        endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or f"https://s3.{region}.amazonaws.com"
        key_id, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
        if not key_id or not secret:
            raise Invalid(
                "objects.no_credentials",
                f"the object store s3://{bucket} needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment",
            )
        return cls(S3Settings(endpoint.rstrip("/"), bucket, key_id, secret, region), prefix)

    def _key(self, relative: str) -> str:
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def check(self) -> None:
        where = f"the object store {self.url} at {self.settings.endpoint}"
        try:
            answer = s3_requests.request(
                self.settings, "GET", None, {"list-type": "2", "max-keys": "1", "prefix": self._key("")}
            )
        except OSError as error:
            raise Unavailable("objects.unreachable", f"{where} cannot be reached: {error}") from None
        if answer.status == 200:
            return
        code = answer.code() or f"HTTP {answer.status}"
        if code == "NoSuchBucket":
            raise Unavailable("objects.no_bucket", f"{where}: the bucket {self.settings.bucket} does not exist")
        if answer.status in (401, 403):
            raise Unavailable("objects.access_denied", f"{where} refused the credentials given ({code})")
        raise Unavailable("objects.unavailable", f"{where} answered {answer.status} ({code})")

    def writer(
        self, *, max_size: int | None = None, expected_sha256: str | None = None, sha256_only: bool = False
    ) -> BlobWriter:
        return S3BlobWriter(self, max_size=max_size, expected_sha256=expected_sha256, sha256_only=sha256_only)

    def stat(self, sha256: str) -> BlobStat | None:
        try:
            meta = obstore.head(self.client, blob_key(sha256))
        except FileNotFoundError:
            return None
        except BaseError as error:
            raise _unavailable(self, error) from None
        return BlobStat(meta["size"], meta["last_modified"])

    def open(self, sha256: str) -> BinaryIO:
        try:
            source = obstore.open_reader(self.client, blob_key(sha256), buffer_size=DOWNLOAD_CHUNK)
            return cast(BinaryIO, io.BufferedReader(_BlobReader(source), DOWNLOAD_CHUNK))
        except FileNotFoundError:
            raise
        except BaseError as error:
            raise _unavailable(self, error) from None

    def chunks(self, sha256: str) -> Iterator[bytes]:
        try:
            result = obstore.get(self.client, blob_key(sha256))
            for chunk in result.stream(min_chunk_size=DOWNLOAD_CHUNK):
                yield bytes(chunk)
        except FileNotFoundError:
            raise
        except BaseError as error:
            raise _unavailable(self, error) from None

    async def chunks_async(self, sha256: str, first: int, end: int) -> AsyncIterator[bytes]:
        if end <= first:
            return
        result = await obstore.get_async(self.client, blob_key(sha256), options={"range": (first, end)})
        async for chunk in result.stream(min_chunk_size=DOWNLOAD_CHUNK):
            yield bytes(chunk)

    def presigned_url(self, sha256: str, expires: timedelta) -> str | None:
        return obstore.sign(self.client, "GET", blob_key(sha256), expires)

    def _objects(self, prefix: str | None = None) -> Iterator[dict[str, Any]]:
        try:
            for batch in obstore.list(self.client, prefix, chunk_size=1000):
                yield from cast(list[dict[str, Any]], batch)
        except BaseError as error:
            raise _unavailable(self, error) from None

    def listing(self) -> Iterator[Listed]:
        for meta in self._objects():
            relative: str = meta["path"]
            if relative.startswith(TMP):
                continue
            yield Listed(relative.rsplit("/", 1)[-1], relative, named_as_blob(relative))

    def remove(self, sha256: str) -> int | None:
        found = self.stat(sha256)
        if found is None:
            return None
        try:
            obstore.delete(self.client, blob_key(sha256))
        except BaseError as error:
            raise _unavailable(self, error) from None
        return found.size

    def leftovers(self, older_than_seconds: float) -> Iterator[Leftover]:
        cutoff = datetime.fromtimestamp(time.time() - older_than_seconds, UTC)
        for meta in self._objects(TMP):
            if meta["last_modified"] < cutoff:
                yield Leftover(meta["path"], meta["size"], meta["path"])
        try:
            # Under tmp/, and at content addresses (uploads that named their digest): never completed, so stale.
            uploads = list(s3_requests.multipart_uploads(self.settings, self._key("")))
        except OSError as error:
            raise Unavailable("objects.unavailable", f"the object store {self.url} failed: {error}") from None
        for upload in uploads:
            if upload.initiated < cutoff:
                yield Leftover(f"multipart upload of {upload.key}", 0, upload)

    def remove_leftover(self, leftover: Leftover) -> None:
        try:
            if isinstance(leftover.handle, MultipartUpload):
                s3_requests.abort_multipart_upload(self.settings, leftover.handle)
            else:
                obstore.delete(self.client, leftover.handle)
        except (BaseError, OSError) as error:
            raise Unavailable("objects.unavailable", f"the object store {self.url} failed: {error}") from None
