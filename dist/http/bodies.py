"""A request body handed to a service that runs in a worker thread, read ahead by the event loop.

The service (hashing, writing) and the event loop (receiving) work at the same time: a task gathers the body into
chunks of CHUNK_SIZE and queues a few of them, and the worker thread takes them one by one. At most
`AHEAD` chunks wait, so memory stays bounded whatever the body's size.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from types import TracebackType

import anyio.from_thread

from dist.persistence.digests import CHUNK_SIZE

AHEAD = 1


class ReadAhead:
    def __init__(self, pieces: AsyncIterator[bytes]) -> None:
        self._pieces = pieces
        self._queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue(AHEAD)
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ReadAhead:
        self._task = asyncio.create_task(self._pump())
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        # The service may stop early (a refusal): the body left unread is not waited for.
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _pump(self) -> None:
        pending: list[bytes] = []
        size = 0
        try:
            async for piece in self._pieces:
                pending.append(piece)
                size += len(piece)
                if size >= CHUNK_SIZE:
                    await self._queue.put(b"".join(pending))
                    pending, size = [], 0
            if pending:
                await self._queue.put(b"".join(pending))
            await self._queue.put(None)
        except Exception as error:
            # The reader's refusal (body too large, cut short) reaches the service, which keeps nothing.
            await self._queue.put(error)

    def in_thread(self) -> Iterator[bytes]:
        """The chunks, for the worker thread; raises what reading the body raised."""
        while True:
            item = anyio.from_thread.run(self._queue.get)
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
