"""The content-addressed blob store: objects/<aa>/<sha256>, written through tmp/ and renamed into place."""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from dist.domain.errors import Invalid, TooLarge
from dist.domain.values import parse_sha256
from dist.persistence.digests import Digests, StreamDigests

CHUNK_SIZE = 1024 * 1024
BLOB_MODE = 0o644


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """A blob written: its digests, and whether the store did not hold it before."""

    digests: Digests
    created: bool

    @property
    def sha256(self) -> str:
        return self.digests.sha256

    @property
    def size(self) -> int:
        return self.digests.size


def fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobWriter:
    """One blob in flight: bytes go to a file in tmp/ and into the digests; `commit` renames it into objects/.

    Until `commit` succeeds nothing is visible under objects/; `abort` (or leaving the `with` block
    without committing) deletes the temporary file.
    """

    def __init__(self, store: ObjectStore, *, max_size: int | None = None, expected_sha256: str | None = None):
        self._store = store
        self._max_size = max_size
        self._expected = expected_sha256
        self._digests = StreamDigests(max_size)
        self.size = 0
        fd, name = tempfile.mkstemp(dir=store.tmp_dir, prefix="upload-")
        # Blobs are public bytes: readable by every process that serves the store, not only their writer.
        os.fchmod(fd, BLOB_MODE)
        self._file = os.fdopen(fd, "wb")
        self._tmp_path = Path(name)
        self._done = False

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self._max_size is not None and self.size > self._max_size:
            raise TooLarge("upload.too_large", f"the upload is larger than the limit of {self._max_size} bytes")
        self._file.write(chunk)
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
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        digests = self._digests.finish()
        target = self._store.path(digest)
        if target.exists():
            self._discard()
            return StoredBlob(digests, created=False)
        if not target.parent.is_dir():
            target.parent.mkdir(exist_ok=True)
            fsync_directory(target.parent.parent)
        os.replace(self._tmp_path, target)
        fsync_directory(target.parent)
        self._done = True
        return StoredBlob(digests, created=True)

    def abort(self) -> None:
        if not self._done:
            self._digests.close()
            self._file.close()
            self._discard()

    def _discard(self) -> None:
        self._done = True
        with contextlib.suppress(FileNotFoundError):
            self._tmp_path.unlink()

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()


class ObjectStore:
    def __init__(self, root: Path):
        self.root = root
        self.objects_dir = root / "objects"
        self.tmp_dir = root / "tmp"

    def ensure_dirs(self) -> None:
        self.objects_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        parse_sha256(sha256)
        return self.objects_dir / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def size(self, sha256: str) -> int | None:
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            return None

    def writer(self, *, max_size: int | None = None, expected_sha256: str | None = None) -> BlobWriter:
        self.ensure_dirs()
        return BlobWriter(self, max_size=max_size, expected_sha256=expected_sha256)

    def put_stream(
        self, chunks: Iterable[bytes], *, max_size: int | None = None, expected_sha256: str | None = None
    ) -> StoredBlob:
        with self.writer(max_size=max_size, expected_sha256=expected_sha256) as writer:
            for chunk in chunks:
                writer.write(chunk)
            return writer.commit()

    def open(self, sha256: str) -> BinaryIO:
        """The blob's bytes to read; FileNotFoundError when it is not there."""
        return self.path(sha256).open("rb")

    @contextlib.contextmanager
    def mapped(self, sha256: str) -> Iterator[memoryview]:
        """The blob's bytes as one buffer, mapped from the file rather than read into memory (a signature over
        a whole file needs the whole file at once)."""
        with self.open(sha256) as source:
            if os.fstat(source.fileno()).st_size == 0:
                yield memoryview(b"")
                return
            with mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ) as mapping, memoryview(mapping) as view:
                yield view

    def put_file(self, path: Path) -> StoredBlob:
        with path.open("rb") as source:
            return self.put_stream(iter(lambda: source.read(CHUNK_SIZE), b""))

    def hash_file(self, sha256: str) -> str:
        digest = hashlib.sha256()
        with self.path(sha256).open("rb") as source:
            for chunk in iter(lambda: source.read(CHUNK_SIZE), b""):
                digest.update(chunk)
        return digest.hexdigest()

    def iter_blobs(self) -> Iterator[tuple[str, Path]]:
        """Every file under objects/ that is named like a blob, with its path."""
        if not self.objects_dir.is_dir():
            return
        for prefix in sorted(self.objects_dir.iterdir()):
            if not prefix.is_dir():
                continue
            for path in sorted(prefix.iterdir()):
                yield path.name, path

    def stale_tmp_files(self, older_than_seconds: float) -> Iterator[Path]:
        if not self.tmp_dir.is_dir():
            return
        cutoff = time.time() - older_than_seconds
        for path in self.tmp_dir.iterdir():
            with contextlib.suppress(FileNotFoundError):
                if path.is_file() and path.stat().st_mtime < cutoff:
                    yield path
