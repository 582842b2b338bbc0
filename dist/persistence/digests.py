"""The digests of a blob (SHA-256, SHA-512, SHA-1), computed from its bytes in one pass.

SHA-512 runs at under half SHA-256's speed: hashed after SHA-256 on one thread, it would more than double the
cost of an upload. hashlib releases the GIL on large updates, so SHA-512 and SHA-1 each get a thread of their
own that takes the same chunks from a short queue, while the caller's thread receives, writes and hashes
SHA-256. The queue bounds the memory held to a few chunks.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

CHUNK_SIZE = 128 * 1024
# Chunks waiting for the side threads; each up to CHUNK_SIZE (uploads gather the network's pieces to that size).
QUEUE_DEPTH = 2
# Below this a side thread costs more than the hashing it would take off the caller's thread.
THREADED_FROM = 4 * CHUNK_SIZE
FILES_PER_BATCH = 64
BATCHES_IN_FLIGHT = 4
K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Digests:
    """Hex digests and size of some bytes."""

    sha256: str
    sha512: str
    sha1: str
    size: int


class _SideHash:
    """One hash fed on a thread of its own from a bounded queue."""

    def __init__(self, start: Any):
        # `start` holds what was hashed so far on the caller's thread; the side thread carries on from it.
        self.hash = start
        self.chunks: queue.Queue[bytes | None] = queue.Queue(QUEUE_DEPTH)
        self.thread = threading.Thread(target=self._run, name=f"hash-{start.name}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        update = self.hash.update
        while (chunk := self.chunks.get()) is not None:
            update(chunk)

    def finish(self) -> str:
        self.chunks.put(None)
        self.thread.join()
        digest: str = self.hash.hexdigest()
        return digest

    def stop(self) -> None:
        # The queue may be full of chunks nobody wants any more: empty it so the sentinel fits.
        while self.thread.is_alive():
            try:
                self.chunks.put(None, timeout=0.05)
                break
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self.chunks.get_nowait()
        self.thread.join()


class Sha256Stream:
    """SHA-256 alone of a stream fed chunk by chunk: what an upload needs to name and check its blob, when the
    other digests are computed after it (see dist.services.blobs.upload)."""

    def __init__(self) -> None:
        self._sha256 = hashlib.sha256()
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self._sha256.update(chunk)

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    def finish(self) -> Digests | None:
        """None: the other digests are not known."""
        return None

    def close(self) -> None:
        pass


class StreamDigests:
    """All three digests of a stream fed chunk by chunk; SHA-512 and SHA-1 on side threads once the stream is
    long enough to be worth them (`expected_size`, when known, decides at once)."""

    def __init__(self, expected_size: int | None = None):
        self._sha256 = hashlib.sha256()
        self._sha512 = hashlib.sha512()
        self._sha1 = hashlib.sha1()
        self._sides: tuple[_SideHash, _SideHash] | None = None
        self.size = 0
        if expected_size is not None and expected_size >= THREADED_FROM:
            self._start_sides()

    def _start_sides(self) -> None:
        self._sides = (_SideHash(self._sha512.copy()), _SideHash(self._sha1.copy()))

    def update(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self._sha256.update(chunk)
        if self._sides is None and self.size >= THREADED_FROM:
            # The copies it starts from were taken before this chunk, which goes to the side threads below.
            self._start_sides()
        if self._sides is not None:
            for side in self._sides:
                side.chunks.put(chunk)
        else:
            self._sha512.update(chunk)
            self._sha1.update(chunk)

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    def finish(self) -> Digests:
        if self._sides is not None:
            sha512, sha1 = (side.finish() for side in self._sides)
            self._sides = None
        else:
            sha512, sha1 = self._sha512.hexdigest(), self._sha1.hexdigest()
        return Digests(self._sha256.hexdigest(), sha512, sha1, self.size)

    def close(self) -> None:
        """Stop the side threads of a stream given up halfway."""
        if self._sides is not None:
            for side in self._sides:
                side.stop()
            self._sides = None


def bytes_digests(data: bytes) -> Digests:
    """The digests of bytes in memory (a small file read at once)."""
    return Digests(
        hashlib.sha256(data).hexdigest(), hashlib.sha512(data).hexdigest(), hashlib.sha1(data).hexdigest(), len(data)
    )


def _hash_file(path: str | os.PathLike[str], name: str) -> tuple[str, int]:
    """One digest of a file and its size, read into one buffer over and over (nothing allocated per chunk)."""
    digest = hashlib.new(name)
    buffer = bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    size = 0
    with open(path, "rb", buffering=0) as source:
        while count := source.readinto(buffer):
            digest.update(view[:count])
            size += count
    return digest.hexdigest(), size


def file_digests(path: str | os.PathLike[str]) -> Digests:
    """The digests of a file. A large one is read three times at once, each digest on a thread of its own with
    one buffer it reads into over and over (hashlib lets the threads run together): memory stays three buffers,
    where chunks handed between threads would be allocated anew and queued. From the page cache it takes about
    the time of the slowest digest, SHA-512."""
    if os.stat(path).st_size < THREADED_FROM:
        with open(path, "rb") as source:
            return bytes_digests(source.read())
    with ThreadPoolExecutor(2, thread_name_prefix="digests") as pool:
        sha512 = pool.submit(_hash_file, path, "sha512")
        sha1 = pool.submit(_hash_file, path, "sha1")
        sha256, size = _hash_file(path, "sha256")
        (sha512_hex, sha512_size), (sha1_hex, sha1_size) = sha512.result(), sha1.result()
    if not size == sha512_size == sha1_size:
        raise OSError(f"{path} changed while it was read")
    return Digests(sha256, sha512_hex, sha1_hex, size)


def _file_digests_or_none(path: str) -> Digests | None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        size = os.fstat(fd).st_size
        if size >= THREADED_FROM:
            return file_digests(path)
        # A small file (most blobs of a store are): read at once, without the io layer, and hashed in C.
        # One read, unless the file grew since fstat: then until its end.
        data = os.read(fd, size + 1)
        while len(data) > size and (more := os.read(fd, CHUNK_SIZE)):
            data += more
    finally:
        os.close(fd)
    return bytes_digests(data)


def _batch_digests(batch: list[tuple[K, str]]) -> list[tuple[K, Digests | None]]:
    return [(key, _file_digests_or_none(path)) for key, path in batch]


def many_file_digests(paths: Iterable[tuple[K, str]], workers: int = 2) -> Iterator[tuple[K, Digests | None]]:
    """The digests of many files, in order, a few batches read at once (small blobs are many: each costs a system
    call or two more than its hashing, and a hand-over between threads more than that); None for a file that is
    not there."""
    if len(os.sched_getaffinity(0)) < 2:
        # One core: threads would only take turns on it.
        for key, path in paths:
            yield key, _file_digests_or_none(path)
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="digests") as pool:
        pending: list[Any] = []
        batch: list[tuple[K, str]] = []
        for entry in paths:
            batch.append(entry)
            if len(batch) >= FILES_PER_BATCH:
                pending.append(pool.submit(_batch_digests, batch))
                batch = []
                if len(pending) >= BATCHES_IN_FLIGHT:
                    yield from pending.pop(0).result()
        if batch:
            pending.append(pool.submit(_batch_digests, batch))
        for future in pending:
            yield from future.result()
