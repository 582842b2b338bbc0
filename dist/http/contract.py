"""The HTTP contract: every request and response body of distd, declared once as msgspec Structs.

Routes decode and validate requests through `decode_body` and `decode_query`, /api/openapi.json is generated
from these types (dist/http/openapi.py), and the remote client decodes answers into them. Each constrained
value names the domain rule it stands for (`rule`): the document shows the rule's pattern and bounds, and a
value that breaks it is refused with that rule's own error code and message, with the field named.

Answers are the domain's one rendering (dist/domain/render.py), encoded as they are; the response types here
describe exactly those shapes, which tests/http/test_contract.py holds them to. Adding a body: declare its
Struct here (request bodies forbid unknown fields), decode it in the route, and name it in the route's
`operation`. This module imports msgspec and the domain only, so that the client can use it without the server.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType, field

from dist.domain.counts import DEFAULT_STATS_DAYS, MAX_STATS_DAYS, parse_stats_days
from dist.domain.enums import AuditAction, ChannelEventKind, DeliveryState, ReleaseStatus, Scope, TokenStatus
from dist.domain.errors import DistError, ErrorKind, Invalid, Malformed
from dist.domain.rollouts import (
    MAX_CLIENT_ID_LENGTH,
    MAX_STEPS,
    RolloutState,
    parse_client_id,
    parse_interval,
    parse_percent,
    parse_ramp,
)
from dist.domain.signatures import MAX_SIGNATURE_INPUT
from dist.domain.values import (
    CHANNEL_RE,
    CONTENT_TYPE_RE,
    DEFAULT_CONTENT_TYPE,
    DEFAULT_PAGE,
    DEFAULT_PLATFORM,
    FILENAME_PATTERN,
    IDEMPOTENCY_KEY_RE,
    MAX_APP_NAME_LENGTH,
    MAX_ARTIFACTS,
    MAX_AUDIT_LIMIT,
    MAX_CONTENT_TYPE_LENGTH,
    MAX_FILENAME_LENGTH,
    MAX_ID,
    MAX_IDEMPOTENCY_KEY_LENGTH,
    MAX_NOTES_LENGTH,
    MAX_PAGE,
    MAX_PLATFORM_LENGTH,
    MAX_TOKEN_NAME_LENGTH,
    MAX_VERSION_LENGTH,
    PLATFORM_RE,
    SEMVER_RE,
    SHA256_RE,
    SLUG_RE,
    parse_app_name,
    parse_artifact_count,
    parse_audit_limit,
    parse_channel_name,
    parse_content_type,
    parse_cursor,
    parse_filename,
    parse_idempotency_key,
    parse_notes,
    parse_page_limit,
    parse_platform,
    parse_sha256,
    parse_slug,
    parse_token_id,
    parse_token_name,
    parse_version,
)
from dist.domain.webhooks import (
    ALL_EVENTS,
    MAX_DELIVERIES_LIMIT,
    MAX_URL_LENGTH,
    WEBHOOK_URL_RE,
    parse_deliveries_limit,
    parse_delivery_id,
    parse_event,
    parse_webhook_id,
    parse_webhook_url,
)

T = TypeVar("T")


def rule(parse: Callable[[Any], object], pattern: re.Pattern[str] | str | None = None, **bounds: Any) -> Meta:
    """Constraints of a value, and the domain parser whose error explains a value that breaks them."""
    if isinstance(pattern, re.Pattern):
        pattern = f"^{pattern.pattern}$"
    return Meta(pattern=pattern, extra={"parse": parse}, **bounds)


# --- values ------------------------------------------------------------------------------------------------------

Slug = Annotated[str, rule(parse_slug, SLUG_RE, max_length=64)]
ChannelName = Annotated[str, rule(parse_channel_name, CHANNEL_RE, max_length=32)]
VersionText = Annotated[str, rule(parse_version, SEMVER_RE, max_length=MAX_VERSION_LENGTH)]
Platform = Annotated[str, rule(parse_platform, PLATFORM_RE, max_length=MAX_PLATFORM_LENGTH)]
Sha256 = Annotated[str, rule(parse_sha256, SHA256_RE)]
Filename = Annotated[str, rule(parse_filename, FILENAME_PATTERN, min_length=1, max_length=MAX_FILENAME_LENGTH)]
ContentType = Annotated[str, rule(parse_content_type, CONTENT_TYPE_RE, max_length=MAX_CONTENT_TYPE_LENGTH)]
Notes = Annotated[str, rule(parse_notes, max_length=MAX_NOTES_LENGTH)]
AppName = Annotated[str, rule(parse_app_name, r"^[^\x00-\x1f]+$", min_length=1, max_length=MAX_APP_NAME_LENGTH)]
TokenName = Annotated[str, rule(parse_token_name, r"^[^\x00-\x1f]+$", min_length=1, max_length=MAX_TOKEN_NAME_LENGTH)]
PageLimit = Annotated[int, rule(parse_page_limit, ge=1, le=MAX_PAGE)]
AuditLimit = Annotated[int, rule(parse_audit_limit, ge=1, le=MAX_AUDIT_LIMIT)]
Cursor = Annotated[int, rule(parse_cursor, ge=1, le=MAX_ID)]
TokenId = Annotated[int, rule(parse_token_id, ge=1, le=MAX_ID)]
IdempotencyKey = Annotated[
    str, rule(parse_idempotency_key, IDEMPOTENCY_KEY_RE, min_length=1, max_length=MAX_IDEMPOTENCY_KEY_LENGTH)
]
Timestamp = Annotated[datetime, Meta(extra_json_schema={"format": "date-time"})]
WebhookUrl = Annotated[str, rule(parse_webhook_url, WEBHOOK_URL_RE, min_length=1, max_length=MAX_URL_LENGTH)]
# The enum is documentation (every audit action, and * for all); the value is checked by the domain's rule.
WebhookEvent = Annotated[str, rule(parse_event, extra_json_schema={"enum": [ALL_EVENTS, *AuditAction]})]
WebhookId = Annotated[int, rule(parse_webhook_id, ge=1, le=MAX_ID)]
DeliveryId = Annotated[int, rule(parse_delivery_id, ge=1, le=MAX_ID)]
StatsDays = Annotated[int, rule(parse_stats_days, ge=1, le=MAX_STATS_DAYS)]
DeliveriesLimit = Annotated[int, rule(parse_deliveries_limit, ge=1, le=MAX_DELIVERIES_LIMIT)]


class Request(Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A request body: unknown fields are refused. Optional fields are UNSET when absent (null is no value)."""


