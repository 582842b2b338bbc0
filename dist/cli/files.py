"""`FILE[=PLATFORM]` arguments of `dist publish`: the file, its platform and its guessed media type."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path

from dist.cli.errors import UsageError
from dist.domain.values import DEFAULT_CONTENT_TYPE, DEFAULT_PLATFORM, parse_filename, parse_platform

# mimetypes reports a compressed tarball as the tar type plus an encoding; the bytes are the compressed ones.
ENCODING_TYPES = {"gzip": "application/gzip", "bzip2": "application/x-bzip2", "xz": "application/x-xz"}


@dataclass(frozen=True, slots=True)
class LocalFile:
    path: Path
    platform: str

    @property
    def filename(self) -> str:
        return self.path.name

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    @property
    def content_type(self) -> str:
        guessed, encoding = mimetypes.guess_type(self.filename, strict=False)
        if encoding is not None:
            return ENCODING_TYPES.get(encoding, DEFAULT_CONTENT_TYPE)
        return guessed or DEFAULT_CONTENT_TYPE


def parse_file_argument(argument: str) -> LocalFile:
    """`path` or `path=platform`; the artifact is named after the file's base name. Checks the file is there."""
    path_text, sep, platform = argument.rpartition("=")
    if not sep:
        path_text, platform = argument, DEFAULT_PLATFORM
    if not path_text:
        raise UsageError("publish.invalid_file", f"{argument!r} names no file; use FILE or FILE=PLATFORM")
    path = Path(path_text)
    if not path.exists():
        raise UsageError("publish.file_not_found", f"there is no file {path_text!r}")
    if not path.is_file():
        raise UsageError("publish.not_a_file", f"{path_text!r} is not a regular file")
    parse_platform(platform)
    parse_filename(path.name)
    return LocalFile(path, platform)
