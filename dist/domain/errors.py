"""One error hierarchy for the whole product.

A `DistError` carries a dotted `code` that users and scripts match on, a
human message, and a `kind` that the edges map to a status or exit code.
It never carries an HTTP status: that is the HTTP layer's business.
"""

from __future__ import annotations

import enum


class ErrorKind(enum.StrEnum):
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    INVALID = "invalid"
    MALFORMED = "malformed"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    TOO_LARGE = "too_large"
    LENGTH_REQUIRED = "length_required"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"


class DistError(Exception):
    """A refused operation: what went wrong (`code`), why (`message`) and what sort (`kind`)."""

    kind: ErrorKind = ErrorKind.INVALID

    def __init__(self, code: str, message: str, kind: ErrorKind | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        if kind is not None:
            self.kind = kind

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class NotFound(DistError):
    kind = ErrorKind.NOT_FOUND


class Conflict(DistError):
    kind = ErrorKind.CONFLICT


class Invalid(DistError):
    kind = ErrorKind.INVALID


class Malformed(DistError):
    kind = ErrorKind.MALFORMED


class Unauthorized(DistError):
    kind = ErrorKind.UNAUTHORIZED


class Forbidden(DistError):
    kind = ErrorKind.FORBIDDEN


class TooLarge(DistError):
    kind = ErrorKind.TOO_LARGE


class Unavailable(DistError):
    kind = ErrorKind.UNAVAILABLE