class Answer(Struct, kw_only=True):
    """A response body: exactly what the server sends; a client tolerates fields added later."""


# --- requests ----------------------------------------------------------------------------------------------------


class SignaturesRequest(Request):
    """minisign: the signature file's text, or its base64 (Tauri's .sig); ed25519: base64 of the raw signature."""

    minisign: Annotated[str, Meta(max_length=MAX_SIGNATURE_INPUT)] | UnsetType = UNSET
    ed25519: Annotated[str, Meta(max_length=MAX_SIGNATURE_INPUT)] | UnsetType = UNSET


class PublishArtifact(Request):
    filename: Filename
    sha256: Sha256
    platform: Platform = DEFAULT_PLATFORM
    content_type: ContentType = DEFAULT_CONTENT_TYPE
    signatures: SignaturesRequest = field(default_factory=SignaturesRequest)


class PublishRequest(Request):
    version: VersionText
    artifacts: Annotated[list[PublishArtifact], rule(parse_artifact_count, min_length=1, max_length=MAX_ARTIFACTS)]
    notes: Notes = ""
    channel: ChannelName | UnsetType = UNSET


def parse_rollout_action(value: object) -> str:
    if value not in ROLLOUT_ACTIONS:
        raise Invalid("rollout.invalid_action", f"{value!r} is not a rollout action: use halt, resume or complete")
    return str(value)


