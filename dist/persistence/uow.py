"""The unit of work: one session, its repositories, the object store, and a transaction that rolls back
unless the service commits it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from dist.persistence.blobs import BlobRepository
from dist.persistence.changes import notify_changes
from dist.persistence.counts import CountRepository
from dist.persistence.idempotency import IdempotencyRepository
from dist.persistence.objects import ObjectStore
from dist.persistence.repositories import (
    AppRepository,
    AuditRepository,
    ChannelRepository,
    ReleaseRepository,
    TokenRepository,
)
from dist.persistence.webhook_repositories import DeliveryRepository, WebhookRepository


def utc_now() -> datetime:
    return datetime.now(UTC)


class UnitOfWork:
    apps: AppRepository
    releases: ReleaseRepository
    channels: ChannelRepository
    tokens: TokenRepository
    audit: AuditRepository
    blobs: BlobRepository
    webhooks: WebhookRepository
    deliveries: DeliveryRepository
    idempotency: IdempotencyRepository
    counts: CountRepository
    session: Session

    def __init__(
        self,
        read_sessions: sessionmaker[Session],
        write_sessions: sessionmaker[Session],
        objects: ObjectStore,
        clock: Callable[[], datetime] = utc_now,
    ):
        self._read_sessions = read_sessions
        self._write_sessions = write_sessions
        self.objects = objects
        self.clock = clock
        self._active = False
        self._writing = False

    @contextmanager
    def _transaction(self, factory: sessionmaker[Session]) -> Iterator[UnitOfWork]:
        if self._active:
            raise RuntimeError("a unit of work runs one transaction at a time")
        self._active = True
        self._writing = factory is self._write_sessions
        self.session = factory()
        self.apps = AppRepository(self.session)
        self.releases = ReleaseRepository(self.session)
        self.channels = ChannelRepository(self.session)
        self.tokens = TokenRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.blobs = BlobRepository(self.session)
        self.webhooks = WebhookRepository(self.session)
        self.deliveries = DeliveryRepository(self.session)
        self.idempotency = IdempotencyRepository(self.session)
        self.counts = CountRepository(self.session)
        try:
            with self.session.begin():
                yield self
                self.session.rollback()
        finally:
            self.session.close()
            self._active = False

    def read(self) -> AbstractContextManager[UnitOfWork]:
        """A read-only transaction: one consistent snapshot, never committed."""
        return self._transaction(self._read_sessions)

    def write(self) -> AbstractContextManager[UnitOfWork]:
        """A write transaction: takes the write lock first on SQLite; rolled back unless `commit()` is called."""
        return self._transaction(self._write_sessions)

    def commit(self) -> None:
        if self._writing:
            # Servers caching reads learn of the change when it commits (PostgreSQL; SQLite needs no word).
            notify_changes(self.session)
        self.session.commit()
