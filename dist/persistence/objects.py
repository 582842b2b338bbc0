"""The content-addressed blob store: one interface, `ObjectStore`, with two implementations that the services
cannot tell apart: a directory (dist.persistence.file_objects) and an S3-compatible bucket
(dist.persistence.s3_objects). Blobs live at <aa>/<sha256>; a blob in flight is written under a temporary name
and moved to its content address only once its digest is known and checked."""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from dist.domain.errors import Invalid, TooLarge
from dist.domain.values import SHA256_RE, parse_sha256
from dist.persistence.digests import Digests, Sha256Stream, StreamDigests

CHUNK_SIZE = 1024 * 1024
FILES_IN_FLIGHT = 8
K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """A blob written: its SHA-256 and size, whether the store did not hold it before, and all its digests (None
    when only SHA-256 was computed on the way)."""

    sha256: str
    size: int
    created: bool
    digests: Digests | None


@dataclass(frozen=True, slots=True)
class BlobStat:
    """A stored blob's size and the time it was written."""

    size: int
    modified: datetime


@dataclass(frozen=True, slots=True)
class Listed:
    """An entry under the store's blobs: its name, where it is (for messages), and whether it is placed and named
    as a blob (<aa>/<sha256>)."""

    name: str
    where: str
    is_blob: bool


@dataclass(frozen=True, slots=True)
class Leftover:
    """Something an upload left behind (a temporary object, an unfinished multipart upload), for gc."""

    where: str
    size: int
    handle: Any


def blob_key(sha256: str) -> str:
    """A blob's place relative to the store's root of blobs: <aa>/<sha256>."""
    parse_sha256(sha256)
    return f"{sha256[:2]}/{sha256}"


def named_as_blob(relative: str) -> bool:
    prefix, _, name = relative.partition("/")
    return SHA256_RE.fullmatch(name) is not None and prefix == name[:2]


class BlobWriter(ABC):
    """One blob in flight: bytes go to a temporary object and into the digests; `commit` moves them to the
    content address once the digest is checked. Until then nothing is visible under a content address; `abort`
    (or leaving the `with` block without committing) removes the temporary object. With `sha256_only`, SHA-512
    and SHA-1 are left for later (StoredBlob.digests is None)."""

    def __init__(self, *, max_size: int | None = None, expected_sha256: str | None = None, sha256_only: bool = False):
        self._max_size = max_size
        self._expected = expected_sha256
        self._digests: StreamDigests | Sha256Stream = Sha256Stream() if sha256_only else StreamDigests(max_size)
        self.size = 0
        self._done = False

    @abstractmethod
    def _write(self, chunk: bytes) -> None: ...

    @abstractmethod
    def _finish(self, sha256: str) -> bool:
        """Make the bytes written durable under the content address `sha256`; False when it held them already."""

    @abstractmethod
    def _discard(self) -> None:
        """Remove the temporary object; nothing is left of this upload."""

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self._max_size is not None and self.size > self._max_size:
            raise TooLarge("upload.too_large", f"the upload is larger than the limit of {self._max_size} bytes")
        self._write(chunk)
        self._digests.update(chunk)

    def commit(self) -> StoredBlob:
        digest = self._digests.sha256
        if self._expected is not None and digest != self._expected:
            self.abort()
            raise Invalid(
                "upload.digest_mismatch",
                f"the body hashes to {digest}, not to the {self._expected} "
                "that X-Content-SHA256 promised; nothing was kept",
            )
        digests = self._digests.finish()
        try:
            created = self._finish(digest)
        except BaseException:
            self.abort()
            raise
        self._done = True
        return StoredBlob(digest, self.size, created, digests)

    def abort(self) -> None:
        if not self._done:
            self._done = True
            self._digests.close()
            self._discard()

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()