ROLLOUT_ACTIONS = ("halt", "resume", "complete")
Percent = Annotated[int, rule(parse_percent, ge=1, le=100)]
Ramp = Annotated[list[Annotated[int, Meta(ge=1, le=100)]], rule(parse_ramp, min_length=1, max_length=MAX_STEPS)]
# At least a minute: 60 seconds or more, or a whole number of minutes, hours or days (at most a year: the rule).
Interval = Annotated[
    str, rule(parse_interval, r"^\s*(?:0*(?:[6-9][0-9]|[1-9][0-9]{2,8})s|0*[1-9][0-9]{0,8}[mhd])\s*$", max_length=16)
]
RolloutActionName = Annotated[str, rule(parse_rollout_action, extra_json_schema={"enum": list(ROLLOUT_ACTIONS)})]
ClientId = Annotated[str, rule(parse_client_id, max_length=MAX_CLIENT_ID_LENGTH)]


class RolloutSpec(Request):
    """`{"percent": P}`, or `{"ramp": [1, 10, 50, 100], "every": "24h"}`: the first step at once, the next one
    every interval."""

    percent: Percent | UnsetType = UNSET
    ramp: Ramp | UnsetType = UNSET
    every: Interval | UnsetType = UNSET


class PromoteRequest(Request):
    """Exactly one of `version` and `from`; `rollout` stages the promote."""

    version: VersionText | UnsetType = UNSET
    from_: ChannelName | UnsetType = field(name="from", default=UNSET)
    rollout: RolloutSpec | UnsetType = UNSET


class RolloutRequest(Request):
    """`{"percent": P}` sets a fixed share; `{"action": "halt" | "resume" | "complete"}`."""

    percent: Percent | UnsetType = UNSET
    action: RolloutActionName | UnsetType = UNSET


class RollbackRequest(Request):
    to: VersionText | UnsetType = UNSET


class EmptyRequest(Request):
    """No fields: an empty body or `{}`."""


class TokenRequest(Request):
    name: TokenName
    scopes: Annotated[list[Scope], Meta(min_length=1, max_length=len(Scope))]
    app: Slug | UnsetType = UNSET
    channel: ChannelName | UnsetType = UNSET
    expires_at: Timestamp | UnsetType = UNSET


class AppPatch(Request):
    name: AppName | UnsetType = UNSET
    default_channel: ChannelName | UnsetType = UNSET
    # The forms the tools print (minisign: the RW… line, the .pub file or its base64; Ed25519: base64 of 32 bytes);
    # an empty string removes the key.
    minisign_public_key: Annotated[str, Meta(max_length=MAX_SIGNATURE_INPUT)] | UnsetType = UNSET
    ed25519_public_key: Annotated[str, Meta(max_length=MAX_SIGNATURE_INPUT)] | UnsetType = UNSET


class WebhookRequest(Request):
    url: WebhookUrl
    events: Annotated[list[WebhookEvent], Meta(max_length=64)] | UnsetType = UNSET
    app: Slug | UnsetType = UNSET


def described(text: str) -> Meta:
    return Meta(description=text)


class ReleaseListQuery(Request, forbid_unknown_fields=False):
    limit: Annotated[PageLimit, described(f"Releases per page (default {DEFAULT_PAGE}).")] = DEFAULT_PAGE
    cursor: Annotated[Cursor, described("next_cursor of the previous page.")] | UnsetType = UNSET


class UpdateCheckQuery(Request, forbid_unknown_fields=False):
    platform: Annotated[Platform, described("The client's platform (default any; falls back to any).")] = (
        DEFAULT_PLATFORM
    )
    current: Annotated[VersionText, described("The version the client runs.")] | UnsetType = UNSET
    client: (
        Annotated[ClientId, described("The client's id, for a staged rollout (or the X-Dist-Client header).")]
        | UnsetType
    ) = UNSET


class StatsQuery(Request, forbid_unknown_fields=False):
    days: Annotated[StatsDays, described(f"UTC days, today included (default {DEFAULT_STATS_DAYS}).")] = (
        DEFAULT_STATS_DAYS
    )


