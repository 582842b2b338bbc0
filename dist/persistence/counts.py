"""Counts in the store: batches added with upserts that add (INSERT ... ON CONFLICT DO UPDATE SET count = count +
excluded.count), so that several processes and instances flushing the same day's rows all add up."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dist.domain.counts import Tally
from dist.persistence.db import upsert
from dist.persistence.models import (
    AppRow,
    ArtifactDownloadRow,
    ArtifactRow,
    BlobDownloadRow,
    BlobRow,
    ReleaseRow,
    UpdateCheckRow,
)


class CountRepository:
    def __init__(self, session: Session):
        self.session = session

    def _add(self, table: Any, keys: list[str], rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        statement = upsert(self.session, table)
        statement = statement.on_conflict_do_update(
            index_elements=keys, set_={"count": table.c["count"] + statement.excluded["count"]}
        )
        # Rows in one order in every process: two flushes touching the same rows cannot deadlock.
        rows.sort(key=lambda row: tuple(row[k] for k in keys))
        for row in rows:
            self.session.execute(statement, row)

    def add(self, tally: Tally) -> None:
        """Add a batch of counts. Rows whose artifact, blob or app is gone (deleted since) are left out."""
        artifact_ids = {a for a, _ in tally.artifacts}
        known_artifacts = set(
            self.session.scalars(select(ArtifactRow.id).where(ArtifactRow.id.in_(artifact_ids))) if artifact_ids else ()
        )
        shas = {s for s, _ in tally.blobs}
        known_blobs = set(self.session.scalars(select(BlobRow.sha256).where(BlobRow.sha256.in_(shas))) if shas else ())
        slugs = {a for a, *_ in tally.checks}
        app_ids = dict(
            self.session.execute(select(AppRow.slug, AppRow.id).where(AppRow.slug.in_(slugs))).tuples().all()
            if slugs
            else ()
        )
        self._add(
            ArtifactDownloadRow.__table__,
            ["artifact_id", "day"],
            [{"artifact_id": a, "day": d, "count": n} for (a, d), n in tally.artifacts.items() if a in known_artifacts],
        )
        self._add(
            BlobDownloadRow.__table__,
            ["sha256", "day"],
            [{"sha256": s, "day": d, "count": n} for (s, d), n in tally.blobs.items() if s in known_blobs],
        )
        checks: dict[tuple[int, str, str, date], int] = {}
        for (slug, channel, version, day), n in tally.checks.items():
            if slug in app_ids:
                key = (app_ids[slug], channel, version, day)
                checks[key] = checks.get(key, 0) + n
        self._add(
            UpdateCheckRow.__table__,
            ["app_id", "channel", "version", "day"],
            [{"app_id": a, "channel": c, "version": v, "day": d, "count": n} for (a, c, v, d), n in checks.items()],
        )

    def downloads_by_day(self, app_id: int, first_day: date) -> list[tuple[date, str, int]]:
        """(day, version, count) of the app's file downloads since `first_day`."""
        query = (
            select(ArtifactDownloadRow.day, ReleaseRow.version, func.sum(ArtifactDownloadRow.count))
            .join(ArtifactRow, ArtifactRow.id == ArtifactDownloadRow.artifact_id)
            .join(ReleaseRow, ReleaseRow.id == ArtifactRow.release_id)
            .where(ReleaseRow.app_id == app_id, ArtifactDownloadRow.day >= first_day)
            .group_by(ArtifactDownloadRow.day, ReleaseRow.version)
        )
        return [(day, version, int(count)) for day, version, count in self.session.execute(query)]

    def checks_by_day(self, app_id: int, first_day: date) -> list[tuple[date, str, int]]:
        """(day, version, count) of the app's update checks since `first_day`, every channel together."""
        query = (
            select(UpdateCheckRow.day, UpdateCheckRow.version, func.sum(UpdateCheckRow.count))
            .where(UpdateCheckRow.app_id == app_id, UpdateCheckRow.day >= first_day)
            .group_by(UpdateCheckRow.day, UpdateCheckRow.version)
        )
        return [(day, version, int(count)) for day, version, count in self.session.execute(query)]

    def blob_downloads(self, sha256: str) -> int:
        total = self.session.scalar(select(func.sum(BlobDownloadRow.count)).where(BlobDownloadRow.sha256 == sha256))
        return int(total or 0)


# The downloads of the artifact in the row being read: a column of the queries that read artifacts.
ARTIFACT_DOWNLOADS = (
    select(func.coalesce(func.sum(ArtifactDownloadRow.count), 0))
    .where(ArtifactDownloadRow.artifact_id == ArtifactRow.id)
    .correlate(ArtifactRow)
    .scalar_subquery()
)
