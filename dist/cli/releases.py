"""`dist publish` and `dist release list|show|yank`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from cyclopts import App, Parameter

from dist.cli import views
from dist.cli.backend import backend
from dist.cli.context import JsonFlag, print_json
from dist.cli.errors import UsageError
from dist.cli.files import parse_file_argument
from dist.cli.uploads import transfer_progress
from dist.domain.render import render_release

release_app = App(name="release", help="List, show and yank releases.")


def _notes(notes: str | None, notes_file: Path | None) -> str:
    if notes is not None and notes_file is not None:
        raise UsageError("usage.conflicting_options", "give --notes or --notes-file, not both")
    if notes_file is None:
        return notes or ""
    try:
        return notes_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError("publish.notes_file_not_found", f"there is no file {str(notes_file)!r}") from None
    except (IsADirectoryError, UnicodeDecodeError) as error:
        raise UsageError("publish.invalid_notes_file", f"cannot read {str(notes_file)!r} as text: {error}") from None


def publish(
    app: str,
    version: str,
    files: Annotated[
        list[str],
        Parameter(
            name="FILE", help="A file to publish, optionally with its platform: FILE=linux-x86_64 (default any)."
        ),
    ],
    /,
    *,
    notes: Annotated[str | None, Parameter(help="Release notes.")] = None,
    notes_file: Annotated[Path | None, Parameter(help="Read the release notes from this file.")] = None,
    channel: Annotated[str | None, Parameter(help="Promote the new release onto this channel.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Upload files and publish them as VERSION of APP (created on first publish)."""
    text = _notes(notes, notes_file)
    local_files = [parse_file_argument(f) for f in files]
    with backend() as store, transfer_progress(local_files) as advance:
        release = store.publish(app, version, local_files, notes=text, channel=channel, advance=advance)
    if as_json:
        print_json(render_release(release))
        return
    count = len(release.artifacts)
    onto = f", serving on {channel}" if channel else ""
    views.line(f"Published {release.app} {release.version} ({count} artifact{'s' if count != 1 else ''}){onto}")


@release_app.command(name="list")
def list_(app: str, /, *, as_json: JsonFlag = False) -> None:
    """List the releases of APP, newest first."""
    with backend() as store:
        found = store.list_releases(app)
    if as_json:
        print_json({"releases": [render_release(r) for r in found]})
    else:
        views.releases_table(found)


@release_app.command(name="show")
def show(app: str, version: str, /, *, as_json: JsonFlag = False) -> None:
    """Show a release and its artifacts."""
    with backend() as store:
        release = store.get_release(app, version)
    if as_json:
        print_json(render_release(release))
    else:
        views.release_detail(release)


@release_app.command(name="yank")
def yank(app: str, version: str, /, *, as_json: JsonFlag = False) -> None:
    """Yank a release: still downloadable by its version, never served by a channel again."""
    with backend() as store:
        release = store.yank(app, version)
    if as_json:
        print_json(render_release(release))
    else:
        views.line(f"Yanked {release.app} {release.version}")
