"""The reference of the import benchmark: the rows of a legacy db.json written with a raw DB-API `executemany`.

It reads db.json whole, turns each record into the row dist's schema holds (timestamps parsed, absent members
defaulted) and inserts every table with one `executemany` in one transaction: no validation, no ORM. The
database must already be at the schema's head. Prints the number of rows written.

    python -m bench.raw_import DATABASE_URL LEGACY_DIR
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Row = tuple[Any, ...]


def parse_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def rows(
    document: dict[str, Any], stamp: Callable[[datetime | None], Any], dump: Callable[[Any], Any]
) -> dict[str, tuple[list[str], list[Row]]]:
    """Every table's columns and rows, in an order that satisfies the foreign keys."""

    def at(text: str | None) -> Any:
        return stamp(parse_time(text))

    apps = [(a["id"], a["slug"], a.get("name", a["slug"]), at(a["created_at"])) for a in document.get("apps", [])]
    releases = [
        (
            r["id"],
            r["app_id"],
            r["version"],
            r.get("notes", ""),
            r.get("status", "published"),
            at(r["created_at"]),
            r["created_by"],
        )
        for r in document.get("releases", [])
    ]
    artifacts = [
        (
            a["id"],
            a["release_id"],
            a["filename"],
            a.get("platform", "any"),
            a["sha256"],
            a["size"],
            a.get("content_type", "application/octet-stream"),
        )
        for a in document.get("artifacts", [])
    ]
    # One row per distinct blob, as dist writes them: digests other than the sha256 come later, from the bytes.
    now = stamp(datetime.now(UTC))
    sizes = {a["sha256"]: a["size"] for a in document.get("artifacts", [])}
    blobs = [(n, sha256, size, None, None, now) for n, (sha256, size) in enumerate(sizes.items(), start=1)]
    channels: list[Row] = []
    events: list[Row] = []
    for c in document.get("channels", []):
        history = c.get("history", [])
        updated = history[-1]["at"] if history else c["created_at"]
        channels.append((c["id"], c["app_id"], c["name"], c.get("release_id"), at(c["created_at"]), at(updated)))
        for e in history:
            events.append((len(events) + 1, c["id"], e["kind"], e["release_id"], e["actor"], at(e["at"])))
    tokens = [
        (
            t["id"],
            t["name"],
            t["token_hash"],
            dump(t["scopes"]),
            t.get("app"),
            t.get("channel"),
            at(t["created_at"]),
            at(t.get("expires_at")),
            at(t.get("revoked_at")),
            at(t.get("last_used_at")),
        )
        for t in document.get("tokens", [])
    ]
    audit = [
        (e["id"], at(e["at"]), e["actor"], e["action"], e.get("app"), e.get("target"), dump(e.get("detail", {})))
        for e in document.get("audit", [])
    ]
    return {
        "apps": (["id", "slug", "name", "created_at"], apps),
        "releases": (["id", "app_id", "version", "notes", "status", "created_at", "created_by"], releases),
        "blobs": (["id", "sha256", "size", "sha512", "sha1", "created_at"], blobs),
        "artifacts": (["id", "release_id", "filename", "platform", "sha256", "size", "content_type"], artifacts),
        "channels": (["id", "app_id", "name", "release_id", "created_at", "updated_at"], channels),
        "channel_events": (["id", "channel_id", "kind", "release_id", "actor", "at"], events),
        "tokens": (
            [
                "id",
                "name",
                "token_hash",
                "scopes",
                "app",
                "channel",
                "created_at",
                "expires_at",
                "revoked_at",
                "last_used_at",
            ],
            tokens,
        ),
        "audit_events": (["id", "at", "actor", "action", "app", "target", "detail"], audit),
    }


def sqlite_stamp(value: datetime | None) -> str | None:
    # The text SQLAlchemy's SQLite DateTime stores: naive UTC with microseconds.
    return None if value is None else value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def load(url: str, legacy: Path) -> int:
    with (legacy / "db.json").open(encoding="utf-8") as f:
        document = json.load(f)
    if url.startswith("sqlite"):
        connection: Any = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("BEGIN IMMEDIATE")
        tables = rows(document, sqlite_stamp, json.dumps)
        marker = "?"
    else:
        import psycopg
        from psycopg.types.json import Json

        connection = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        tables = rows(document, lambda value: value, Json)
        marker = "%s"
    del document
    written = 0
    cursor = connection.cursor()
    for table, (columns, records) in tables.items():
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([marker] * len(columns))})"
        cursor.executemany(sql, records)
        written += len(records)
    connection.execute("COMMIT") if isinstance(connection, sqlite3.Connection) else connection.commit()
    connection.close()
    return written


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("url")
    p.add_argument("legacy", type=Path)
    args = p.parse_args()
    print(load(args.url, args.legacy))


if __name__ == "__main__":
    main()
