"""Loading db.json into an empty database, inside the caller's transaction, all or nothing.

The document is read as a stream and written in batches (executemany; COPY on PostgreSQL), so memory follows
the batch size, not the store. Only small maps of ids (and hashes of the keys that must be unique) are kept, to
check references and uniqueness across records. Members are loaded parents first (apps before releases
before artifacts and channels): one that comes before its parents in the file is loaded on a further pass.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, func, select, text

from dist.domain.errors import Conflict, Invalid
from dist.persistence.file_objects import FileObjects
from dist.persistence.legacy.bulk import BulkInsert
from dist.persistence.legacy.idsets import HashSet, IdMap, IdSet
from dist.persistence.legacy.jsonstream import LegacyDocument
from dist.persistence.legacy.records import (
    KIND_NAMES,
    Fields,
    app_row,
    artifact_row,
    audit_row,
    channel_row,
    fast_artifact_row,
    fast_audit_row,
    fast_release_row,
    history_rows,
    record_refusal,
    refusal,
    release_row,
    rollout_row,
    token_row,
    webhook_row,
)
from dist.persistence.maintenance import ENTITY_TABLES, Progress, no_progress
from dist.persistence.models import (
    AppRow,
    ArtifactRow,
    AuditEventRow,
    BlobRow,
    ChannelEventRow,
    ChannelRow,
    ReleaseRow,
    RolloutRow,
    TokenRow,
    WebhookRow,
)

BATCH_SIZE = 5000
BLOB_SIZES_KEPT = 4096
PROGRESS_EVERY = 1000
MEMBERS = ("apps", "channels", "releases", "artifacts", "tokens", "audit", "webhooks")
PARENTS = {"apps": (), "releases": ("apps",), "artifacts": ("releases",), "channels": ("apps", "releases")}
# Any constant will do: it only has to be the same for every process importing into one database.
IMPORT_LOCK_KEY = 0x64697374

APPS: Table = AppRow.__table__  # type: ignore[assignment]
RELEASES: Table = ReleaseRow.__table__  # type: ignore[assignment]
ARTIFACTS: Table = ArtifactRow.__table__  # type: ignore[assignment]
BLOBS: Table = BlobRow.__table__  # type: ignore[assignment]
CHANNELS: Table = ChannelRow.__table__  # type: ignore[assignment]
CHANNEL_EVENTS: Table = ChannelEventRow.__table__  # type: ignore[assignment]
ROLLOUTS: Table = RolloutRow.__table__  # type: ignore[assignment]
TOKENS: Table = TokenRow.__table__  # type: ignore[assignment]
AUDIT: Table = AuditEventRow.__table__  # type: ignore[assignment]
WEBHOOKS: Table = WebhookRow.__table__  # type: ignore[assignment]
# Parents before children, for the foreign keys.
TABLES = (APPS, RELEASES, BLOBS, ARTIFACTS, CHANNELS, CHANNEL_EVENTS, ROLLOUTS, TOKENS, AUDIT, WEBHOOKS)


@dataclass
class LoadReport:
    """What an import brought in: records per kind, and what it ignored."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys((*MEMBERS, "channel_events"), 0))
    warnings: list[str] = field(default_factory=list)


