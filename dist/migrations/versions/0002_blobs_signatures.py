"""Blobs with their digests, artifact signatures, app settings, 64-bit ids.

Creates `blobs` and fills it with one row per blob the artifacts reference, hashing each file of the store's
objects/ for its SHA-512 and SHA-1 (the migration sees the store given by `-x store=DIR`, else DIST_STORE, else
./dist-store; dist hands over its own when it upgrades an embedded store). A blob it cannot read keeps NULL
digests, which dist computes on first need; the migration says how many. Then artifacts.sha256 becomes a foreign
key to blobs, artifacts gain their signatures, apps their default channel and public keys, and on PostgreSQL
every id becomes a BIGINT with a bigint sequence (SQLite's INTEGER is 64-bit already).

The downgrade drops all of that (and the `app_updated` audit events, an action 0001 does not know); it refuses
(PostgreSQL) when an id no longer fits 32 bits.

Revision ID: 0002_blobs_signatures
Revises: 0001
Create Date: 2026-11-30
"""

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
import os
import sys
import time

import sqlalchemy as sa
from alembic import context, op

revision: str = "0002_blobs_signatures"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each table's id and the columns that refer to ids (widened on PostgreSQL).
ID_COLUMNS = {
    "apps": ["id"],
    "releases": ["id", "app_id"],
    "artifacts": ["id", "release_id"],
    "channels": ["id", "app_id", "release_id"],
    "channel_events": ["id", "channel_id", "release_id"],
    "tokens": ["id"],
    "audit_events": ["id"],
}
NULLABLE_IDS = {("channels", "release_id")}
BATCH = 1000

