"""Store maintenance: verify, gc, import from and export to the legacy format, copying blobs to another object
store.

Long work reports through a `progress(task, done, total)` callback; only the CLI draws it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from dist.domain.errors import Invalid, NotFound
from dist.persistence.file_objects import FileObjects, fsync_path
from dist.persistence.legacy.blobs import copy_blob, transfer_blobs
from dist.persistence.legacy.exporter import snapshot, write_document
from dist.persistence.legacy.loader import Loader, LoadReport, lock_for_import, refuse_unless_empty
from dist.persistence.maintenance import MaintenanceRepository, Progress, no_progress
from dist.persistence.objects import ObjectStore
from dist.persistence.uow import UnitOfWork

LEGACY_FILE = "db.json"
GC_GRACE_SECONDS = 3600.0
PROGRESS_EVERY = 100


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing `verify` found wrong: its kind, the blob or record concerned, and what is wrong."""

    kind: str
    message: str
    sha256: str | None = None
    record: str | None = None

    def render(self) -> dict[str, str]:
        rendered = {"kind": self.kind}
        if self.sha256 is not None:
            rendered["sha256"] = self.sha256
        if self.record is not None:
            rendered["record"] = self.record
        rendered["message"] = self.message
        return rendered


@dataclass
class VerifyReport:
    problems: list[Problem] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=lambda: {"blobs": 0, "bytes": 0, "artifacts": 0, "references": 0})

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class Removed:
    """A file `gc` removed (or, on a dry run, would remove): a blob by its sha256, or a file in tmp/."""

    kind: str
    name: str
    size: int


@dataclass
class GcReport:
    dry_run: bool
    removed: list[Removed] = field(default_factory=list)

    @property
    def bytes_freed(self) -> int:
        return sum(r.size for r in self.removed)


def verify(uow: UnitOfWork, *, progress: Progress = no_progress) -> VerifyReport:
    """Re-hash every blob and check its row (size, SHA-512, SHA-1), that every row has its file, that every
    artifact's blob is there with its size, and that every reference between records holds. Reports each
    problem found; changes nothing."""
    report = VerifyReport()
    with uow.read():
        _check_blobs(uow, report, progress)
        repository = MaintenanceRepository(uow.session)
        _check_rows(uow, repository, report)
        _check_artifacts(repository, uow.objects, report, progress)
        report.checked["references"] = repository.count_references()
        for dangling in repository.dangling_references():
            report.problems.append(Problem("dangling_reference", dangling.message, record=dangling.record))
    return report


def _check_blobs(uow: UnitOfWork, report: VerifyReport, progress: Progress) -> None:
    objects = uow.objects
    total = sum(1 for _ in objects.listing())
    for done, entry in enumerate(objects.listing(), start=1):
        if done % PROGRESS_EVERY == 0 or done == total:
            progress("hashing blobs", done, total)
        name = entry.name
        if not entry.is_blob:
            report.problems.append(
                Problem("stray_file", f"{entry.where} is not a blob: blobs are files at objects/<aa>/<sha256>")
            )
            continue
        try:
            digests = objects.digests(name)
        except FileNotFoundError:
            continue  # removed by a concurrent gc
        except OSError as error:
            report.problems.append(Problem("unreadable_blob", f"the blob cannot be read: {error}", sha256=name))
            continue
        report.checked["blobs"] += 1
        report.checked["bytes"] += digests.size
        if digests.sha256 != name:
            report.problems.append(
                Problem("corrupt_blob", f"the blob's bytes hash to {digests.sha256}: it is damaged", sha256=name)
            )
            continue
        row = uow.blobs.get(name)
        if row is None:
            continue  # put there before its row (or before this schema): publish records it
        if row.size != digests.size:
            message = f"the blob's row declares {row.size} bytes, its file holds {digests.size}"
            report.problems.append(Problem("size_mismatch", message, sha256=name, record="blob row"))
        for kind, recorded, actual in (("SHA-512", row.sha512, digests.sha512), ("SHA-1", row.sha1, digests.sha1)):
            if recorded is not None and recorded != actual:
                message = f"the blob's row holds the {kind} {recorded}, its bytes hash to {actual}"
                report.problems.append(Problem("digest_mismatch", message, sha256=name, record="blob row"))


def _check_rows(uow: UnitOfWork, repository: MaintenanceRepository, report: VerifyReport) -> None:
    """Rows of blobs whose file is gone, and that no artifact references (those are reported per artifact)."""
    for sha256 in repository.unreferenced_blob_rows():
        if not uow.objects.exists(sha256):
            message = "the blob has a row but no file, and no artifact uses it (`dist store gc` removes the row)"
            report.problems.append(Problem("missing_blob", message, sha256=sha256, record="blob row"))


def _check_artifacts(
    repository: MaintenanceRepository, objects: ObjectStore, report: VerifyReport, progress: Progress
) -> None:
    total = repository.count_blob_uses()
    for done, use in enumerate(repository.blob_uses(), start=1):
        if done % PROGRESS_EVERY == 0 or done == total:
            progress("checking artifacts", done, total)
        report.checked["artifacts"] += use.artifacts
        record = f"artifact {use.first_artifact}" + (f" and {use.artifacts - 1} more" if use.artifacts > 1 else "")
        size = objects.size(use.sha256)
        if size is None:
            report.problems.append(
                Problem("missing_blob", f"the blob of {record} is missing", sha256=use.sha256, record=record)
            )
        elif size != use.size:
            message = f"{record} declares {use.size} bytes, the blob holds {size}"
            report.problems.append(Problem("size_mismatch", message, sha256=use.sha256, record=record))


