"""Counting downloads and update checks in distd: a tally in memory, written to the store every `interval`
seconds and at shutdown in one transaction (a crash loses at most the last interval's counts)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime

from starlette.concurrency import run_in_threadpool

from dist.domain.counts import Tally
from dist.http.defaults import DEFAULT_COUNTS_INTERVAL
from dist.persistence.store import Store
from dist.persistence.uow import utc_now
from dist.services import counts

log = logging.getLogger("dist.http.counting")


class Counting:
    """The process's tally. With an interval of 0 nothing is counted. Days are the UTC days of `clock` (the
    store's clock, once the server runs)."""

    def __init__(self, interval: float = DEFAULT_COUNTS_INTERVAL) -> None:
        self.interval = interval
        self.enabled = interval > 0
        self.tally = Tally()
        self.clock: Callable[[], datetime] = utc_now

    def today(self) -> date:
        return self.clock().astimezone(UTC).date()

    def download_artifact(self, artifact_id: int) -> None:
        if self.enabled:
            self.tally.download_artifact(artifact_id, self.today())

    def download_blob(self, sha256: str) -> None:
        if self.enabled:
            self.tally.download_blob(sha256, self.today())

    def check(self, app: str, channel: str, version: str) -> None:
        if self.enabled:
            self.tally.check(app, channel, version, self.today())

    async def run(self, store: Store) -> None:
        """Flush every interval until cancelled."""
        while True:
            await asyncio.sleep(self.interval)
            await self.flush(store)

    async def flush(self, store: Store) -> None:
        """Write what was counted since the last flush; on failure it is kept for the next one."""
        batch = self.tally.take()
        if not batch:
            return
        try:
            await run_in_threadpool(counts.record, store.uow(), batch)
        except Exception:
            log.exception("download counts could not be written; kept for the next flush")
            self.tally.add(batch)
