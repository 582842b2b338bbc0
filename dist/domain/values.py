"""Value rules: names, versions, digests. Each `parse_*` returns the value or raises `Invalid`."""

from __future__ import annotations

import re
from collections.abc import Sized
from dataclasses import dataclass
from functools import total_ordering

from dist.domain.errors import Invalid, Malformed

SLUG_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
CHANNEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9._-]{0,30}[a-z0-9])?")
PLATFORM_RE = re.compile(r"[a-z0-9_]+(?:-[a-z0-9_]+)*")
SHA256_RE = re.compile(r"[0-9a-f]{64}")
# Exactly the characters of Unicode categories Cc and Cs, searched in one pass (bulk imports check many names).
FILENAME_FORBIDDEN_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# A percent-escape of '.', '/', '\\', '%' or a control: harmless as text, but a path once some layer decodes it.
FILENAME_ESCAPE_RE = re.compile(r"%(?:2[5EeFf]|5[Cc]|[01][0-9A-Fa-f]|7[Ff])")
# parse_filename's rule as one pattern, for a schema: not '.' or '..', none of the escapes above, no '/', '\\'
# or controls (C0, DEL, C1).
FILENAME_PATTERN = r"^(?!\.\.?$)(?!.*%(?:2[5EeFf]|5[Cc]|[01][0-9A-Fa-f]|7[Ff]))[^/\\\x00-\x1f\x7f-\x9f]+$"
SEMVER_RE = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?",
    # ASCII: without it \d also matches other scripts' digits, which SemVer does not allow.
    re.ASCII,
)
# An Idempotency-Key header: visible ASCII and spaces (a UUID fits; so does any client's own scheme).
IDEMPOTENCY_KEY_RE = re.compile(r"[\x20-\x7e]+")
MAX_IDEMPOTENCY_KEY_LENGTH = 255
# http(s)://host[:port][/prefix]: printable ASCII without spaces, quotes, angle brackets, '?' or '#'.
PUBLIC_URL_RE = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+(?:/[!$&'()*+,;=:@%A-Za-z0-9._~/-]*)?")
DEFAULT_PLATFORM = "any"
DEFAULT_CONTENT_TYPE = "application/octet-stream"
MAX_VERSION_LENGTH = 128
MAX_PLATFORM_LENGTH = 64
MAX_FILENAME_LENGTH = 255
MAX_CONTENT_TYPE_LENGTH = 255
# Row ids are 64-bit integers in the schema: a larger one names nothing (and PostgreSQL refuses to compare it).
MAX_ID = 2**63 - 1
DEFAULT_CHANNEL = "stable"
MAX_NOTES_LENGTH = 100_000
MAX_ARTIFACTS = 100
DEFAULT_PAGE = 50
MAX_PAGE = 500
MAX_AUDIT_LIMIT = 10_000
MAX_APP_NAME_LENGTH = 200
MAX_TOKEN_NAME_LENGTH = 100
# Spaces and tabs only around the ';': the value becomes a Content-Type header, where CR or LF would split it.
CONTENT_TYPE_RE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(?:[ \t]*;[ \t]*[ -~]*)?")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def parse_slug(value: str) -> str:
    if not isinstance(value, str) or not SLUG_RE.fullmatch(value):
        raise Invalid(
            "app.invalid_slug",
            f"{_show(value)} is not a valid app slug: use 1-64 of a-z, 0-9 and '-', "
            "starting and ending with a letter or digit",
        )
    return value


def parse_channel_name(value: str) -> str:
    if not isinstance(value, str) or not CHANNEL_RE.fullmatch(value):
        raise Invalid(
            "channel.invalid_name",
            f"{_show(value)} is not a valid channel name: use 1-32 of a-z, 0-9, "
            "'.', '_' and '-', starting and ending with a letter or digit",
        )
    return value


def parse_platform(value: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_PLATFORM_LENGTH or not PLATFORM_RE.fullmatch(value):
        raise Invalid(
            "artifact.invalid_platform",
            f"{_show(value)} is not a valid platform, e.g. linux-x86_64, darwin-aarch64, windows-x86_64 or any",
        )
    return value


def parse_filename(value: str) -> str:
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= MAX_FILENAME_LENGTH
        or value in (".", "..")
        or "/" in value
        or "\\" in value
        # Cc: C0, DEL and C1 controls. Cs: lone surrogates, which no database can store as UTF-8.
        or FILENAME_FORBIDDEN_RE.search(value)
        or FILENAME_ESCAPE_RE.search(value)
    ):
        raise Invalid(
            "artifact.invalid_filename",
            f"{_show(value)} is not a valid file name: 1-255 characters, "
            "no '/', '\\' or control characters (nor their %-escapes), not '.' or '..'",
        )
    return value


def is_storable_text(value: str) -> bool:
    """Whether every supported database can store `value`: PostgreSQL refuses NUL in text, and a lone
    surrogate has no UTF-8 encoding."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def _is_label(value: object, max_length: int) -> bool:
    return (
        isinstance(value, str)
        and 1 <= len(value) <= max_length
        and all(ord(c) >= 0x20 for c in value)
        and is_storable_text(value)
    )


def parse_app_name(value: str) -> str:
    if not _is_label(value, MAX_APP_NAME_LENGTH):
        raise Invalid("app.invalid_name", f"an app name is 1-{MAX_APP_NAME_LENGTH} printable characters")
    return value


def parse_token_name(value: str) -> str:
    if not _is_label(value, MAX_TOKEN_NAME_LENGTH):
        raise Invalid("token.invalid_name", f"a token name is 1-{MAX_TOKEN_NAME_LENGTH} printable characters")
    return value


def parse_notes(value: str) -> str:
    if not isinstance(value, str):
        raise Invalid("release.invalid_notes", "release notes are text")
    if len(value) > MAX_NOTES_LENGTH:
        raise Invalid("release.notes_too_long", f"release notes are at most {MAX_NOTES_LENGTH} characters")
    if not is_storable_text(value):
        raise Invalid("release.invalid_notes", "release notes may not contain NUL characters or lone surrogates")
    return value


def parse_artifact_count(value: Sized) -> Sized:
    if not value:
        raise Invalid("release.no_artifacts", "a release needs at least one artifact")
    if len(value) > MAX_ARTIFACTS:
        raise Invalid("release.too_many_artifacts", f"a release has at most {MAX_ARTIFACTS} artifacts")
    return value


def whole_number(value: object) -> int | None:
    """An int, or the decimal digits of one as text (a query parameter); None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 20:
        return int(value)
    return None


def parse_page_limit(value: int | str) -> int:
    number = whole_number(value)
    if number is None or not 1 <= number <= MAX_PAGE:
        raise Invalid("release.invalid_limit", f"limit must be a whole number between 1 and {MAX_PAGE}")
    return number


def parse_audit_limit(value: int | str) -> int:
    number = whole_number(value)
    if number is None or not 1 <= number <= MAX_AUDIT_LIMIT:
        raise Invalid("audit.invalid_limit", f"limit must be a whole number between 1 and {MAX_AUDIT_LIMIT}")
    return number


def parse_token_id(value: int | str) -> int:
    number = whole_number(value)
    if number is None or not 1 <= number <= MAX_ID:
        raise Invalid("token.invalid_id", f"{_show(value)} is not a token id (a whole number from 1)")
    return number


def parse_cursor(value: int | str | None) -> int | None:
    """A release page's cursor (a release id handed out with the previous page); empty or None: the first."""
    if value is None or value == "":
        return None
    number = whole_number(value)
    if number is None or not 1 <= number <= MAX_ID:
        raise Invalid("release.invalid_cursor", f"{_show(value)} is not a cursor this server handed out")
    return number


def parse_sha256(value: str) -> str:
    if not isinstance(value, str) or not SHA256_RE.fullmatch(value):
        raise Invalid("object.invalid_sha256", f"{_show(value)} is not a sha256 digest (64 lowercase hex digits)")
    return value


def parse_content_type(value: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_CONTENT_TYPE_LENGTH or not CONTENT_TYPE_RE.fullmatch(value):
        raise Invalid(
            "artifact.invalid_content_type", f"{_show(value)} is not a valid media type, e.g. application/octet-stream"
        )
    return value


def _prerelease_key(part: str) -> tuple[int, int, str]:
    # Numeric identifiers sort below alphanumeric ones, and numerically among themselves.
    return (0, int(part), "") if part.isdigit() else (1, 0, part)


@total_ordering
@dataclass(frozen=True, slots=True)
class Version:
    """A SemVer 2.0.0 version, ordered by SemVer precedence (build metadata ignored for ordering)."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Version:
        match = SEMVER_RE.fullmatch(text) if isinstance(text, str) and len(text) <= MAX_VERSION_LENGTH else None
        if match is None:
            raise Invalid(
                "release.invalid_version", f"{_show(text)} is not a SemVer 2.0.0 version, e.g. 1.4.0 or 2.0.0-beta.1"
            )
        major, minor, patch, pre, build = match.groups()
        return cls(
            int(major),
            int(minor),
            int(patch),
            tuple(pre.split(".")) if pre else (),
            tuple(build.split(".")) if build else (),
        )

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(self.prerelease)
        if self.build:
            text += "+" + ".".join(self.build)
        return text

    def precedence_key(self) -> tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]:
        # A release sorts above all of its pre-releases.
        return (
            self.major,
            self.minor,
            self.patch,
            0 if self.prerelease else 1,
            tuple(_prerelease_key(p) for p in self.prerelease),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.precedence_key() == other.precedence_key()

    def __hash__(self) -> int:
        return hash(self.precedence_key())

    def __lt__(self, other: Version) -> bool:
        return self.precedence_key() < other.precedence_key()


def parse_version(text: str) -> str:
    """Check that `text` is a SemVer version and return it unchanged."""
    Version.parse(text)
    return text


def parse_idempotency_key(value: str) -> str:
    if not (1 <= len(value) <= MAX_IDEMPOTENCY_KEY_LENGTH and IDEMPOTENCY_KEY_RE.fullmatch(value)):
        raise Malformed(
            "idempotency.invalid_key",
            f"an Idempotency-Key is 1-{MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters (a UUID, say)",
        )
    return value


def parse_public_url(value: str) -> str:
    """The URL where clients reach distd (behind a proxy, its public address): http(s), a host, maybe a path
    prefix; no query or fragment. Returned without a trailing slash, ready for paths to be appended."""
    text = value.strip() if isinstance(value, str) else ""
    match = PUBLIC_URL_RE.fullmatch(text)
    if match is None:
        raise Invalid(
            "server.invalid_public_url",
            f"{_show(value)} is not a public URL such as https://updates.example.com or https://example.com/dist",
        )
    return text.rstrip("/")
