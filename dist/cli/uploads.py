"""Publishing's file transfer: a progress bar per file on a terminal, and streaming files into a local object
store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from dist.cli.context import progress_on_terminal, stderr
from dist.cli.files import LocalFile

if TYPE_CHECKING:
    from dist.cli.backend import Advance
    from dist.persistence.objects import ObjectStore
    from dist.services.releases import ArtifactSpec

# Small files upload in the blink of an eye; a bar would only flicker.
PROGRESS_THRESHOLD = 8 * 1024 * 1024


@contextmanager
def transfer_progress(files: list[LocalFile]) -> Iterator[Advance | None]:
    """A callback advancing each file's bar on a terminal (stderr) when there is enough to watch; else None."""
    if sum(f.size for f in files) < PROGRESS_THRESHOLD or not progress_on_terminal():
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=stderr, transient=True) as progress:
        tasks = {f: progress.add_task(f.filename, total=f.size) for f in files}

        def advance(local: LocalFile, sent: int) -> None:
            progress.advance(tasks[local], sent)

        yield advance


def upload(objects: ObjectStore, files: list[LocalFile], advance: Advance | None = None) -> list[ArtifactSpec]:
    """Stream each file into the store (hashed on the way, never held whole in memory); identical bytes are
    stored once."""
    from dist.persistence.objects import CHUNK_SIZE
    from dist.services.releases import ArtifactSpec

    specs = []
    for local in files:
        with local.path.open("rb") as source, objects.writer() as writer:
            for chunk in iter(lambda: source.read(CHUNK_SIZE), b""):
                writer.write(chunk)
                if advance is not None:
                    advance(local, len(chunk))
            blob = writer.commit()
        specs.append(ArtifactSpec(local.filename, blob.sha256, local.platform, local.content_type))
    return specs