def lock_for_import(connection: Connection) -> None:
    """On PostgreSQL, serialise imports into one database (SQLite's BEGIN IMMEDIATE already does)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK_KEY})


def database_counts(connection: Connection) -> dict[str, int]:
    """Rows per kind, named as db.json names its members (channel events apart)."""
    names = {"audit_events": "audit"}
    return {
        names.get(table.name, table.name): connection.scalar(select(func.count()).select_from(table)) or 0
        for table in ENTITY_TABLES
    }


def document_counts(path: Path) -> dict[str, int]:
    """Records per kind in a db.json, with channel histories counted as channel events."""
    counts = dict.fromkeys((*MEMBERS, "channel_events"), 0)
    with path.open("rb") as source:
        for name, items in LegacyDocument(source, path.name).members():
            if name in counts and items is not None:
                for item in items:
                    counts[name] += 1
                    if name == "channels" and isinstance(item, dict) and isinstance(item.get("history"), list):
                        counts["channel_events"] += len(item["history"])
    return counts


def refuse_unless_empty(connection: Connection, what: str) -> None:
    counts = database_counts(connection)
    if any(counts.values()):
        held = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
        raise Conflict("legacy.target_not_empty", f"{what} already holds records ({held}); import into an empty one")


def _used_twice(member: str, record_id: int) -> Invalid:
    return refusal(f"{KIND_NAMES[member]} {record_id}", "the id is used twice")


class Loader:
    """One import: a db.json and its blobs (under `objects`) into the tables of `connection`."""

    def __init__(self, connection: Connection, objects: FileObjects, progress: Progress = no_progress):
        self.connection = connection
        self.objects_dir = os.fspath(objects.objects_dir)
        self.progress = progress
        self.report = LoadReport()
        self.pending: dict[Table, list[dict[str, Any]]] = {}
        self.inserts: dict[Table, BulkInsert] = {}
        # Apps, channels and tokens number in the tens; the other kinds are kept compact (see idsets).
        self.apps: set[int] = set()
        self.slugs: dict[str, int] = {}
        self.releases = IdMap()
        self.release_keys = HashSet()
        self.artifacts = IdSet()
        self.artifact_keys = HashSet()
        # One blobs row per distinct sha256 the artifacts name. The first 60 bits of a sha256 say for sure that
        # it is new; a hit is confirmed against this batch's rows, else against the table when the batch is
        # written (`_confirm_blobs`), so a store sharing blobs between releases costs no query per artifact.
        self.blob_keys = HashSet()
        # The sizes of the blobs named lately: the same installer is often in many releases (a re-publish, an
        # unchanged platform), and each artifact would stat its file again. Bounded, so memory stays flat.
        self.blob_sizes: dict[str, int] = {}
        self.blobs_in_batch: set[str] = set()
        self.blobs_to_confirm: dict[str, int] = {}
        self.blob_count = 0
        # Digests other than the sha256 are computed on first need: an import reads no blob's bytes.
        self.now = datetime.now(UTC)
        self.channels: set[int] = set()
        self.channel_keys: set[tuple[int, str]] = set()
        self.tokens: set[int] = set()
        self.token_hashes: set[str] = set()
        self.audit = IdSet()
        self.webhooks: set[int] = set()
        self.loaders: dict[str, Callable[[int, Any], None]] = {
            "apps": self._app,
            "releases": self._release,
            "artifacts": self._artifact,
            "channels": self._channel,
            "tokens": self._token,
            "audit": self._audit,
            "webhooks": self._webhook,
        }

    def load(self, path: Path) -> LoadReport:
        """Load every member, parents first; raises `legacy.invalid` naming the first bad record."""
        # Blobs uploaded before the import (none, mostly) keep their rows; artifacts naming them share those.
        for sha256 in self.connection.scalars(select(BLOBS.c.sha256)):
            self.blob_keys.add(int(sha256[:15], 16))
        self.blob_count = self.connection.scalar(select(func.max(BLOBS.c.id))) or 0
        with path.open("rb") as source:
            self._load(LegacyDocument(source, path.name))
        self._move_sequences()
        return self.report

    def _load(self, document: LegacyDocument) -> None:
        loaded: set[str] = set()
        present: set[str] | None = None
        while present is None or loaded < present:
            seen: set[str] = set()
            for name, items in document.members():
                if name in seen:
                    raise refusal(document.name, f'the member "{name}" is given twice')
                seen.add(name)
                if name not in MEMBERS:
                    if present is None:
                        self.report.warnings.append(f'{document.name}: ignored the unknown member "{name}"')
                    continue
                if items is None:
                    raise refusal(document.name, f'the member "{name}" is not an array')
                if name not in loaded and self._parents_loaded(name, loaded, present):
                    self._load_member(name, items)
                    loaded.add(name)
                    # The first pass has read the whole document; a later one stops once it has what it came for.
                    if present is not None and loaded == present:
                        break
            if present is None:
                present = seen & set(MEMBERS)

    @staticmethod
    def _parents_loaded(name: str, loaded: set[str], present: set[str] | None) -> bool:
        # After a first pass, a parent member absent from the document counts as loaded (and empty).
        return all(p in loaded or (present is not None and p not in present) for p in PARENTS.get(name, ()))

    def _load_member(self, name: str, items: Iterator[Any]) -> None:
        load = self.loaders[name]
        count = 0
        for index, item in enumerate(items):
            load(index, item)
            count = index + 1
            if count % PROGRESS_EVERY == 0:
                self.progress(f"importing {name}", count, None)
        self.flush()
        self.report.counts[name] = count
        self.progress(f"importing {name}", count, count)

    def _add(self, table: Table, row: dict[str, Any]) -> None:
        rows = self.pending.setdefault(table, [])
        rows.append(row)
        if len(rows) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        self._confirm_blobs()
        self.blobs_in_batch.clear()
        for table in TABLES:
            rows = self.pending.pop(table, None)
            if rows:
                if table not in self.inserts:
                    self.inserts[table] = BulkInsert(self.connection, table)
                self.inserts[table].execute(rows)

    @staticmethod
    def _check_new_id(member: str, record_id: int, ids: Container[int]) -> None:
        if record_id in ids:
            raise _used_twice(member, record_id)

    def _taken(self, keys: HashSet, table: Table, columns: tuple[str, str], values: tuple[Any, Any]) -> int | None:
        """The id of an earlier row with these values of a unique key, if any. Only hashes of the keys are kept;
        a hash seen before is confirmed against the rows already written."""
        if keys.add(hash(values)):
            return None
        self.flush()
        query = select(table.c.id).where(*(table.c[name] == value for name, value in zip(columns, values, strict=True)))
        return self.connection.scalar(query.limit(1))

    def _app(self, index: int, item: Any) -> None:
        fields = Fields("apps", index, item)
        row = app_row(fields)
        self._check_new_id("apps", fields.id, self.apps)
        other = self.slugs.get(row["slug"])
        if other is not None:
            raise fields.refuse("slug", f"is {row['slug']!r}, the slug of app {other} too")
        self.apps.add(fields.id)
        self.slugs[row["slug"]] = fields.id
        self._add(APPS, row)

    def _release(self, index: int, item: Any) -> None:
        row = fast_release_row(item) or release_row(Fields("releases", index, item))
        release_id, app_id = row["id"], row["app_id"]
        if not self.releases.add(release_id, app_id):
            raise _used_twice("releases", release_id)
        if app_id not in self.apps:
            raise record_refusal("releases", release_id, "app_id", f"is {app_id}, and there is no app with that id")
        other = self._taken(self.release_keys, RELEASES, ("app_id", "version"), (app_id, row["version"]))
        if other is not None:
            raise record_refusal(
                "releases",
                release_id,
                "version",
                f"is {row['version']!r}, the version of release {other} of the same app too",
            )
        self._add(RELEASES, row)

    def _artifact(self, index: int, item: Any) -> None:
        row = fast_artifact_row(item) or artifact_row(Fields("artifacts", index, item))
        artifact_id, release_id = row["id"], row["release_id"]
        if not self.artifacts.add(artifact_id):
            raise _used_twice("artifacts", artifact_id)
        if self.releases.get(release_id) is None:
            raise record_refusal(
                "artifacts", artifact_id, "release_id", f"is {release_id}, and there is no release with that id"
            )
        other = self._taken(self.artifact_keys, ARTIFACTS, ("release_id", "filename"), (release_id, row["filename"]))
        if other is not None:
            raise record_refusal(
                "artifacts", artifact_id, "filename", f"is {row['filename']!r}, the file name of artifact {other} too"
            )
        sha256 = row["sha256"]
        size = self.blob_sizes.get(sha256)
        if size is None:
            try:
                # A plain string path: this runs once per artifact, and pathlib would double the import's time.
                size = os.stat(f"{self.objects_dir}/{sha256[:2]}/{sha256}").st_size
            except FileNotFoundError:
                raise record_refusal(
                    "artifacts",
                    artifact_id,
                    "sha256",
                    f"names the blob objects/{sha256[:2]}/{sha256}, which is missing",
                ) from None
            if len(self.blob_sizes) >= BLOB_SIZES_KEPT:
                self.blob_sizes.clear()
            self.blob_sizes[sha256] = size
        if size != row["size"]:
            raise record_refusal(
                "artifacts", artifact_id, "size", f"is {row['size']}, but the blob {sha256} holds {size} bytes"
            )
        if self.blob_keys.add(int(sha256[:15], 16)):
            self._add_blob(sha256, size)
        elif sha256 not in self.blobs_in_batch:
            self.blobs_to_confirm[sha256] = size
        self._add(ARTIFACTS, row)

    def _add_blob(self, sha256: str, size: int) -> None:
        self.blob_count += 1
        self.blobs_in_batch.add(sha256)
        row = {"id": self.blob_count, "sha256": sha256, "size": size, "sha512": None, "sha1": None}
        self.pending.setdefault(BLOBS, []).append(row | {"created_at": self.now})

    def _confirm_blobs(self) -> None:
        """Rows for the blobs whose 60-bit prefix was seen before but which are neither in this batch nor in the
        table: a prefix shared by two distinct blobs."""
        if not self.blobs_to_confirm:
            return
        candidates = [sha for sha in self.blobs_to_confirm if sha not in self.blobs_in_batch]
        stored: set[str] = set()
        for start in range(0, len(candidates), 500):
            chunk = candidates[start : start + 500]
            stored.update(self.connection.scalars(select(BLOBS.c.sha256).where(BLOBS.c.sha256.in_(chunk))))
        for sha256 in candidates:
            if sha256 not in stored and sha256 not in self.blobs_in_batch:
                self._add_blob(sha256, self.blobs_to_confirm[sha256])
        self.blobs_to_confirm.clear()

    def _channel(self, index: int, item: Any) -> None:
        fields = Fields("channels", index, item)
        row = channel_row(fields)
        events = history_rows(fields)
        rollout = rollout_row(fields)
        self._check_new_id("channels", fields.id, self.channels)
        app_id, release_id = row["app_id"], row["release_id"]
        if app_id not in self.apps:
            raise fields.refuse("app_id", f"is {app_id}, and there is no app with that id")
        if (app_id, row["name"]) in self.channel_keys:
            raise fields.refuse("name", f"is {row['name']!r}, the name of another channel of app {app_id} too")
        if release_id is not None:
            self._check_release(fields, "release_id", release_id, app_id)
        for number, event in enumerate(events, start=1):
            self._check_release(fields, f"history[{number}].release_id", event["release_id"], app_id)
        if events:
            last = events[-1]
            if last["release_id"] != release_id:
                raise fields.refuse(
                    "release_id",
                    f"is {release_id}, but the last entry of the history moved the channel to release "
                    f"{last['release_id']}",
                )
            row["updated_at"] = last["at"]
        if rollout is not None:
            if rollout["release_id"] != release_id:
                raise fields.refuse("rollout", f"rolls out release {rollout['release_id']}, not the channel's")
            self._check_release(fields, "rollout.base_release_id", rollout["base_release_id"], app_id)
            rollout["updated_at"] = row["updated_at"]
        self.channels.add(fields.id)
        self.channel_keys.add((app_id, row["name"]))
        self._add(CHANNELS, row)
        for event in events:
            self.report.counts["channel_events"] += 1
            event["id"] = self.report.counts["channel_events"]
            self._add(CHANNEL_EVENTS, event)
        if rollout is not None:
            # A rollout belongs to its channel: it takes the channel's id.
            self._add(ROLLOUTS, {**rollout, "id": fields.id})

    def _check_release(self, fields: Fields, member: str, release_id: int, app_id: int) -> None:
        owner = self.releases.get(release_id)
        if owner is None:
            raise fields.refuse(member, f"is {release_id}, and there is no release with that id")
        if owner != app_id:
            raise fields.refuse(member, f"is {release_id}, a release of app {owner}, not of the channel's app {app_id}")

    def _token(self, index: int, item: Any) -> None:
        fields = Fields("tokens", index, item)
        row = token_row(fields)
        self._check_new_id("tokens", fields.id, self.tokens)
        if row["token_hash"] in self.token_hashes:
            raise fields.refuse("token_hash", "is the hash of another token")
        self.tokens.add(fields.id)
        self.token_hashes.add(row["token_hash"])
        self._add(TOKENS, row)

    def _audit(self, index: int, item: Any) -> None:
        row = fast_audit_row(item) or audit_row(Fields("audit", index, item))
        if not self.audit.add(row["id"]):
            raise _used_twice("audit", row["id"])
        self._add(AUDIT, row)

    def _webhook(self, index: int, item: Any) -> None:
        fields = Fields("webhooks", index, item)
        row = webhook_row(fields)
        self._check_new_id("webhooks", fields.id, self.webhooks)
        self.webhooks.add(fields.id)
        self._add(WEBHOOKS, row)

    def _move_sequences(self) -> None:
        """On PostgreSQL, move every id sequence past the imported ids, so new records never collide with them.
        (SQLite's INTEGER PRIMARY KEY already takes the largest id plus one.)"""
        if self.connection.dialect.name != "postgresql":
            return
        for table in TABLES:
            self.connection.execute(
                text(
                    # The next id is the largest plus one (is_called true), computed by the sequence itself: the
                    # largest may be 2^63-1, where a plus one here would overflow before any new record needs it.
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table.name}), 1), "
                    f"(SELECT MAX(id) IS NOT NULL FROM {table.name}))"
                )
            )
