"""`dist stats`: an app's downloads per day and the versions its users run, as a chart on a terminal."""

from __future__ import annotations

from typing import Annotated

from cyclopts import Parameter
from rich import box
from rich.table import Table

from dist.cli.backend import backend
from dist.cli.context import JsonFlag, print_json, stdout
from dist.domain.counts import DEFAULT_STATS_DAYS, Stats, VersionCount
from dist.domain.render import render_stats

BAR_WIDTH = 40
FULL, PARTS = "█", " ▏▎▍▌▋▊▉"


def bar(value: int, largest: int, width: int = BAR_WIDTH) -> str:
    """A horizontal bar `value / largest` of `width` cells, in eighths of a cell."""
    if largest <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value * width * 8 / largest))
    return FULL * (eighths // 8) + (PARTS[eighths % 8] if eighths % 8 else "")


def stats(
    app: str,
    *,
    days: Annotated[int, Parameter(help="UTC days to show, today included.")] = DEFAULT_STATS_DAYS,
    as_json: JsonFlag = False,
) -> None:
    """Show an app's downloads per day and, from update checks, which versions its users run."""
    with backend() as store:
        found = store.stats(app, days=days)
    if as_json:
        print_json(render_stats(found))
        return
    _chart(found)


def _chart(found: Stats) -> None:
    stdout.print(
        f"{found.app}: {found.downloads} downloads and {found.checks} update checks, "
        f"{found.first_day.isoformat()} to {found.last_day.isoformat()} (UTC)",
        markup=False,
    )
    largest = max((d.downloads for d in found.days), default=0)
    grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    grid.add_column("day", no_wrap=True)
    grid.add_column("downloads", justify="right", no_wrap=True)
    grid.add_column("", no_wrap=True, style="cyan")
    grid.add_column("checks", justify="right", no_wrap=True)
    for day in found.days:
        grid.add_row(
            day.day.isoformat(), str(day.downloads), bar(day.downloads, largest), str(sum(day.checks.values()))
        )
    stdout.print(grid)
    _versions("Downloads by release", found.downloads_by_version)
    _versions("Versions in use (update checks)", found.checks_by_version)


def _versions(title: str, counts: list[VersionCount]) -> None:
    if not counts:
        return
    total = sum(c.count for c in counts)
    grid = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title_justify="left")
    grid.add_column("version", no_wrap=True)
    grid.add_column("count", justify="right", no_wrap=True)
    grid.add_column("share", justify="right", no_wrap=True)
    grid.add_column("", no_wrap=True, style="green")
    for c in counts:
        grid.add_row(c.version, str(c.count), f"{100 * c.count / total:.1f}%", bar(c.count, total, 30))
    stdout.print(grid)