class ObjectStore(ABC):
    """Blobs by their sha256, wherever they are kept."""

    url: str
    # Whether reading a blob back soon after writing it is cheap (a file in the page cache): uploads then leave
    # SHA-512 and SHA-1 for right after them. A bucket would send every byte twice, so they hash on the way.
    digests_after_upload: bool = False

    @abstractmethod
    def check(self) -> None:
        """Raise `Unavailable` with a clear message when the store cannot be used (unreachable, refused, missing)."""

    @abstractmethod
    def writer(
        self, *, max_size: int | None = None, expected_sha256: str | None = None, sha256_only: bool = False
    ) -> BlobWriter: ...

    @abstractmethod
    def stat(self, sha256: str) -> BlobStat | None:
        """The blob's size and time, None when it is not there."""

    @abstractmethod
    def open(self, sha256: str) -> BinaryIO:
        """The blob's bytes to read; FileNotFoundError when it is not there."""

    @abstractmethod
    def chunks_async(self, sha256: str, first: int, end: int) -> AsyncIterator[bytes]:
        """Bytes first..end (exclusive) of the blob, in chunks, for a download."""

    @abstractmethod
    def listing(self) -> Iterator[Listed]:
        """Everything under the store's blobs, named like a blob or not."""

    @abstractmethod
    def remove(self, sha256: str) -> int | None:
        """Remove the blob; its size, None when it was not there."""

    @abstractmethod
    def leftovers(self, older_than_seconds: float) -> Iterator[Leftover]:
        """What uploads left behind and no upload still writes (older than the given age)."""

    @abstractmethod
    def remove_leftover(self, leftover: Leftover) -> None: ...

    def local_path(self, sha256: str) -> Path | None:
        """The blob's file, for a store that keeps files; None elsewhere."""
        return None

    def presigned_url(self, sha256: str, expires: timedelta) -> str | None:
        """A URL that lets anyone GET the blob until `expires` from now; None for a store that cannot sign."""
        return None

    def exists(self, sha256: str) -> bool:
        return self.stat(sha256) is not None

    def size(self, sha256: str) -> int | None:
        found = self.stat(sha256)
        return found.size if found is not None else None

    def put_stream(
        self,
        chunks: Iterable[bytes],
        *,
        max_size: int | None = None,
        expected_sha256: str | None = None,
        sha256_only: bool = False,
    ) -> StoredBlob:
        with self.writer(max_size=max_size, expected_sha256=expected_sha256, sha256_only=sha256_only) as writer:
            for chunk in chunks:
                writer.write(chunk)
            return writer.commit()

    def put_file(self, path: Path) -> StoredBlob:
        with path.open("rb") as source:
            return self.put_stream(iter(lambda: source.read(CHUNK_SIZE), b""))

    def chunks(self, sha256: str) -> Iterator[bytes]:
        with self.open(sha256) as source:
            yield from iter(lambda: source.read(CHUNK_SIZE), b"")

    def digests(self, sha256: str) -> Digests:
        """All digests of the blob's bytes, read now; FileNotFoundError when it is not there."""
        found = self.stat(sha256)
        digests = StreamDigests(found.size if found is not None else None)
        try:
            for chunk in self.chunks(sha256):
                digests.update(chunk)
            return digests.finish()
        finally:
            digests.close()

    def hash_file(self, sha256: str) -> str:
        digest = hashlib.sha256()
        for chunk in self.chunks(sha256):
            digest.update(chunk)
        return digest.hexdigest()

    def many_digests(self, sha256s: Iterable[tuple[K, str]], workers: int = 2) -> Iterator[tuple[K, Digests | None]]:
        """The digests of many blobs, in order, a few read at once; None for a blob that is not there."""

        def one(sha256: str) -> Digests | None:
            try:
                return self.digests(sha256)
            except FileNotFoundError:
                return None

        with ThreadPoolExecutor(workers, thread_name_prefix="digests") as pool:
            pending: list[tuple[K, Any]] = []
            for key, sha256 in sha256s:
                pending.append((key, pool.submit(one, sha256)))
                if len(pending) >= FILES_IN_FLIGHT:
                    done_key, future = pending.pop(0)
                    yield done_key, future.result()
            for key, future in pending:
                yield key, future.result()

    @contextlib.contextmanager
    def mapped(self, sha256: str) -> Iterator[memoryview]:
        """The blob's bytes as one buffer, mapped from a file rather than read into memory (a signature over a
        whole file needs the whole file at once). A store without files copies the blob to a temporary one."""
        with tempfile.TemporaryFile(prefix="blob-") as copy:
            for chunk in self.chunks(sha256):
                copy.write(chunk)
            copy.flush()
            if copy.tell() == 0:
                yield memoryview(b"")
                return
            with mmap.mmap(copy.fileno(), 0, access=mmap.ACCESS_READ) as mapping, memoryview(mapping) as view:
                yield view


def open_objects(url: str | None, store_root: Path) -> ObjectStore:
    """The object store a URL names: `file://DIR`, `s3://BUCKET/PREFIX`, or (None) the store's own objects/."""
    from dist.persistence.file_objects import FileObjects

    if url is None or url == "":
        return FileObjects(store_root / "objects")
    scheme, sep, rest = url.partition("://")
    if sep and scheme == "file" and rest:
        return FileObjects(Path(rest))
    if sep and scheme == "s3" and rest:
        from dist.persistence.s3_objects import S3Objects

        bucket, _, prefix = rest.partition("/")
        return S3Objects.from_environment(bucket, prefix.strip("/"), os.environ)
    raise Invalid("objects.bad_url", f"{url!r} is not an object store URL: use file://DIR or s3://BUCKET/PREFIX")
