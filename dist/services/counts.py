"""Download counts and update checks: written in batches, read back as an app's stats."""

from __future__ import annotations

from datetime import date

from dist.domain.counts import Stats, Tally, build_stats, day_range, parse_stats_days
from dist.persistence.uow import UnitOfWork
from dist.services import apps


def record(uow: UnitOfWork, tally: Tally) -> None:
    """Add a batch of counts to the store in one transaction (adding to what other processes wrote)."""
    if not tally:
        return
    with uow.write():
        uow.counts.add(tally)
        uow.commit()


def stats(uow: UnitOfWork, app: str, *, days: int, today: date | None = None) -> Stats:
    """`app`'s downloads and update checks of the last `days` UTC days (today included); `app.not_found`."""
    parse_stats_days(days)
    last_day = today or uow.clock().date()
    first_day = day_range(last_day, days)[0]
    with uow.read():
        found = apps.require(uow, app)
        assert found.id is not None
        downloads = uow.counts.downloads_by_day(found.id, first_day)
        checks = uow.counts.checks_by_day(found.id, first_day)
    return build_stats(app, last_day, days, downloads, checks)
