"""Moving blobs between stores: hard links where the two share a filesystem, durable copies elsewhere.

Blobs are immutable and content-addressed, so a link is as good as a copy and costs no bytes.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from dist.persistence.maintenance import Progress, no_progress
from dist.persistence.objects import ObjectStore, fsync_directory

PROGRESS_EVERY = 500


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy(source: Path, target: Path, tmp_dir: Path) -> None:
    """Copy through a temporary file in the target store, then rename: a crash leaves no partial blob."""
    fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="copy-")
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            shutil.copyfileobj(src, out, 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        os.replace(name, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def transfer_blobs(
    source: ObjectStore, target: ObjectStore, sha256s: Iterable[str], progress: Progress = no_progress
) -> int:
    """Put each blob of `source` named in `sha256s` into `target` (those already there are kept); returns how
    many were added. Each directory touched is fsynced once at the end."""
    target.ensure_dirs()
    linking = True
    touched: set[Path] = set()
    added = 0
    for done, sha256 in enumerate(sha256s, start=1):
        destination = target.path(sha256)
        if not destination.exists():
            destination.parent.mkdir(exist_ok=True)
            origin = source.path(sha256)
            if linking:
                try:
                    os.link(origin, destination)
                except FileExistsError:
                    pass
                except OSError as error:
                    if error.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                        raise
                    linking = False
            if not linking:
                _copy(origin, destination, target.tmp_dir)
            touched.add(destination.parent)
            added += 1
        if done % PROGRESS_EVERY == 0:
            progress("copying blobs", done, None)
    for directory in sorted(touched):
        fsync_directory(directory)
    return added
