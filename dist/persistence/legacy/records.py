"""Checking one db.json record at a time with the domain's own rules, and turning it into table rows.

Every refusal names the record (its kind and id, else its place in its array), the member, and the reason.
Cross-record checks (references, uniqueness) belong to the loader, which sees the whole document.
"""

from __future__ import annotations

import enum
import re
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from dist.domain.enums import AuditAction, ChannelEventKind, ReleaseStatus, Scope
from dist.domain.errors import DistError, Invalid
from dist.domain.render import parse_timestamp
from dist.domain.rollouts import parse_interval, parse_percent, parse_ramp
from dist.domain.signatures import stored_ed25519_key, stored_minisign_key, stored_signatures
from dist.domain.values import (
    DEFAULT_CHANNEL,
    DEFAULT_CONTENT_TYPE,
    DEFAULT_PLATFORM,
    MAX_ID,
    parse_channel_name,
    parse_filename,
    parse_platform,
    parse_sha256,
    parse_slug,
    parse_version,
)
from dist.domain.webhooks import parse_events, parse_webhook_secret, parse_webhook_url

E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")
MISSING: Any = object()
# The widths of the columns these members land in (see the migrations).
SHORT_TEXT = 255
MAX_SIZE = 2**63 - 1
# The singular used to name a record of each top-level member.
KIND_NAMES = {
    "apps": "app",
    "channels": "channel",
    "releases": "release",
    "artifacts": "artifact",
    "tokens": "token",
    "audit": "audit event",
    "webhooks": "webhook",
}


# What the fast paths below may raise on a record they cannot vouch for: the full checks then run and name the
# defect.
FALLBACK = (DistError, LookupError, TypeError, ValueError)
# A NUL or a lone surrogate: text no database stores (see Fields.string).
UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
RELEASE_STATUSES = {status.value: status for status in ReleaseStatus}
AUDIT_ACTIONS = {action.value: action for action in AuditAction}


def refusal(where: str, reason: str) -> Invalid:
    return Invalid("legacy.invalid", f"{where}: {reason}")


def record_refusal(member: str, record_id: int, field: str, reason: str) -> Invalid:
    """A refusal of a record whose id is known good, for one of its fields."""
    return refusal(f"{KIND_NAMES[member]} {record_id}", f'member "{field}" {reason}')


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


