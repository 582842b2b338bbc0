"""Blobs in a directory: DIR/<aa>/<sha256>, written through a file in the sibling tmp/ and renamed into place."""

from __future__ import annotations

import asyncio
import contextlib
import mmap
import os
import tempfile
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from dist.domain.errors import Unavailable
from dist.persistence.digests import Digests, file_digests, many_file_digests
from dist.persistence.objects import BlobStat, BlobWriter, Leftover, Listed, ObjectStore, blob_key, named_as_blob

if TYPE_CHECKING:
    from dist.persistence.objects import K

BLOB_MODE = 0o644
# Bytes per read of a download, and the largest read done in the event loop rather than a thread: a read from
# the page cache costs less than the hop.
SEND_CHUNK = 1024 * 1024
LOOP_READ = 64 * 1024


def fsync_path(path: Path | str) -> None:
    """Make a file's bytes, or a directory's entries, durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileBlobWriter(BlobWriter):
    def __init__(
        self,
        store: FileObjects,
        *,
        max_size: int | None = None,
        expected_sha256: str | None = None,
        sha256_only: bool = False,
    ):
        super().__init__(max_size=max_size, expected_sha256=expected_sha256, sha256_only=sha256_only)
        self._store = store
        fd, name = tempfile.mkstemp(dir=store.tmp_dir, prefix="upload-")
        # Blobs are public bytes: readable by every process that serves the store, not only their writer.
        os.fchmod(fd, BLOB_MODE)
        self._file = os.fdopen(fd, "wb")
        self._tmp_path = Path(name)

    def _write(self, chunk: bytes) -> None:
        self._file.write(chunk)

    def _finish(self, sha256: str) -> bool:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        target = self._store.path(sha256)
        if target.exists():
            self._discard()
            return False
        if not target.parent.is_dir():
            target.parent.mkdir(exist_ok=True)
            fsync_path(target.parent.parent)
        os.replace(self._tmp_path, target)
        fsync_path(target.parent)
        return True

    def _discard(self) -> None:
        self._file.close()
        with contextlib.suppress(FileNotFoundError):
            self._tmp_path.unlink()


class FileObjects(ObjectStore):
    """Blobs as files under `objects_dir`; uploads in flight in the sibling tmp/, on the same filesystem so that
    a rename puts them in place."""

    digests_after_upload = True

    def __init__(self, objects_dir: Path):
        self.objects_dir = objects_dir
        self.root = objects_dir.parent
        self.tmp_dir = self.root / "tmp"
        self.url = f"file://{objects_dir}"

    def ensure_dirs(self) -> None:
        self.objects_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    def check(self) -> None:
        try:
            self.ensure_dirs()
        except OSError as error:
            raise Unavailable("objects.unavailable", f"the object store {self.url} cannot be used: {error}") from None

    def path(self, sha256: str) -> Path:
        return self.objects_dir / blob_key(sha256)

    def local_path(self, sha256: str) -> Path | None:
        return self.path(sha256)

    def writer(
        self, *, max_size: int | None = None, expected_sha256: str | None = None, sha256_only: bool = False
    ) -> BlobWriter:
        self.ensure_dirs()
        return FileBlobWriter(self, max_size=max_size, expected_sha256=expected_sha256, sha256_only=sha256_only)

    def stat(self, sha256: str) -> BlobStat | None:
        try:
            found = self.path(sha256).stat()
        except FileNotFoundError:
            return None
        return BlobStat(found.st_size, datetime.fromtimestamp(found.st_mtime, UTC))

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        return self.path(sha256).open("rb")

    async def chunks_async(self, sha256: str, first: int, end: int) -> AsyncIterator[bytes]:
        path = self.path(sha256)
        fd = os.open(path, os.O_RDONLY)
        try:
            offset = first
            while offset < end:
                size = min(end - offset, SEND_CHUNK)
                chunk = (
                    os.pread(fd, size, offset)
                    if size <= LOOP_READ
                    else await asyncio.to_thread(os.pread, fd, size, offset)
                )
                if not chunk:
                    raise OSError(f"{path} ended before byte {end}")
                offset += len(chunk)
                yield chunk
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def mapped(self, sha256: str) -> Iterator[memoryview]:
        with self.open(sha256) as source:
            if os.fstat(source.fileno()).st_size == 0:
                yield memoryview(b"")
                return
            with mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ) as mapping, memoryview(mapping) as view:
                yield view

    def digests(self, sha256: str) -> Digests:
        return file_digests(self.path(sha256))

    def many_digests(self, sha256s: Iterable[tuple[K, str]], workers: int = 2) -> Iterator[tuple[K, Digests | None]]:
        return many_file_digests(((key, os.fspath(self.path(sha256))) for key, sha256 in sha256s), workers)

    def listing(self) -> Iterator[Listed]:
        if not self.objects_dir.is_dir():
            return
        for prefix in sorted(self.objects_dir.iterdir()):
            if not prefix.is_dir():
                continue
            for path in sorted(prefix.iterdir()):
                relative = f"{prefix.name}/{path.name}"
                where = os.fspath(path.relative_to(self.root))
                yield Listed(path.name, where, named_as_blob(relative) and path.is_file())

    def remove(self, sha256: str) -> int | None:
        path = self.path(sha256)
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            return None
        return size

    def leftovers(self, older_than_seconds: float) -> Iterator[Leftover]:
        if not self.tmp_dir.is_dir():
            return
        cutoff = time.time() - older_than_seconds
        for path in self.tmp_dir.iterdir():
            with contextlib.suppress(FileNotFoundError):
                found = path.stat()
                if path.is_file() and found.st_mtime < cutoff:
                    yield Leftover(os.fspath(path.relative_to(self.root)), found.st_size, path)

    def remove_leftover(self, leftover: Leftover) -> None:
        with contextlib.suppress(FileNotFoundError):
            leftover.handle.unlink()
