"""A legacy store (db.json beside objects/, docs/legacy.md) written record by record, the way the JSON-file era of
dist wrote it: every record gets the next id of its kind (or a later one, as deletions left gaps), a timestamp a
little after the previous record's, and the audit event its action appended.

The fixture stores (tests/legacy/stores.py) and the generator of stores of any size (tests/legacy/generate.py)
both write through this class.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

MEMBERS = ("apps", "channels", "releases", "artifacts", "tokens", "audit")
START = datetime(2024, 3, 4, 9, 30, tzinfo=UTC)

Record = dict[str, Any]


def rfc3339(at: datetime) -> str:
    """`2024-03-04T09:30:00Z`, with milliseconds only where there are some (the format allows both)."""
    text = at.strftime("%Y-%m-%dT%H:%M:%S")
    if at.microsecond:
        text += f".{at.microsecond // 1000:03d}"
    return text + "Z"


@dataclass(frozen=True)
class File:
    """One artifact of a release: its bytes, and the optional members a legacy record may leave out."""

    filename: str
    data: bytes
    platform: str | None = None
    content_type: str | None = None


class LegacyStore:
    """A legacy store being written into `root`: blobs as soon as they are added, db.json by `save`."""

    def __init__(self, root: Path, *, start: datetime = START) -> None:
        self.root = root
        self.now = start
        self.document: dict[str, list[Record]] = {member: [] for member in MEMBERS}
        self._last_id = dict.fromkeys(MEMBERS, 0)
        self._histories: dict[int, list[Record]] = {}
        self._stacks: dict[int, list[int]] = {}
        self._without_history: set[int] = set()
        self._sizes: dict[str, int] = {}
        (root / "objects").mkdir(parents=True, exist_ok=True)

    def later(self, minutes: float = 1, milliseconds: int = 0) -> str:
        """The clock moved on by that much; the new time as a legacy timestamp."""
        self.now += timedelta(minutes=minutes, milliseconds=milliseconds)
        return rfc3339(self.now)

    def next_id(self, kind: str, gap: int = 0) -> int:
        """The next id of `kind`, `gap` ids after the last one (the records deleted in between)."""
        self._last_id[kind] += 1 + gap
        return self._last_id[kind]

    def blob(self, data: bytes) -> tuple[str, int]:
        """The bytes stored under objects/ (once, however many artifacts share them); their sha256 and size."""
        digest = hashlib.sha256(data).hexdigest()
        if digest not in self._sizes:
            folder = self.root / "objects" / digest[:2]
            folder.mkdir(exist_ok=True)
            (folder / digest).write_bytes(data)
            self._sizes[digest] = len(data)
        return digest, self._sizes[digest]

    def event(self, actor: str, action: str, app: str | None, target: str | None, detail: Record | None) -> Record:
        """An audit event at the current time; `detail=None` leaves the member out (it loads as {})."""
        record: Record = {"id": self.next_id("audit"), "at": rfc3339(self.now), "actor": actor, "action": action}
        record["app"] = app
        record["target"] = target
        if detail is not None:
            record["detail"] = detail
        self.document["audit"].append(record)
        return record

    def app(self, slug: str, *, name: str | None = None, actor: str = "cli:alice", gap: int = 0) -> Record:
        """An app; without `name` the record has none and the slug stands for it."""
        record: Record = {"id": self.next_id("apps", gap), "slug": slug}
        if name is not None:
            record["name"] = name
        record["created_at"] = self.later()
        self.document["apps"].append(record)
        self.event(actor, "app_created", slug, None, {})
        return record

    def release(
        self,
        app: Record,
        version: str,
        files: list[File],
        *,
        notes: str | None = None,
        status: str | None = None,
        actor: str = "cli:alice",
        minutes: float = 1,
        milliseconds: int = 0,
        gap: int = 0,
    ) -> Record:
        """A release and its artifacts, in the order given; `notes` and `status` left out when None."""
        record: Record = {"id": self.next_id("releases", gap), "app_id": app["id"], "version": version}
        if notes is not None:
            record["notes"] = notes
        if status is not None:
            record["status"] = status
        record["created_at"] = self.later(minutes, milliseconds)
        record["created_by"] = actor
        self.document["releases"].append(record)
        for file in files:
            self.artifact(record, file)
        self.event(actor, "release_published", app["slug"], version, {"artifacts": len(files)})
        return record

    def artifact(self, release: Record, file: File, *, gap: int = 0) -> Record:
        sha256, size = self.blob(file.data)
        record: Record = {"id": self.next_id("artifacts", gap), "release_id": release["id"], "filename": file.filename}
        if file.platform is not None:
            record["platform"] = file.platform
        record.update(sha256=sha256, size=size)
        if file.content_type is not None:
            record["content_type"] = file.content_type
        self.document["artifacts"].append(record)
        return record

    def yank(self, app: Record, release: Record, *, actor: str = "cli:alice") -> None:
        release["status"] = "yanked"
        self.later()
        # Yanks and rollbacks wrote their events without a detail member.
        self.event(actor, "release_yanked", app["slug"], release["version"], None)

    def channel(self, app: Record, name: str, *, history: bool = True, gap: int = 0) -> Record:
        """A channel serving nothing yet; `history=False` writes it without the member, as older files did."""
        record: Record = {"id": self.next_id("channels", gap), "app_id": app["id"], "name": name}
        record["created_at"] = self.later()
        record["release_id"] = None
        self.document["channels"].append(record)
        self._histories[record["id"]] = []
        self._stacks[record["id"]] = []
        if not history:
            self._without_history.add(record["id"])
        return record

    def promote(self, app: Record, channel: Record, release: Record, *, actor: str = "cli:alice") -> None:
        self._stacks[channel["id"]].append(release["id"])
        self._move(app, channel, "promote", release["id"], actor, {"version": release["version"]})

    def rollback(self, app: Record, channel: Record, *, actor: str = "cli:alice") -> None:
        """Back to the release the channel served before its current one."""
        stack = self._stacks[channel["id"]]
        stack.pop()
        self._move(app, channel, "rollback", stack[-1], actor, None)

    def _move(
        self, app: Record, channel: Record, kind: str, release_id: int, actor: str, detail: Record | None
    ) -> None:
        at = self.later()
        self._histories[channel["id"]].append({"kind": kind, "release_id": release_id, "at": at, "actor": actor})
        channel["release_id"] = release_id
        action = "channel_promoted" if kind == "promote" else "channel_rolled_back"
        self.event(actor, action, app["slug"], channel["name"], detail)

    def token(
        self,
        name: str,
        secret: str,
        *,
        scopes: list[str],
        app: str | None = None,
        channel: str | None = None,
        expires_at: str | None = None,
        revoked: bool = False,
        used: bool = False,
        actor: str = "cli:alice",
        gap: int = 0,
    ) -> Record:
        """A token whose secret is `secret` (only its SHA-256 is written, as dist always did)."""
        created = self.later()
        record: Record = {
            "id": self.next_id("tokens", gap),
            "name": name,
            "token_hash": hashlib.sha256(secret.encode()).hexdigest(),
            "scopes": scopes,
            "app": app,
            "channel": channel,
            "created_at": created,
            "expires_at": expires_at,
            "revoked_at": None,
            "last_used_at": self.later(5) if used else None,
        }
        self.document["tokens"].append(record)
        self.event(actor, "token_created", None, str(record["id"]), {"name": name})
        if revoked:
            record["revoked_at"] = self.later(30)
            self.event(actor, "token_revoked", None, str(record["id"]), {})
        return record

    def save(self, *, leave_out: tuple[str, ...] = ()) -> dict[str, list[Record]]:
        """db.json written, members in `leave_out` absent (as files written before they existed); its document."""
        document: dict[str, list[Record]] = {}
        for member, records in self.document.items():
            if member not in leave_out:
                document[member] = records
        for channel in document.get("channels", []):
            if channel["id"] not in self._without_history:
                channel["history"] = self._histories[channel["id"]]
        text = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
        (self.root / "db.json").write_text(text, encoding="utf-8")
        return document