class Fields:
    """One record under validation: typed reads of its members, each refusal naming record and member."""

    def __init__(self, member: str, index: int, value: object):
        self.member = member
        self.index = index
        self.id = 0  # unknown until read: ids start at 1
        if not isinstance(value, dict):
            raise refusal(self.where, f"is {_type_name(value)}, not an object")
        self.data: dict[str, Any] = value
        self.id = self.integer("id", minimum=1, maximum=MAX_ID)

    @property
    def where(self) -> str:
        """The record, as a refusal names it: by kind and id, else by its place in its array."""
        kind = KIND_NAMES[self.member]
        return f"{kind} {self.id}" if self.id else f'{kind} #{self.index + 1} of "{self.member}"'

    def refuse(self, member: str, reason: str) -> Invalid:
        return refusal(self.where, f'member "{member}" {reason}')

    def _get(self, member: str, default: Any) -> Any:
        value = self.data.get(member, MISSING)
        if value is MISSING:
            if default is MISSING:
                raise refusal(self.where, f'the required member "{member}" is missing')
            return default
        return value

    def integer(self, member: str, *, minimum: int, maximum: int = MAX_ID) -> int:
        value = self._get(member, MISSING)
        if type(value) is not int:
            raise self.refuse(member, f"is {_type_name(value)}, not an integer")
        if not minimum <= value <= maximum:
            raise self.refuse(member, f"is {value}, outside {minimum}..{maximum}")
        return value

    def optional_id(self, member: str) -> int | None:
        if self._get(member, MISSING) is None:
            return None
        return self.integer(member, minimum=1)

    def text(self, member: str, *, default: Any = MISSING, max_length: int | None = SHORT_TEXT) -> str:
        value = self._get(member, default)
        return self.string(member, value, max_length)

    def optional_text(self, member: str, *, default: Any = MISSING, max_length: int = SHORT_TEXT) -> str | None:
        value = self._get(member, default)
        return None if value is None else self.string(member, value, max_length)

    def string(self, member: str, value: object, max_length: int | None) -> str:
        if not isinstance(value, str):
            raise self.refuse(member, f"is {_type_name(value)}, not a string")
        if max_length is not None and len(value) > max_length:
            raise self.refuse(member, f"is longer than {max_length} characters")
        if "\x00" in value:
            raise self.refuse(member, "holds a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise self.refuse(member, "holds a lone surrogate, which is not text") from None
        return value

    def checked(self, member: str, rule: Callable[[str], T], *, default: Any = MISSING) -> T:
        """A string member checked by a domain rule (`parse_slug`, `parse_version`, …)."""
        value = self._get(member, default)
        if not isinstance(value, str):
            raise self.refuse(member, f"is {_type_name(value)}, not a string")
        return self.rule(member, rule, value)

    def rule(self, member: str, rule: Callable[[str], T], value: str) -> T:
        try:
            return rule(value)
        except DistError as error:
            raise self.refuse(member, f"is invalid: {error.message}") from None

    def timestamp(self, member: str) -> datetime:
        return self.stamp(member, self._get(member, MISSING))

    def optional_timestamp(self, member: str) -> datetime | None:
        value = self._get(member, MISSING)
        return None if value is None else self.stamp(member, value)

    def stamp(self, member: str, value: object) -> datetime:
        if not isinstance(value, str):
            raise self.refuse(member, f"is {_type_name(value)}, not an RFC 3339 timestamp")
        try:
            return parse_timestamp(value)
        except ValueError:
            raise self.refuse(member, f"is {value[:40]!r}, not an RFC 3339 timestamp with a time zone") from None

    def enum(self, member: str, kind: type[E], *, default: Any = MISSING) -> E:
        return self.choice(member, kind, self._get(member, default))

    def choice(self, member: str, kind: type[E], value: object) -> E:
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(str(m.value) for m in kind)
            raise self.refuse(member, f"is {str(value)[:40]!r}, not one of {allowed}") from None

    def array(self, member: str, *, default: Any = MISSING) -> list[Any]:
        value = self._get(member, default)
        if not isinstance(value, list):
            raise self.refuse(member, f"is {_type_name(value)}, not an array")
        return value

    def object(self, member: str, *, default: Any = MISSING) -> dict[str, Any]:
        value = self._get(member, default)
        if not isinstance(value, dict):
            raise self.refuse(member, f"is {_type_name(value)}, not an object")
        return value


def app_row(fields: Fields) -> dict[str, Any]:
    slug = fields.checked("slug", parse_slug)
    minisign_key = fields.optional_text("minisign_public_key", default=None, max_length=4096)
    ed25519_key = fields.optional_text("ed25519_public_key", default=None)
    return {
        "id": fields.id,
        "slug": slug,
        "name": fields.text("name", default=slug, max_length=None),
        "created_at": fields.timestamp("created_at"),
        "default_channel": fields.checked("default_channel", parse_channel_name, default=DEFAULT_CHANNEL),
        "minisign_public_key": None
        if minisign_key is None
        else fields.rule("minisign_public_key", stored_minisign_key, minisign_key),
        "ed25519_public_key": None
        if ed25519_key is None
        else fields.rule("ed25519_public_key", stored_ed25519_key, ed25519_key),
    }


def signature_columns(fields: Fields, filename: str) -> dict[str, str | None]:
    """The optional member "signatures": {"minisign"?, "ed25519"?}, as the artifact's columns."""
    if fields.data.get("signatures") is None:
        return {"minisign_signature": None, "ed25519_signature": None}
    given = fields.object("signatures")
    unknown = sorted(set(given) - {"minisign", "ed25519"})
    if unknown:
        raise fields.refuse("signatures", f'has the unknown member "{unknown[0]}"')
    texts = {}
    for kind in ("minisign", "ed25519"):
        value = given.get(kind)
        texts[kind] = None if value is None else fields.string(f"signatures.{kind}", value, 4 * 4096)
    signatures = fields.rule(
        "signatures", lambda _: stored_signatures(filename, texts["minisign"], texts["ed25519"]), ""
    )
    return {"minisign_signature": signatures.minisign, "ed25519_signature": signatures.ed25519}


def release_row(fields: Fields) -> dict[str, Any]:
    return {
        "id": fields.id,
        "app_id": fields.integer("app_id", minimum=1),
        "version": fields.checked("version", parse_version),
        "notes": fields.text("notes", default="", max_length=None),
        "status": fields.enum("status", ReleaseStatus, default=ReleaseStatus.PUBLISHED.value),
        "created_at": fields.timestamp("created_at"),
        "created_by": fields.text("created_by"),
    }


def artifact_row(fields: Fields) -> dict[str, Any]:
    filename = fields.checked("filename", parse_filename)
    return {
        "id": fields.id,
        "release_id": fields.integer("release_id", minimum=1),
        "filename": filename,
        "platform": fields.checked("platform", parse_platform, default=DEFAULT_PLATFORM),
        "sha256": fields.checked("sha256", parse_sha256),
        "size": fields.integer("size", minimum=0, maximum=MAX_SIZE),
        "content_type": fields.text("content_type", default=DEFAULT_CONTENT_TYPE),
        **signature_columns(fields, filename),
    }


def channel_row(fields: Fields) -> dict[str, Any]:
    created_at = fields.timestamp("created_at")
    return {
        "id": fields.id,
        "app_id": fields.integer("app_id", minimum=1),
        "name": fields.checked("name", parse_channel_name),
        "release_id": fields.optional_id("release_id"),
        "created_at": created_at,
        "updated_at": created_at,
    }


def history_rows(fields: Fields) -> list[dict[str, Any]]:
    """A channel's history entries as channel_events rows (without ids), oldest first."""
    rows = []
    for number, entry in enumerate(fields.array("history", default=[]), start=1):
        member = f"history[{number}]"
        if not isinstance(entry, dict):
            raise fields.refuse(member, f"is {_type_name(entry)}, not an object")
        missing = [key for key in ("kind", "release_id", "at", "actor") if key not in entry]
        if missing:
            raise fields.refuse(member, f'lacks the required member "{missing[0]}"')
        release_id = entry["release_id"]
        if type(release_id) is not int or not 1 <= release_id <= MAX_ID:
            raise fields.refuse(f"{member}.release_id", f"is {_type_name(release_id)}, not a release id")
        actor = fields.string(f"{member}.actor", entry["actor"], SHORT_TEXT)
        rows.append(
            {
                "channel_id": fields.id,
                "kind": fields.choice(f"{member}.kind", ChannelEventKind, entry["kind"]),
                "release_id": release_id,
                "actor": actor,
                "at": fields.stamp(f"{member}.at", entry["at"]),
            }
        )
    return rows


def rollout_row(fields: Fields) -> dict[str, Any] | None:
    """The optional member "rollout" of a channel as its rollouts row (without an id); None when absent or null."""
    if fields.data.get("rollout") is None:
        return None
    given = fields.object("rollout")
    # The rollout's members, read (and refused) as members of its channel's record.
    inner = Fields(fields.member, fields.index, {**given, "id": fields.id})
    every = inner.optional_id("every_seconds")
    steps = inner.array("steps")
    try:
        if every is None:
            if len(steps) != 1:
                raise Invalid("rollout.invalid_percent", "a rollout without every_seconds has one percent")
            parse_percent(steps[0])
        else:
            parse_ramp(steps)
            parse_interval(f"{every}s")
    except DistError as error:
        raise fields.refuse("rollout", f"is invalid: {error.message}") from None
    return {
        "channel_id": fields.id,
        "release_id": inner.integer("release_id", minimum=1),
        "base_release_id": inner.integer("base_release_id", minimum=1),
        "steps": steps,
        "every_seconds": every,
        "started_at": inner.timestamp("started_at"),
        "halted_at": inner.optional_timestamp("halted_at"),
        "halted_microseconds": inner.integer("halted_microseconds", minimum=0),
    }


def token_row(fields: Fields) -> dict[str, Any]:
    # An empty list is allowed: such a token authenticates and may do nothing.
    scopes = fields.array("scopes")
    app = fields.optional_text("app")
    channel = fields.optional_text("channel")
    return {
        "id": fields.id,
        "name": fields.text("name"),
        "token_hash": fields.checked("token_hash", parse_sha256),
        "scopes": [fields.choice("scopes", Scope, scope).value for scope in scopes],
        "app": None if app is None else fields.rule("app", parse_slug, app),
        "channel": None if channel is None else fields.rule("channel", parse_channel_name, channel),
        "created_at": fields.timestamp("created_at"),
        "expires_at": fields.optional_timestamp("expires_at"),
        "revoked_at": fields.optional_timestamp("revoked_at"),
        "last_used_at": fields.optional_timestamp("last_used_at"),
    }


def audit_row(fields: Fields) -> dict[str, Any]:
    app = fields.optional_text("app")
    return {
        "id": fields.id,
        "at": fields.timestamp("at"),
        "actor": fields.text("actor"),
        "action": fields.enum("action", AuditAction),
        "app": None if app is None else fields.rule("app", parse_slug, app),
        "target": fields.optional_text("target"),
        "detail": fields.object("detail", default={}),
    }


# Fast paths for the kinds a large store holds by the hundred thousand. Each returns the very row its `*_row`
# counterpart would, or None whenever any check fails (or cannot be made cheaply): the caller then runs the
# counterpart, which refuses the record with its reason. So they weaken no check; they only skip the
# bookkeeping that names a defect on records that have none.


def _is_text(value: object, max_length: int) -> bool:
    return (
        type(value) is str
        and len(value) <= max_length
        and "\x00" not in value
        # ASCII holds no surrogate: the search is for the rest.
        and (value.isascii() or UNSTORABLE.search(value) is None)
    )


def fast_release_row(item: object) -> dict[str, Any] | None:
    if type(item) is not dict:
        return None
    try:
        get = item.get
        release_id, app_id, notes, created_by = item["id"], item["app_id"], get("notes", ""), item["created_by"]
        row = {
            "id": release_id,
            "app_id": app_id,
            "version": parse_version(item["version"]),
            "notes": notes,
            "status": RELEASE_STATUSES[get("status", ReleaseStatus.PUBLISHED.value)],
            "created_at": parse_timestamp(item["created_at"]),
            "created_by": created_by,
        }
    except FALLBACK:
        return None
    valid = (
        type(release_id) is int
        and 0 < release_id <= MAX_ID
        and type(app_id) is int
        and 0 < app_id <= MAX_ID
        and _is_text(notes, sys.maxsize)
        and _is_text(created_by, SHORT_TEXT)
    )
    return row if valid else None


def fast_artifact_row(item: object) -> dict[str, Any] | None:
    if type(item) is not dict:
        return None
    try:
        get = item.get
        artifact_id, release_id, size = item["id"], item["release_id"], item["size"]
        content_type = get("content_type", DEFAULT_CONTENT_TYPE)
        if get("signatures") is not None:
            return None
        row = {
            "id": artifact_id,
            "release_id": release_id,
            "filename": parse_filename(item["filename"]),
            "platform": parse_platform(get("platform", DEFAULT_PLATFORM)),
            "sha256": parse_sha256(item["sha256"]),
            "size": size,
            "content_type": content_type,
            "minisign_signature": None,
            "ed25519_signature": None,
        }
    except FALLBACK:
        return None
    valid = (
        type(artifact_id) is int
        and 0 < artifact_id <= MAX_ID
        and type(release_id) is int
        and 0 < release_id <= MAX_ID
        and type(size) is int
        and 0 <= size <= MAX_SIZE
        and _is_text(content_type, SHORT_TEXT)
    )
    return row if valid else None


def fast_audit_row(item: object) -> dict[str, Any] | None:
    if type(item) is not dict:
        return None
    try:
        event_id, actor, app, target, detail = (
            item["id"],
            item["actor"],
            item["app"],
            item["target"],
            item.get("detail", {}),
        )
        row = {
            "id": event_id,
            "at": parse_timestamp(item["at"]),
            "actor": actor,
            "action": AUDIT_ACTIONS[item["action"]],
            "app": None if app is None else parse_slug(app),
            "target": target,
            "detail": detail,
        }
    except FALLBACK:
        return None
    valid = (
        type(event_id) is int
        and 0 < event_id <= MAX_ID
        and _is_text(actor, SHORT_TEXT)
        and (app is None or _is_text(app, SHORT_TEXT))
        and (target is None or _is_text(target, SHORT_TEXT))
        and type(detail) is dict
    )
    return row if valid else None


def webhook_row(fields: Fields) -> dict[str, Any]:
    app = fields.optional_text("app")
    events = [fields.string("events", event, SHORT_TEXT) for event in fields.array("events")]
    try:
        chosen = parse_events(events)
    except DistError as error:
        raise fields.refuse("events", f"is invalid: {error.message}") from None
    return {
        "id": fields.id,
        "url": fields.checked("url", parse_webhook_url),
        "events": chosen,
        "app": None if app is None else fields.rule("app", parse_slug, app),
        "secret": fields.checked("secret", parse_webhook_secret),
        "created_at": fields.timestamp("created_at"),
    }
