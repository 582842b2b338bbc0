"""SHA-512 and SHA-1 of uploaded blobs, computed right after their uploads rather than during them.

An upload into a store of files that does not name its digest (X-Content-SHA256) hashes SHA-256 alone on the
way (what names and checks the blob), so that it costs one hash instead of three; its answer goes out as soon as
the bytes are durable. (One that names it comes from a client about to publish: it hashes all three on the way.)
The other two digests are then computed from the file, one blob at a time, by a task of the server's. Publish
computes whatever is still missing before it records a release (dist.services.releases), so no release, and no
feed, is ever without them. A server that stops finishes the blobs already waiting first; one killed leaves
their rows' digests empty until publish (or a feed) needs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool

from dist.persistence.store import Store
from dist.services import blobs

log = logging.getLogger("dist.http.digests")


class DigestFiller:
    """The blobs whose digests are still to compute, in the order they were uploaded."""

    def __init__(self) -> None:
        self._waiting: asyncio.Queue[str] = asyncio.Queue()
        self._running = False

    @property
    def later(self) -> bool:
        """Whether uploads may leave their digests to this filler (it runs, for a store of files)."""
        return self._running

    def add(self, sha256: str) -> None:
        self._waiting.put_nowait(sha256)

    async def _run(self, store: Store) -> None:
        while True:
            sha256 = await self._waiting.get()
            try:
                await run_in_threadpool(blobs.fill_digests, store.uow(), [sha256])
            except Exception:
                log.exception("the digests of blob %s could not be computed; publish computes them", sha256)
            finally:
                self._waiting.task_done()

    @contextlib.asynccontextmanager
    async def running(self, store: Store) -> AsyncIterator[None]:
        """Computes digests while the server runs, and those still waiting when it stops."""
        if not store.objects.digests_after_upload:
            yield
            return
        task = asyncio.create_task(self._run(store))
        self._running = True
        try:
            yield
        finally:
            self._running = False
            try:
                await self._waiting.join()
            finally:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