artifacts = sa.table("artifacts", sa.column("sha256", sa.String), sa.column("size", sa.BigInteger))
blobs = sa.table(
    "blobs",
    sa.column("sha256", sa.String),
    sa.column("size", sa.BigInteger),
    sa.column("sha512", sa.String),
    sa.column("sha1", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def say(text: str) -> None:
    sys.stderr.write(text + "\n")


def referenced(connection: sa.Connection) -> Iterator[tuple[str, int]]:
    """Each blob the artifacts name, with its declared size, in pages by sha256 (memory stays one page)."""
    last = ""
    while True:
        page = connection.execute(
            sa.select(artifacts.c.sha256, sa.func.max(artifacts.c.size))
            .where(artifacts.c.sha256 > last)
            .group_by(artifacts.c.sha256)
            .order_by(artifacts.c.sha256)
            .limit(BATCH)
        ).all()
        if not page:
            return
        yield from ((sha256, size) for sha256, size in page)
        last = page[-1][0]


def fill_blobs(connection: sa.Connection) -> None:
    from dist.persistence.file_objects import FileObjects
    from dist.persistence.objects import ObjectStore

    objects: ObjectStore | None = context.config.attributes.get("objects")
    started = time.perf_counter()
    total = connection.scalar(sa.select(sa.func.count(sa.distinct(artifacts.c.sha256)))) or 0
    # A bucket is there once the store opened it (it checks the bucket); a directory may not be.
    visible = objects is not None and (not isinstance(objects, FileObjects) or objects.objects_dir.is_dir())
    if total and not visible:
        where = f"{objects.url} does not exist" if objects is not None else "no store was given"
        say(
            f"0002: {where}, so the SHA-512 and SHA-1 of {total} blobs are left for dist to compute on first need; "
            "upgrade with `-x store=DIR` (the store holding objects/) to fill them now"
        )
    terminal = sys.stderr.isatty()
    now = datetime.now(UTC)
    if connection.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    sizes: dict[str, int] = {}

    def shas() -> Iterator[tuple[str, str]]:
        for sha256, size in referenced(connection):
            sizes[sha256] = size
            yield sha256, sha256

    found = (
        objects.many_digests(shas())
        if objects is not None and visible
        else ((sha256, None) for sha256, _ in shas())
    )
    rows: list[dict[str, object]] = []
    missing = done = hashed_bytes = 0
    for sha256, digests in found:
        size = sizes.pop(sha256)
        if digests is None:
            missing += 1
        else:
            hashed_bytes += digests.size
        rows.append(
            {
                "sha256": sha256,
                "size": size if digests is None else digests.size,
                "sha512": None if digests is None else digests.sha512,
                "sha1": None if digests is None else digests.sha1,
                "created_at": now,
            }
        )
        done += 1
        if len(rows) >= BATCH:
            connection.execute(blobs.insert(), rows)
            rows = []
        if terminal and (done % 100 == 0 or done == total):
            sys.stderr.write(f"\r0002: hashing blobs {done}/{total}")
    if rows:
        connection.execute(blobs.insert(), rows)
    if terminal and total:
        sys.stderr.write("\n")
    if total - missing:
        seconds = time.perf_counter() - started
        say(f"0002: hashed {total - missing} blobs, {hashed_bytes} bytes, in {seconds:.3f} s")
    if missing and objects is not None and visible:
        say(
            f"0002: {missing} of {total} blobs are not in {objects.url}; their SHA-512 and SHA-1 are left "
            "for dist to compute on first need (`dist store verify` lists missing blobs)"
        )


def rebuild_artifacts(connection: sa.Connection, *, signed: bool) -> None:
    """SQLite's way to add or drop a foreign key: a new artifacts table (with this revision's columns and key, or
    0001's), the rows copied, the old one dropped. Written out rather than left to Alembic's batch mode, whose
    CREATE TABLE orders the constraints differently from one process to the next."""
    id_type = sa.Integer()
    items: list[sa.SchemaItem] = [
        sa.Column("id", id_type, nullable=False),
        sa.Column("release_id", id_type, nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("platform", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
    ]
    if signed:
        items += [
            sa.Column("minisign_signature", sa.Text(), nullable=True),
            sa.Column("ed25519_signature", sa.String(length=88), nullable=True),
        ]
    items += [
        sa.PrimaryKeyConstraint("id", name="pk_artifacts"),
        sa.ForeignKeyConstraint(["release_id"], ["releases.id"], name="fk_artifacts_release_id_releases"),
        sa.UniqueConstraint("release_id", "filename", name="uq_artifacts_release_id_filename"),
    ]
    if signed:
        items.append(sa.ForeignKeyConstraint(["sha256"], ["blobs.sha256"], name="fk_artifacts_sha256_blobs"))
    metadata = sa.MetaData()
    sa.Table("releases", metadata, sa.Column("id", id_type, primary_key=True))
    sa.Table("blobs", metadata, sa.Column("sha256", sa.String(length=64), unique=True))
    new = sa.Table("_artifacts_new", metadata, *items)
    new.create(connection)
    shared = ", ".join(c.name for c in new.columns if c.name not in ("minisign_signature", "ed25519_signature"))
    connection.execute(sa.text(f"INSERT INTO _artifacts_new ({shared}) SELECT {shared} FROM artifacts"))
    connection.execute(sa.text("DROP TABLE artifacts"))
    connection.execute(sa.text("ALTER TABLE _artifacts_new RENAME TO artifacts"))
    connection.execute(sa.text("CREATE INDEX ix_artifacts_sha256 ON artifacts (sha256)"))


def widen_ids(connection: sa.Connection, to: type[sa.types.TypeEngine[int]]) -> None:
    name = "bigint" if to is sa.BigInteger else "integer"
    for table, columns in ID_COLUMNS.items():
        for column in columns:
            op.alter_column(
                table,
                column,
                type_=to(),
                existing_nullable=(table, column) in NULLABLE_IDS,
                postgresql_using=f"{column}::{name}",
            )
        sequence = connection.scalar(sa.text(f"SELECT pg_get_serial_sequence('{table}', 'id')"))
        op.execute(sa.text(f"ALTER SEQUENCE {sequence} AS {name}"))


def upgrade() -> None:
    connection = op.get_bind()
    op.create_table(
        "blobs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha512", sa.String(length=128), nullable=True),
        sa.Column("sha1", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blobs")),
        sa.UniqueConstraint("sha256", name=op.f("uq_blobs_sha256")),
    )
    fill_blobs(connection)
    if connection.dialect.name == "postgresql":
        widen_ids(connection, sa.BigInteger)
    if connection.dialect.name == "sqlite":
        rebuild_artifacts(connection, signed=True)
    else:
        op.add_column("artifacts", sa.Column("minisign_signature", sa.Text(), nullable=True))
        op.add_column("artifacts", sa.Column("ed25519_signature", sa.String(length=88), nullable=True))
        op.create_foreign_key(op.f("fk_artifacts_sha256_blobs"), "artifacts", "blobs", ["sha256"], ["sha256"])
    op.add_column(
        "apps", sa.Column("default_channel", sa.String(length=32), server_default="stable", nullable=False)
    )
    op.add_column("apps", sa.Column("minisign_public_key", sa.Text(), nullable=True))
    op.add_column("apps", sa.Column("ed25519_public_key", sa.String(length=44), nullable=True))


def downgrade() -> None:
    connection = op.get_bind()
    # 0001 knows no `app_updated` action and would fail to read the audit log holding one.
    dropped = connection.execute(sa.text("DELETE FROM audit_events WHERE action = 'app_updated'")).rowcount
    if dropped:
        say(f"0002 downgrade: removed {dropped} app_updated audit events, which the 0001 schema cannot express")
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35 and later): rebuilding apps would mean dropping a table that
    # releases and channels refer to.
    op.drop_column("apps", "ed25519_public_key")
    op.drop_column("apps", "minisign_public_key")
    op.drop_column("apps", "default_channel")
    if connection.dialect.name == "sqlite":
        rebuild_artifacts(connection, signed=False)
    else:
        op.drop_constraint(op.f("fk_artifacts_sha256_blobs"), "artifacts", type_="foreignkey")
        op.drop_column("artifacts", "ed25519_signature")
        op.drop_column("artifacts", "minisign_signature")
    if connection.dialect.name == "postgresql":
        too_large = [
            table
            for table, columns in ID_COLUMNS.items()
            if connection.scalar(sa.text(f"SELECT coalesce(max(id), 0) FROM {table}")) > 2**31 - 1
        ]
        if too_large:
            raise RuntimeError(
                f"cannot downgrade: {', '.join(too_large)} hold ids above 2147483647, which the 0001 schema "
                "cannot store"
            )
        widen_ids(connection, sa.Integer)
    op.drop_table("blobs")
