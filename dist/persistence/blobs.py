"""The queries of the blobs table: one row per blob in the object store, with its digests and upload time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.orm import Session

from dist.domain.entities import Blob
from dist.persistence.db import upsert
from dist.persistence.models import BlobDownloadRow, BlobRow


def _blob(row: BlobRow) -> Blob:
    return Blob(sha256=row.sha256, size=row.size, sha512=row.sha512, sha1=row.sha1, created_at=row.created_at)


class BlobRepository:
    def __init__(self, session: Session):
        self.session = session

    def get(self, sha256: str) -> Blob | None:
        row = self.session.scalars(select(BlobRow).where(BlobRow.sha256 == sha256)).one_or_none()
        return _blob(row) if row else None

    def record(self, blob: Blob) -> Blob:
        """Insert the blob's row, or, for a blob uploaded again, move its `created_at` to now (so that gc gives it
        a new grace period) and fill digests it lacked (a blob given without them keeps those it has). Safe when
        two uploads of the same bytes race."""
        table: Table = BlobRow.__table__  # type: ignore[assignment]
        values = {
            "sha256": blob.sha256,
            "size": blob.size,
            "sha512": blob.sha512,
            "sha1": blob.sha1,
            "created_at": blob.created_at,
        }
        statement = upsert(self.session, table).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=["sha256"],
            set_={
                "created_at": statement.excluded.created_at,
                "sha512": func.coalesce(statement.excluded.sha512, table.c.sha512),
                "sha1": func.coalesce(statement.excluded.sha1, table.c.sha1),
            },
        )
        self.session.execute(statement)
        return blob

    def set_digests(self, sha256: str, sha512: str, sha1: str) -> None:
        self.session.execute(update(BlobRow).where(BlobRow.sha256 == sha256).values(sha512=sha512, sha1=sha1))

    def remove(self, sha256: str) -> None:
        """The blob's row, and the counts of its downloads by sha256 with it."""
        self.session.execute(delete(BlobDownloadRow).where(BlobDownloadRow.sha256 == sha256))
        self.session.execute(delete(BlobRow).where(BlobRow.sha256 == sha256))

    def created_at(self, sha256: str) -> datetime | None:
        return self.session.scalar(select(BlobRow.created_at).where(BlobRow.sha256 == sha256))
