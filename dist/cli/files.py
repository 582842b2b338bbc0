"""`FILE[=PLATFORM]` arguments of `dist publish`: the file, its platform and its guessed media type."""

from __future__ import annotations

import dataclasses
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from dist.cli.errors import UsageError
from dist.domain.values import DEFAULT_CONTENT_TYPE, DEFAULT_PLATFORM, parse_filename, parse_platform

# mimetypes reports a compressed tarball as the tar type plus an encoding; the bytes are the compressed ones.
ENCODING_TYPES = {"gzip": "application/gzip", "bzip2": "application/x-bzip2", "xz": "application/x-xz"}


# A minisign signature beside its file, as `minisign -S -x FILE.sig` and `tauri signer sign` leave it.
SIGNATURE_SUFFIX = ".sig"


@dataclass(frozen=True, slots=True)
class LocalFile:
    path: Path
    platform: str
    minisign_signature: str | None = None
    ed25519_signature: str | None = None

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
    beside = path.with_name(path.name + SIGNATURE_SUFFIX)
    return LocalFile(path, platform, read_text(beside, "publish.invalid_signature") if beside.is_file() else None)


def read_text(path: Path, code: str) -> str:
    """A small text file given on the command line; a usage error naming it when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(code, f"there is no file {str(path)!r}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(code, f"cannot read {str(path)!r} as text: {error}") from None


def with_signatures(files: list[LocalFile], minisign: list[str], ed25519: list[str]) -> list[LocalFile]:
    """The files with the signatures given as options: `--minisign FILE=SIGFILE` (a path to a minisign signature
    file, taking the place of FILE.sig) and `--ed25519 FILE=BASE64`; FILE is the file's name or path as given."""
    given: dict[str, dict[str, str]] = {"minisign": {}, "ed25519": {}}
    for kind, arguments in (("minisign", minisign), ("ed25519", ed25519)):
        for argument in arguments:
            name, sep, value = argument.partition("=")
            if not sep or not name or not value:
                raise UsageError("publish.invalid_signature", f"--{kind} takes FILE=SIGNATURE, not {argument!r}")
            match = [f for f in files if name in (f.filename, str(f.path))]
            if not match:
                raise UsageError("publish.invalid_signature", f"--{kind} names {name!r}, which is not a file published")
            value = read_text(Path(value), "publish.invalid_signature") if kind == "minisign" else value
            for local in match:
                given[kind][local.filename] = value
    return [
        dataclasses.replace(
            local,
            minisign_signature=given["minisign"].get(local.filename, local.minisign_signature),
            ed25519_signature=given["ed25519"].get(local.filename, local.ed25519_signature),
        )
        for local in files
    ]
