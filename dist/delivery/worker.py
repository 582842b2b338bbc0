"""The delivery worker: one per distd process, draining the outbox in the background.

It sleeps until a delivery is due, woken by every commit the store's change watch sees (PRAGMA data_version
on SQLite, checked every WATCH_POLL_SECONDS without touching a table; LISTEN/NOTIFY on PostgreSQL), so that
a delivery leaves within a fraction of a second of the commit that wrote it. Each due delivery is leased to
one worker for one attempt (see dist.services.outbox), so several instances never repeat an attempt.

The HTTP client (httpcore, and with it whatever async library it finds installed) is loaded with the first
delivery: a server whose store has no webhooks never holds it in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool

from dist.domain.entities import Attempt
from dist.persistence.store import Store
from dist.services import outbox

if TYPE_CHECKING:
    import httpcore

log = logging.getLogger("dist.delivery")

MAX_IN_FLIGHT = 32
# Asleep with nothing due, the worker still looks every IDLE_SECONDS (a commit it could not see, a clock
# that moved); every UNWATCHED_SECONDS while the change watch is down.
IDLE_SECONDS = 5.0
UNWATCHED_SECONDS = 0.5
WATCH_POLL_SECONDS = 0.05
# Woken by a commit, the worker waits a moment more, so that the deliveries of the commits that follow in
# quick succession are claimed in one transaction; random, so that instances woken by the same commit seldom
# reach for the same deliveries at once.
COALESCE_SECONDS = (0.02, 0.1)
# After a due delivery turned out to be taken by another worker, or the database failed.
BACKOFF_SECONDS = 0.2
ERROR_SECONDS = 1.0


class DeliveryWorker:
    def __init__(self, store: Store, *, allow_private: bool, max_in_flight: int = MAX_IN_FLIGHT) -> None:
        self.store = store
        self.allow_private = allow_private
        self.owner = f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._max_in_flight = max_in_flight
        self._in_flight: set[asyncio.Task[None]] = set()
        # Outcomes waiting to be recorded: written together, one transaction for all that finished meanwhile.
        self._finished: list[tuple[Attempt, outbox.Outcome]] = []
        self._recording: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopped = False
        self._exits: contextlib.AsyncExitStack | None = None
        self._client: httpcore.AsyncConnectionPool | None = None

    def wake(self) -> None:
        """Something was committed: look for due deliveries now."""
        self._wake.set()

    def stop(self) -> None:
        """End `run` at its next step (the caller also cancels it, to cut a sleep or an attempt short)."""
        self._stopped = True
        self._wake.set()

    async def run(self, poll: Callable[[], bool]) -> None:
        """Deliver until cancelled. `poll` checks the change watch (calling `wake` on news) and says whether
        it is live."""
        async with contextlib.AsyncExitStack() as exits:
            self._exits = exits
            try:
                while not self._stopped:
                    # Cleared before the outbox is read: a commit seen from here on cuts the next sleep short.
                    self._wake.clear()
                    wait = await self._round()
                    await self._sleep(wait, poll)
            finally:
                await self._stop()

    async def _pool(self) -> httpcore.AsyncConnectionPool:
        """The connection pool, opened on first use and closed when `run` ends."""
        if self._client is None:
            import httpcore

            assert self._exits is not None
            # Redirects are never followed (httpcore does not follow them) and no proxy from the environment
            # applies.
            pool = httpcore.AsyncConnectionPool(max_connections=self._max_in_flight, retries=0)
            self._client = await self._exits.enter_async_context(pool)
        return self._client

    async def _round(self) -> float:
        """Start attempts for what is due; returns how long to sleep before looking again."""
        try:
            due = await run_in_threadpool(outbox.next_due, self.store.uow())
            if due is None:
                return IDLE_SECONDS
            ahead = _seconds(due, self.store.clock())
            if ahead > 0:
                return min(ahead, IDLE_SECONDS)
            free = self._max_in_flight - len(self._in_flight)
            if free <= 0:
                return IDLE_SECONDS
            claimed = await run_in_threadpool(outbox.claim, self.store.uow(), owner=self.owner, limit=free)
        except Exception:
            log.exception("webhook deliveries: cannot read the outbox; trying again")
            return ERROR_SECONDS
        if claimed:
            client = await self._pool()
        for attempt in claimed:
            task = asyncio.create_task(self._attempt(client, attempt))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        # Nothing claimed: another worker took what was due; it records its attempts in a moment.
        return BACKOFF_SECONDS if not claimed else 0.0

    async def _attempt(self, client: httpcore.AsyncConnectionPool, attempt: Attempt) -> None:
        from dist.delivery.sender import send

        try:
            outcome = await send(client, attempt, allow_private=self.allow_private)
        except Exception as error:
            # Recorded like any failed attempt, rather than leaving the delivery leased until its lease ends.
            log.exception("webhook delivery %s: the attempt failed", attempt.delivery_id)
            outcome = outbox.Outcome(error=f"{type(error).__name__}: {error}")
        self._finished.append((attempt, outcome))
        if self._recording is None or self._recording.done():
            self._recording = asyncio.create_task(self._record())

    async def _record(self) -> None:
        while self._finished:
            batch, self._finished = self._finished, []
            try:
                await run_in_threadpool(outbox.finish, self.store.uow(), batch, owner=self.owner)
            except Exception:
                # Their leases run out and other attempts are made: at least once, never lost.
                log.exception("webhook deliveries: cannot record %d attempts", len(batch))
            self.wake()

    async def _sleep(self, seconds: float, poll: Callable[[], bool]) -> None:
        if seconds <= 0:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self._wake.is_set():
            live = poll()
            left = deadline - loop.time()
            if self._wake.is_set() or left <= 0:
                break
            # asyncio.timeout rather than wait_for: on Python 3.11 wait_for can swallow a cancellation that
            # arrives as the event is set, and the worker would never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(left, WATCH_POLL_SECONDS if live else UNWATCHED_SECONDS)):
                    await self._wake.wait()
            if not live:
                break
        if self._wake.is_set() and not self._stopped:
            await asyncio.sleep(random.uniform(*COALESCE_SECONDS))

    async def _stop(self) -> None:
        unfinished = list(self._in_flight)
        for task in unfinished:
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
        if self._recording is not None:
            # Attempts that were made are recorded (it takes a moment), so that they are not made again.
            await asyncio.gather(self._recording, return_exceptions=True)
        if unfinished:
            with contextlib.suppress(Exception):
                await run_in_threadpool(outbox.release, self.store.uow(), owner=self.owner)


def _seconds(due: datetime, now: datetime) -> float:
    return (due - now).total_seconds()
