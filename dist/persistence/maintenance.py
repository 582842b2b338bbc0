"""The queries of store maintenance (verify, gc): blobs the artifacts reference, and references that dangle.

Every query streams its rows, so a store of any size is checked in memory proportional to a batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import Table, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from dist.persistence.models import (
    AppRow,
    ArtifactRow,
    AuditEventRow,
    BlobRow,
    ChannelEventRow,
    ChannelRow,
    ReleaseRow,
    TokenRow,
    WebhookRow,
)

# A report of long work: `progress(task, done, total)`, total None while unknown.
Progress = Callable[[str, int, int | None], None]
STREAM_BATCH = 2000
ENTITY_TABLES: tuple[Table, ...] = tuple(
    row.__table__  # type: ignore[misc]
    for row in (AppRow, ChannelRow, ChannelEventRow, ReleaseRow, ArtifactRow, TokenRow, AuditEventRow, WebhookRow)
)


def no_progress(task: str, done: int, total: int | None) -> None:
    """Progress reported to nobody."""


@dataclass(frozen=True, slots=True)
class BlobUse:
    """A blob as the artifacts declare it: one sha256 and size, with how many artifacts and the first one."""

    sha256: str
    size: int
    artifacts: int
    first_artifact: int


@dataclass(frozen=True, slots=True)
class DanglingReference:
    record: str
    message: str


class MaintenanceRepository:
    def __init__(self, session: Session):
        self.session = session

    def count_blob_uses(self) -> int:
        uses = select(ArtifactRow.sha256, ArtifactRow.size).distinct().subquery()
        return self.session.scalar(select(func.count()).select_from(uses)) or 0

    def blob_uses(self) -> Iterator[BlobUse]:
        """Each distinct (sha256, size) the artifacts declare."""
        query = (
            select(ArtifactRow.sha256, ArtifactRow.size, func.count(), func.min(ArtifactRow.id))
            .group_by(ArtifactRow.sha256, ArtifactRow.size)
            .order_by(ArtifactRow.sha256, ArtifactRow.size)
        )
        for sha256, size, count, first in self.session.execute(query, execution_options={"yield_per": STREAM_BATCH}):
            yield BlobUse(sha256, size, count, first)

    def referenced_blobs(self) -> Iterator[str]:
        """Each sha256 some artifact references, once."""
        query = select(ArtifactRow.sha256).distinct().order_by(ArtifactRow.sha256)
        yield from self.session.scalars(query, execution_options={"yield_per": STREAM_BATCH})

    def unreferenced_blob_rows(self) -> Iterator[str]:
        """The sha256 of each blob row that no artifact references."""
        query = (
            select(BlobRow.sha256).where(~exists().where(ArtifactRow.sha256 == BlobRow.sha256)).order_by(BlobRow.sha256)
        )
        yield from self.session.scalars(query, execution_options={"yield_per": STREAM_BATCH})

    def is_referenced(self, sha256: str) -> bool:
        return bool(self.session.scalar(select(exists().where(ArtifactRow.sha256 == sha256))))

    def count_references(self) -> int:
        """How many references `dangling_references` checks."""
        counts = [
            select(func.count()).select_from(ArtifactRow),
            select(func.count()).select_from(ReleaseRow),
            select(func.count()).select_from(ChannelRow),
            select(func.count()).select_from(ChannelEventRow),
        ]
        return sum(self.session.scalar(query) or 0 for query in counts)

    def dangling_references(self) -> Iterator[DanglingReference]:
        """References to records that do not exist, and channels (or their events) on another app's release.
        The foreign keys forbid most of these; a database edited by hand, or by an older version, may not."""
        release = aliased(ReleaseRow)
        app = aliased(AppRow)
        channel = aliased(ChannelRow)
        artifacts = (
            select(ArtifactRow.id, ArtifactRow.release_id)
            .outerjoin(release, release.id == ArtifactRow.release_id)
            .where(release.id.is_(None))
        )
        for id_, release_id in self.session.execute(artifacts):
            yield DanglingReference(f"artifact {id_}", f"its release {release_id} does not exist")
        releases = select(ReleaseRow.id, ReleaseRow.app_id).outerjoin(app, app.id == ReleaseRow.app_id)
        for id_, app_id in self.session.execute(releases.where(app.id.is_(None))):
            yield DanglingReference(f"release {id_}", f"its app {app_id} does not exist")
        channels = (
            select(ChannelRow.id, ChannelRow.app_id, ChannelRow.release_id, app.id, release.app_id)
            .outerjoin(app, app.id == ChannelRow.app_id)
            .outerjoin(release, release.id == ChannelRow.release_id)
            .where(
                or_(
                    app.id.is_(None),
                    and_(ChannelRow.release_id.is_not(None), or_(release.id.is_(None), release.app_id != app.id)),
                )
            )
        )
        for id_, app_id, release_id, found_app, release_app in self.session.execute(channels):
            if found_app is None:
                yield DanglingReference(f"channel {id_}", f"its app {app_id} does not exist")
            elif release_app is None:
                yield DanglingReference(f"channel {id_}", f"the release it serves, {release_id}, does not exist")
            else:
                yield DanglingReference(f"channel {id_}", f"it serves release {release_id} of another app")
        events = (
            select(ChannelEventRow.id, ChannelEventRow.channel_id, ChannelEventRow.release_id, channel.id, release.id)
            .outerjoin(channel, channel.id == ChannelEventRow.channel_id)
            .outerjoin(release, release.id == ChannelEventRow.release_id)
            .where(or_(channel.id.is_(None), release.id.is_(None), release.app_id != channel.app_id))
        )
        for id_, channel_id, release_id, found_channel, found_release in self.session.execute(events):
            if found_channel is None:
                yield DanglingReference(f"channel event {id_}", f"its channel {channel_id} does not exist")
            elif found_release is None:
                yield DanglingReference(f"channel event {id_}", f"its release {release_id} does not exist")
            else:
                yield DanglingReference(
                    f"channel event {id_}", f"its release {release_id} belongs to another app than its channel"
                )
