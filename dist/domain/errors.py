"""One error hierarchy for the whole product.

A `DistError` carries a dotted `code` that users and scripts match on, a
human message, and a `kind` that the edges map to a status or exit code.
It never carries an HTTP status: that is the HTTP layer's business.
"""

from __future__ import annotations

import enum
import errno


class ErrorKind(enum.StrEnum):
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    PRECONDITION_FAILED = "precondition_failed"
    INVALID = "invalid"
    MALFORMED = "malformed"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    TOO_LARGE = "too_large"
    LENGTH_REQUIRED = "length_required"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    STORAGE = "storage"
    STORAGE_FULL = "storage_full"


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


class PreconditionFailed(DistError):
    """A write conditioned on a state (a channel's current version) that no longer holds."""

    kind = ErrorKind.PRECONDITION_FAILED


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


# What the filesystem refused, by errno: the code users match on and the reason in words.
STORAGE_ERRORS = {
    errno.ENOSPC: ("store.disk_full", "no space is left on the device", ErrorKind.STORAGE_FULL),
    errno.EDQUOT: ("store.disk_full", "the disk quota is exhausted", ErrorKind.STORAGE_FULL),
    errno.EFBIG: ("store.disk_full", "the file would be larger than the system allows", ErrorKind.STORAGE_FULL),
    errno.EACCES: ("store.permission_denied", "permission denied", ErrorKind.STORAGE),
    errno.EPERM: ("store.permission_denied", "operation not permitted", ErrorKind.STORAGE),
    errno.EROFS: ("store.read_only", "the filesystem is read-only", ErrorKind.STORAGE),
    errno.ENOENT: ("store.file_missing", "no such file or directory", ErrorKind.STORAGE),
    errno.ENOTDIR: ("store.not_a_directory", "a part of the path is not a directory", ErrorKind.STORAGE),
    errno.EEXIST: ("store.not_a_directory", "it exists and is not a directory", ErrorKind.STORAGE),
    errno.EISDIR: ("store.is_a_directory", "it is a directory, not a file", ErrorKind.STORAGE),
}


def storage_failure(error: OSError) -> DistError:
    """The refusal that an operating-system error amounts to: what failed, on which file, in one line."""
    code, reason, kind = STORAGE_ERRORS.get(
        error.errno or 0, ("store.io_error", error.strerror or type(error).__name__, ErrorKind.STORAGE)
    )
    where = f": {error.filename}" if error.filename is not None else ""
    return DistError(code, f"{reason}{where}", kind)
