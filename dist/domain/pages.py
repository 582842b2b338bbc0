"""What a download page shows, gathered by the services and drawn by dist/pages."""

from __future__ import annotations

from dataclasses import dataclass

from dist.domain.counts import Stats
from dist.domain.entities import App, Channel, Release


@dataclass(frozen=True, slots=True)
class AppPage:
    """The channels serving a release (most stable first), a page of the app's releases (newest first), the
    cursor of the next page, whether this is the first page, and the last days' update checks."""

    app: App
    serving: list[tuple[Channel, Release]]
    releases: list[Release]
    next_cursor: str | None
    first_page: bool
    stats: Stats
