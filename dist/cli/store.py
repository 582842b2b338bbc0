"""`dist store …`: verify, gc, import-legacy, export."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from cyclopts import App, Parameter
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from dist.cli import views
from dist.cli.backend import local_only
from dist.cli.context import JsonFlag, opened_store, print_json, progress_on_terminal, stderr, stdout

if TYPE_CHECKING:
    from dist.persistence.maintenance import Progress as ProgressFn

store_app = App(name="store", help="Keep a store healthy: verify, gc, import-legacy, export, copy-objects.")


@contextmanager
def _progress(enabled: bool) -> Iterator[ProgressFn]:
    """A progress callback drawing one bar per task on a terminal's stderr; silent elsewhere."""
    if not enabled or not progress_on_terminal():
        from dist.persistence.maintenance import no_progress

        yield no_progress
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=stderr, transient=True) as bars:
        tasks: dict[str, TaskID] = {}

        def report(task: str, done: int, total: int | None) -> None:
            if task not in tasks:
                tasks[task] = bars.add_task(task, total=total)
            bars.update(tasks[task], completed=done, total=total)

        yield report


@store_app.command
def verify(*, as_json: JsonFlag = False) -> int:
    """Re-hash every blob and check every artifact and reference; exit 1 when anything is wrong."""
    local_only("store verify")
    from dist.services import store as maintenance

    with opened_store() as store, _progress(not as_json) as progress:
        report = maintenance.verify(store.uow(), progress=progress)
    if as_json:
        print_json({"ok": report.ok, "problems": [p.render() for p in report.problems], "checked": report.checked})
    else:
        for problem in report.problems:
            where = " ".join(x for x in (problem.sha256, problem.record and f"({problem.record})") if x)
            stdout.print(f"{problem.kind}: {where + ': ' if where else ''}{problem.message}", markup=False)
        checked = report.checked
        stdout.print(
            f"checked {checked['blobs']} blobs ({views.size(checked['bytes'])}), {checked['artifacts']} artifacts and "
            f"{checked['references']} references: "
            + (f"{len(report.problems)} problem(s)" if report.problems else "no problems"),
            markup=False,
        )
    return 0 if report.ok else 1


@store_app.command
def gc(
    *,
    dry_run: Annotated[bool, Parameter(negative=(), help="Only show what would be removed.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Remove blobs no artifact references and stale files in tmp/, when older than an hour."""
    local_only("store gc")
    from dist.services import store as maintenance

    with opened_store() as store:
        report = maintenance.gc(store.uow(), dry_run=dry_run)
    if as_json:
        removed = [
            {"kind": r.kind, ("sha256" if r.kind == "blob" else "path"): r.name, "size": r.size} for r in report.removed
        ]
        print_json({"dry_run": report.dry_run, "removed": removed, "bytes_freed": report.bytes_freed})
        return
    verb = "would remove" if dry_run else "removed"
    for r in report.removed:
        stdout.print(f"{verb} {r.kind} {r.name} ({views.size(r.size)})", markup=False)
    freed = "would free" if dry_run else "freed"
    stdout.print(f"{verb} {len(report.removed)} file(s), {freed} {views.size(report.bytes_freed)}", markup=False)


@store_app.command(name="import-legacy")
def import_legacy(directory: Path, /, *, as_json: JsonFlag = False) -> None:
    """Import a legacy store (DIRECTORY/db.json and objects/) into this store, which must be empty."""
    local_only("store import-legacy")
    from dist.services import store as maintenance

    with opened_store() as store, _progress(not as_json) as progress:
        report = maintenance.import_legacy(store.uow(), directory, progress=progress)
    for warning in report.warnings:
        stderr.print(f"warning: {warning}", markup=False)
    if as_json:
        print_json({"imported": report.counts, "warnings": report.warnings})
    else:
        counts = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in report.counts.items())
        stdout.print(f"imported {counts}", markup=False)


@store_app.command(name="copy-objects")
def copy_objects(
    *,
    to: Annotated[str, Parameter(help="The object store to copy into: file://DIR or s3://BUCKET/PREFIX.")],
    as_json: JsonFlag = False,
) -> None:
    """Copy every blob into another object store (a directory or a bucket), checking each digest; run it again to
    resume. Then serve the store with --objects set to it."""
    local_only("store copy-objects")
    from dist.persistence.objects import open_objects
    from dist.services import store as maintenance

    with opened_store() as store, _progress(not as_json) as progress:
        target = open_objects(to, store.location.root)
        report = maintenance.copy_objects(store.uow(), target, progress=progress)
    if as_json:
        print_json(
            {
                "to": report.target,
                "copied": report.copied,
                "bytes_copied": report.bytes_copied,
                "already_there": report.present,
            }
        )
    else:
        stdout.print(
            f"copied {report.copied} blob(s) ({views.size(report.bytes_copied)}) to {report.target}; "
            f"{report.present} were there already",
            markup=False,
        )


@store_app.command
def export(directory: Path, /, *, as_json: JsonFlag = False) -> None:
    """Write this store as a legacy store (db.json and objects/) into DIRECTORY, a new or empty one."""
    local_only("store export")
    from dist.services import store as maintenance

    with opened_store() as store, _progress(not as_json) as progress:
        counts = maintenance.export(store.uow(), directory, progress=progress)
    if as_json:
        print_json({"exported": counts, "directory": str(directory)})
    else:
        summary = ", ".join(f"{n} {kind}" for kind, n in counts.items())
        stdout.print(f"exported {summary} to {directory}", markup=False)
