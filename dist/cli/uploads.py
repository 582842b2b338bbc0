"""Reading `FILE[=PLATFORM]` arguments and streaming their bytes into the object store."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from dist.cli.context import progress_on_terminal, stderr
from dist.cli.errors import UsageError
from dist.domain.values import DEFAULT_CONTENT_TYPE, DEFAULT_PLATFORM, parse_filename, parse_platform
from dist.persistence.objects import CHUNK_SIZE, ObjectStore
from dist.services.releases import ArtifactSpec

# Small files upload in the blink of an eye; a bar would only flicker.
PROGRESS_THRESHOLD = 8 * 1024 * 1024

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


@contextmanager
def _progress(total: int) -> Iterator[Progress | None]:
    if total < PROGRESS_THRESHOLD or not progress_on_terminal():
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=stderr, transient=True) as progress:
        yield progress


def upload(objects: ObjectStore, files: list[LocalFile]) -> list[ArtifactSpec]:
    """Stream each file into the store (hashed on the way, never held whole in memory); identical bytes are
    stored once."""
    specs = []
    total = sum(f.path.stat().st_size for f in files)
    with _progress(total) as progress:
        for local in files:
            task = progress.add_task(local.filename, total=local.path.stat().st_size) if progress else None
            with local.path.open("rb") as source, objects.writer() as writer:
                for chunk in iter(lambda: source.read(CHUNK_SIZE), b""):
                    writer.write(chunk)
                    if progress is not None and task is not None:
                        progress.advance(task, len(chunk))
                blob = writer.commit()
            specs.append(ArtifactSpec(local.filename, blob.sha256, local.platform, local.content_type))
    return specs
