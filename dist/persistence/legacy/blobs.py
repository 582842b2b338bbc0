"""Moving blobs between stores: hard links where two directories share a filesystem, durable copies elsewhere,
and streamed copies, each digest checked, to and from a bucket.

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

from dist.domain.errors import Invalid, NotFound
from dist.domain.values import parse_sha256
from dist.persistence.file_objects import FileObjects, fsync_path
from dist.persistence.maintenance import Progress, no_progress
from dist.persistence.objects import ObjectStore

PROGRESS_EVERY = 500


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


def _missing(sha256: str, source: ObjectStore) -> NotFound:
    return NotFound(
        "object.missing",
        f"the blob {sha256} is missing from {source.url}, and records reference it "
        "(`dist store verify` lists every problem)",
    )


def copy_blob(source: ObjectStore, target: ObjectStore, sha256: str) -> bool:
    """Stream one blob from `source` into `target`, checking its digest on the way; False when `target` held it
    already. A blob whose bytes hash otherwise is `object.corrupt` and is not copied."""
    if target.exists(sha256):
        return False
    try:
        target.put_stream(source.chunks(sha256), expected_sha256=sha256)
    except FileNotFoundError:
        raise _missing(sha256, source) from None
    except Invalid as error:
        if error.code != "upload.digest_mismatch":
            raise
        raise Invalid(
            "object.corrupt", f"the blob {sha256} in {source.url} is damaged: its bytes hash otherwise; not copied"
        ) from None
    return True


def transfer_blobs(
    source: ObjectStore, target: ObjectStore, sha256s: Iterable[str], progress: Progress = no_progress
) -> int:
    """Put each blob of `source` named in `sha256s` into `target` (those already there are kept); returns how
    many were added. Between two directories each directory touched is fsynced once at the end; to or from a
    bucket each blob is streamed and its digest checked."""
    if not (isinstance(source, FileObjects) and isinstance(target, FileObjects)):
        added = 0
        for done, sha256 in enumerate(sha256s, start=1):
            added += copy_blob(source, target, parse_sha256(sha256))
            if done % PROGRESS_EVERY == 0:
                progress("copying blobs", done, None)
        return added
    target.ensure_dirs()
    # Plain string paths and one mkdir per prefix directory: this runs once per blob of a whole store, where
    # pathlib and a stat before each link would cost more than the links themselves.
    source_dir, target_dir = os.fspath(source.objects_dir), os.fspath(target.objects_dir)
    prefixes: set[str] = set()
    linking = True
    touched: set[str] = set()
    added = 0
    for done, sha256 in enumerate(sha256s, start=1):
        parse_sha256(sha256)
        prefix = sha256[:2]
        directory = f"{target_dir}/{prefix}"
        if prefix not in prefixes:
            try:
                os.mkdir(directory)
                # A new directory's own name is durable only once its parent is fsynced.
                touched.add(target_dir)
            except FileExistsError:
                pass
            prefixes.add(prefix)
        destination = f"{directory}/{sha256}"
        origin = f"{source_dir}/{prefix}/{sha256}"
        new = False
        try:
            if linking:
                try:
                    os.link(origin, destination)
                    new = True
                except FileExistsError:
                    pass
                except OSError as error:
                    if error.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                        raise
                    linking = False
            if not linking and not os.path.exists(destination):
                _copy(Path(origin), Path(destination), target.tmp_dir)
                new = True
        except FileNotFoundError:
            if os.path.exists(origin):
                raise
            raise _missing(sha256, source) from None
        if new:
            touched.add(directory)
            added += 1
        if done % PROGRESS_EVERY == 0:
            progress("copying blobs", done, None)
    for directory in sorted(touched):
        fsync_path(Path(directory))
    return added