def gc(uow: UnitOfWork, *, dry_run: bool = False, grace_seconds: float = GC_GRACE_SECONDS) -> GcReport:
    """Remove blobs no artifact references, with their rows, once their last upload (`blobs.created_at`; the
    file's time for a blob without a row) is older than the grace period, so uploads waiting to be published are
    kept; and what uploads left behind (stale temporary objects, unfinished multipart uploads). A dry run only
    reports what would go."""
    report = GcReport(dry_run=dry_run)
    objects = uow.objects
    candidates: list[str] = []
    with uow.read():
        repository = MaintenanceRepository(uow.session)
        cutoff = uow.clock() - timedelta(seconds=grace_seconds)
        for entry in objects.listing():
            name = entry.name
            if entry.is_blob and _older(uow, objects, name, cutoff) and not repository.is_referenced(name):
                candidates.append(name)
        # Rows whose blob is gone (removed by hand, or by a gc cut short before its commit) go too.
        candidates += [
            sha256
            for sha256 in repository.unreferenced_blob_rows()
            if not objects.exists(sha256) and _older(uow, objects, sha256, cutoff)
        ]
    if candidates:
        # The write lock keeps a publish from referencing a blob between the second look and its removal.
        with uow.write():
            repository = MaintenanceRepository(uow.session)
            for name in candidates:
                if repository.is_referenced(name) or not _older(uow, objects, name, cutoff):
                    continue
                size = objects.size(name) if dry_run else objects.remove(name)
                if size is not None:
                    report.removed.append(Removed("blob", name, size))
                if not dry_run:
                    uow.blobs.remove(name)
            uow.commit()
    for leftover in list(objects.leftovers(grace_seconds)):
        if not dry_run:
            objects.remove_leftover(leftover)
        report.removed.append(Removed("tmp", leftover.where, leftover.size))
    return report


def _older(uow: UnitOfWork, objects: ObjectStore, sha256: str, cutoff: datetime) -> bool:
    uploaded = uow.blobs.created_at(sha256)
    if uploaded is not None:
        return uploaded < cutoff
    found = objects.stat(sha256)
    return found is not None and found.modified < cutoff


@dataclass
class CopyReport:
    """What `copy_objects` did: blobs copied (and their bytes), and blobs the target held already."""

    target: str
    copied: int = 0
    bytes_copied: int = 0
    present: int = 0


def copy_objects(uow: UnitOfWork, target: ObjectStore, *, progress: Progress = no_progress) -> CopyReport:
    """Copy every blob of this store's object store into `target` (a directory or a bucket), each streamed and its
    digest checked on the way: a damaged blob is `object.corrupt` and is not copied. Blobs `target` holds already
    are skipped, so a copy cut short resumes where it stopped. Records are untouched: serve the store with
    `--objects` naming `target` once it is done."""
    source = uow.objects
    target.check()
    if target.url == source.url:
        raise Invalid("objects.same_store", f"{target.url} is this store's own object store; copy to another one")
    report = CopyReport(target.url)
    names = [entry.name for entry in source.listing() if entry.is_blob]
    for done, sha256 in enumerate(names, start=1):
        if copy_blob(source, target, sha256):
            report.copied += 1
            report.bytes_copied += target.size(sha256) or 0
        else:
            report.present += 1
        if done % PROGRESS_EVERY == 0 or done == len(names):
            progress("copying blobs", done, len(names))
    return report


def _legacy_document(source: Path) -> Path:
    document = source / LEGACY_FILE
    if not document.is_file():
        raise NotFound("legacy.not_found", f"{source} holds no {LEGACY_FILE}: it is not a legacy store")
    return document


def import_legacy(uow: UnitOfWork, source: Path, *, progress: Progress = no_progress) -> LoadReport:
    """Import a legacy store (db.json and objects/) into this store, which must be empty, in one transaction:
    all or nothing. Blobs are hard-linked, or copied across filesystems. The source is left as it was."""
    document = _legacy_document(source)
    with uow.write():
        connection = uow.session.connection()
        lock_for_import(connection)
        refuse_unless_empty(connection, "the store")
        legacy = FileObjects(source / "objects")
        report = Loader(connection, legacy, progress).load(document)
        # The blobs go in before the commit: once the records are visible, so is every blob they name.
        shas = MaintenanceRepository(uow.session).referenced_blobs()
        transfer_blobs(legacy, uow.objects, shas, progress)
        uow.commit()
    return report


def export(uow: UnitOfWork, target: Path, *, progress: Progress = no_progress) -> dict[str, int]:
    """Write the store as a legacy store in `target` (a new or empty directory): objects/ with every blob an
    artifact references, then db.json, from one consistent snapshot. Returns the records written per member."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise Invalid("export.target_not_empty", f"{target} is not an empty directory; export into a new one")
    created = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    exported = FileObjects(target / "objects")
    try:
        with uow.read():
            connection = snapshot(uow.session)
            transfer_blobs(uow.objects, exported, MaintenanceRepository(uow.session).referenced_blobs(), progress)
            fd, name = tempfile.mkstemp(dir=target, prefix=".db.json-")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    counts = write_document(connection, out, progress)
                    out.flush()
                    os.fsync(out.fileno())
                # db.json appears last and whole: a directory with a db.json is a finished export.
                os.replace(name, target / LEGACY_FILE)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(name)
    except BaseException:
        # A failed export leaves the directory as it found it, ready for the next attempt.
        for part in (exported.objects_dir, exported.tmp_dir):
            shutil.rmtree(part, ignore_errors=True)
        if created:
            with contextlib.suppress(OSError):
                target.rmdir()
        raise
    fsync_path(target)
    with contextlib.suppress(OSError):
        exported.tmp_dir.rmdir()
    return counts