class AuditQuery(Request, forbid_unknown_fields=False):
    app: Annotated[Slug, described("Only the events of this app.")] | UnsetType = UNSET
    limit: Annotated[AuditLimit, described("Only the newest N events.")] | UnsetType = UNSET


class AppcastQuery(Request, forbid_unknown_fields=False):
    platform: (
        Annotated[Platform, described("The artifact's platform (default darwin-universal, else the first darwin-*).")]
        | UnsetType
    ) = UNSET


# The path values of the update feeds (dist/http/feeds.py), whose answers are the updaters' own formats
# (dist/domain/feeds), not API bodies: an electron-updater channel file, and Tauri's {{target}} and {{arch}},
# the two halves of a platform name.
ElectronChannelFile = Annotated[str, Meta(pattern=f"^{CHANNEL_RE.pattern}\\.yml$", max_length=36)]
PlatformHalf = Annotated[str, rule(parse_platform, PLATFORM_RE, max_length=MAX_PLATFORM_LENGTH // 2 - 1)]


class TokenPath(Request, forbid_unknown_fields=False):
    id: TokenId


class WebhookPath(Request, forbid_unknown_fields=False):
    id: WebhookId


class DeliveryPath(Request, forbid_unknown_fields=False):
    id: DeliveryId


class DeliveriesQuery(Request, forbid_unknown_fields=False):
    failed: Annotated[bool, described("Only the deliveries that were given up.")] = False
    webhook: Annotated[WebhookId, described("Only this webhook's deliveries.")] | UnsetType = UNSET
    limit: Annotated[DeliveriesLimit, described("At most this many, newest first (default 100).")] | UnsetType = UNSET


def given(value: T | UnsetType) -> T | None:
    """An optional request field's value, None when it was left out."""
    return None if isinstance(value, UnsetType) else value


# --- answers -----------------------------------------------------------------------------------------------------


class ErrorDetail(Answer):
    code: str
    message: str
    field: str | UnsetType = UNSET


class Error(Answer):
    error: ErrorDetail


class Health(Answer):
    status: Literal["ok"]


class App(Answer):
    slug: str
    name: str
    created_at: Timestamp
    default_channel: str
    minisign_public_key: str | None
    ed25519_public_key: str | None


class Rollout(Answer):
    """The share of clients that get `version`, the others getting `base`; `ramp` and `every` for a schedule."""

    version: str
    base: str
    percent: int
    ramp: list[int] | None
    every: str | None
    state: RolloutState
    next_step_at: Timestamp | None


class Channel(Answer):
    app: str
    name: str
    release: str | None
    updated_at: Timestamp
    rollout: Rollout | None


class AppWithChannels(App):
    channels: list[Channel]


class AppList(Answer):
    apps: list[App]


class Signatures(Answer):
    minisign: str | None
    ed25519: str | None


class Artifact(Answer):
    filename: str
    platform: str
    sha256: str
    # Hex, computed from the bytes; null until computed for a blob imported or migrated without them.
    sha512: str | None
    sha1: str | None
    size: int
    content_type: str
    url: str
    signatures: Signatures
    downloads: int


class Release(Answer):
    app: str
    version: str
    notes: str
    status: ReleaseStatus
    created_at: Timestamp
    created_by: str
    artifacts: list[Artifact]
    # The sum of its artifacts' downloads.
    downloads: int


class StatsDay(Answer):
    day: date
    downloads: int
    # Update checks of the day by the version the client ran.
    checks: dict[str, int]


class VersionCount(Answer):
    version: str
    count: int


class Stats(Answer):
    app: str
    first_day: date = field(name="from")
    last_day: date = field(name="to")
    downloads: int
    checks: int
    days: list[StatsDay]
    downloads_by_version: list[VersionCount]
    checks_by_version: list[VersionCount]


class ReleaseList(Answer):
    releases: list[Release]
    next_cursor: str | None


class ChannelWithRelease(Channel):
    current_release: Release | None


class ChannelList(Answer):
    channels: list[Channel]


class ChannelEvent(Answer):
    kind: ChannelEventKind
    version: str
    actor: str
    at: Timestamp


class ChannelHistory(Answer):
    events: list[ChannelEvent]


class UpdateCheck(Answer):
    release: Release
    artifact: Artifact


class StoredBlob(Answer):
    sha256: str
    size: int


class Token(Answer):
    id: int
    name: str
    scopes: list[Scope]
    app: str | None
    channel: str | None
    created_at: Timestamp
    expires_at: Timestamp | None
    revoked_at: Timestamp | None
    last_used_at: Timestamp | None
    status: TokenStatus


class NewToken(Token):
    """A token as created: the only answer that ever carries its secret."""

    secret: str


class TokenList(Answer):
    tokens: list[Token]


class AuditEvent(Answer):
    id: int
    at: Timestamp
    actor: str
    action: AuditAction
    app: str | None
    target: str | None
    detail: dict[str, Any]


class AuditLog(Answer):
    events: list[AuditEvent]


class Webhook(Answer):
    id: int
    url: str
    events: list[str]
    app: str | None
    created_at: Timestamp


class NewWebhook(Webhook):
    """A webhook as created: the only answer that ever carries its signing secret."""

    secret: str


class WebhookList(Answer):
    webhooks: list[Webhook]


class Delivery(Answer):
    id: int
    webhook: int
    event: int
    action: AuditAction
    message_id: str
    state: DeliveryState
    attempts: int
    next_attempt_at: Timestamp | None
    last_attempt_at: Timestamp | None
    last_status: int | None
    last_error: str | None
    created_at: Timestamp
    delivered_at: Timestamp | None


class DeliveryList(Answer):
    deliveries: list[Delivery]


# The one table of statuses by kind of refusal: the server answers with it (dist/http/errors.py) and the
# client reads a refusal's kind back from it.
STATUS: dict[ErrorKind, int] = {
    ErrorKind.MALFORMED: 400,
    ErrorKind.UNAUTHORIZED: 401,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.LENGTH_REQUIRED: 411,
    ErrorKind.PRECONDITION_FAILED: 412,
    ErrorKind.TOO_LARGE: 413,
    ErrorKind.INVALID: 422,
    ErrorKind.RATE_LIMITED: 429,
    ErrorKind.UNAVAILABLE: 503,
    ErrorKind.STORAGE: 500,
    ErrorKind.STORAGE_FULL: 507,
}


# --- decoding ----------------------------------------------------------------------------------------------------

_ENCODER = msgspec.json.Encoder()
_PATH_RE = re.compile(r"\.([^.\[]+)|\[(\d+)\]")
_TYPE_MISMATCH_RE = re.compile(r"^Expected `[^`]+`, got `[^`]+`")


def encode(document: Any) -> bytes:
    """An answer as JSON bytes (a rendering from dist/domain/render.py, or a Struct)."""
    return _ENCODER.encode(document)


class InvalidField(Invalid):
    """A refused request value, naming the field it was in (`$.artifacts[0].sha256` as `artifacts[0].sha256`).

    A domain rule's refusal keeps the rule's own message (the one a local command prints); the generic request.*
    refusals say which field in their message too."""

    def __init__(self, code: str, message: str, field: str, *, name_in_message: bool = False) -> None:
        super().__init__(code, f"{field}: {message}" if field and name_in_message else message)
        self.field = field


def parse_json(data: bytes) -> Any:
    """The JSON document in `data`; `request.malformed_json` when it is not JSON."""
    try:
        return msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError):
        raise Malformed("request.malformed_json", "the body is not valid JSON") from None


def decode_body(kind: type[T], document: Any) -> T:
    """A request body (as parsed by `parse_json`) checked against its type.

    A value of the wrong JSON type is `request.invalid_field`, a missing one `request.missing_field`, an unknown
    one `request.unknown_field`; a value of the right type that breaks a domain rule gets that rule's error.
    """
    if not isinstance(document, dict):
        raise Invalid("request.invalid_body", "the body must be a JSON object")
    return _convert(kind, document, strings=False)


def decode_query(kind: type[T], params: dict[str, str]) -> T:
    """Query parameters checked against their type: every refusal is the rule's own error (text that is not
    a whole number, for instance, is an invalid limit)."""
    return _convert(kind, params, strings=True)


def _convert(kind: type[T], document: dict[str, Any], *, strings: bool) -> T:
    for _ in range(len(document) + 1):
        try:
            return msgspec.convert(document, kind, strict=not strings)
        except msgspec.ValidationError as error:
            refusal, accepted = _explain(kind, document, str(error), strings=strings)
            if not strings or accepted is None:
                raise refusal from None
            # Text the rule reads differently from msgspec ("007" as a limit, an empty cursor): its reading.
            document = {**document, accepted[0]: accepted[1]}
            if accepted[1] is None:
                del document[accepted[0]]
    raise AssertionError("each retry replaces one parameter by its parsed value")


def _explain(
    kind: type[Any], document: Any, text: str, *, strings: bool
) -> tuple[DistError, tuple[str, object] | None]:
    """The refusal for a validation error, and for a query parameter that the rule's parser accepts, the
    parameter's name and parsed value."""

    message, _, where = text.partition(" - at `$")
    steps: list[str | int] = [int(i) if i else n for n, i in _PATH_RE.findall(where.rstrip("`"))]
    named = re.match(r"Object (contains unknown|missing required) field `([^`]+)`", message)
    if named is not None:
        steps.append(named.group(2))
    name = _field_name(steps)
    if named is not None and named.group(1) == "contains unknown":
        return InvalidField("request.unknown_field", "is not a field of this body", name, name_in_message=True), None
    if named is not None:
        return InvalidField("request.missing_field", "is required", name, name_in_message=True), None
    parse = _parser(msgspec.inspect.type_info(kind), steps)
    value = _value_at(document, steps)
    generic = InvalidField("request.invalid_field", message[0].lower() + message[1:], name, name_in_message=True)
    if parse is None or not (strings or not _TYPE_MISMATCH_RE.match(message)):
        return generic, None
    try:
        parsed = parse(value)
    except DistError as refusal:
        return InvalidField(refusal.code, refusal.message, name), None
    return generic, (name, parsed) if strings and parsed != value else None


def _field_name(steps: list[str | int]) -> str:
    return "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps).lstrip(".")


def _value_at(document: Any, steps: list[str | int]) -> Any:
    for step in steps:
        try:
            document = document[step]
        except (KeyError, IndexError, TypeError):
            return None
    return document


def _parser(info: msgspec.inspect.Type, steps: list[str | int]) -> Callable[[Any], object] | None:
    """The domain parser named by the rule of the field at `steps`, if it has one."""
    for step in steps:
        info = _unwrapped(info)
        if isinstance(info, msgspec.inspect.StructType) and isinstance(step, str):
            found = [f.type for f in info.fields if f.encode_name == step]
            if not found:
                return None
            info = found[0]
        elif isinstance(info, msgspec.inspect.ListType) and isinstance(step, int):
            info = info.item_type
        else:
            return None
    while True:
        if isinstance(info, msgspec.inspect.Metadata) and info.extra and "parse" in info.extra:
            parse: Callable[[Any], object] = info.extra["parse"]
            return parse
        unwrapped = _unwrapped(info, once=True)
        if unwrapped is info:
            return None
        info = unwrapped


def _unwrapped(info: msgspec.inspect.Type, *, once: bool = False) -> msgspec.inspect.Type:
    while True:
        if isinstance(info, msgspec.inspect.Metadata):
            inner = info.type
        elif isinstance(info, msgspec.inspect.UnionType):
            kept = [t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)]
            if len(kept) != 1:
                return info
            inner = kept[0]
        else:
            return info
        if once:
            return inner
        info = inner
