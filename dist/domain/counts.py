"""Download counts and update checks: tallied in memory as they happen, added to the store in batches.

A download is a GET that starts at byte 0 (a resumed download is the same download); it counts for the artifact
asked for by release and file name, or for the blob asked for by sha256. An update check counts for the version
the client says it runs, so that the checks of a day say which versions are out there.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from dist.domain.errors import Invalid
from dist.domain.values import Version, whole_number

MAX_STATS_DAYS = 366
DEFAULT_STATS_DAYS = 30


def counts_download(status: int, first_byte: int | None) -> bool:
    """Whether an answer to a GET of a download is a download: the whole file, or a range from its first byte."""
    return status == 200 or (status == 206 and first_byte == 0)


@dataclass(slots=True)
class Tally:
    """What was counted since the last flush, by what and UTC day."""

    artifacts: Counter[tuple[int, date]] = field(default_factory=Counter)
    blobs: Counter[tuple[str, date]] = field(default_factory=Counter)
    checks: Counter[tuple[str, str, str, date]] = field(default_factory=Counter)

    def __bool__(self) -> bool:
        return bool(self.artifacts or self.blobs or self.checks)

    def download_artifact(self, artifact_id: int, day: date) -> None:
        self.artifacts[artifact_id, day] += 1

    def download_blob(self, sha256: str, day: date) -> None:
        self.blobs[sha256, day] += 1

    def check(self, app: str, channel: str, version: str, day: date) -> None:
        self.checks[app, channel, version, day] += 1

    def take(self) -> Tally:
        """Everything counted so far, leaving this tally empty."""
        taken = Tally(self.artifacts, self.blobs, self.checks)
        self.artifacts, self.blobs, self.checks = Counter(), Counter(), Counter()
        return taken

    def add(self, other: Tally) -> None:
        """Put back a batch that could not be written, to go with the next one."""
        self.artifacts.update(other.artifacts)
        self.blobs.update(other.blobs)
        self.checks.update(other.checks)


def parse_stats_days(value: int | str) -> int:
    number = whole_number(value)
    if number is None or not 1 <= number <= MAX_STATS_DAYS:
        raise Invalid("stats.invalid_days", f"days must be a whole number from 1 to {MAX_STATS_DAYS}")
    return number


@dataclass(frozen=True, slots=True)
class VersionCount:
    version: str
    count: int


@dataclass(frozen=True, slots=True)
class DayCounts:
    """One UTC day: downloads of the app's files, and update checks by the version the client ran."""

    day: date
    downloads: int
    checks: dict[str, int]


@dataclass(frozen=True, slots=True)
class Stats:
    app: str
    first_day: date
    last_day: date
    days: list[DayCounts]
    # Downloads in the period by release, and update checks in the period by the version clients ran.
    downloads_by_version: list[VersionCount]
    checks_by_version: list[VersionCount]

    @property
    def downloads(self) -> int:
        return sum(d.downloads for d in self.days)

    @property
    def checks(self) -> int:
        return sum(sum(d.checks.values()) for d in self.days)


def day_range(last_day: date, days: int) -> list[date]:
    """The `days` days that end with `last_day`, oldest first."""
    return [last_day - timedelta(days=n) for n in range(days - 1, -1, -1)]


def build_stats(
    app: str,
    last_day: date,
    days: int,
    downloads: list[tuple[date, str, int]],
    checks: list[tuple[date, str, int]],
) -> Stats:
    """Stats of `app` from its counted rows (day, version, count), days without counts included as zeros; the
    per-version lists newest version first."""
    calendar = day_range(last_day, days)
    by_day: dict[date, int] = dict.fromkeys(calendar, 0)
    checks_by_day: dict[date, Counter[str]] = {d: Counter() for d in calendar}
    downloaded: Counter[str] = Counter()
    checked: Counter[str] = Counter()
    for day, version, count in downloads:
        if day in by_day:
            by_day[day] += count
            downloaded[version] += count
    for day, version, count in checks:
        if day in checks_by_day:
            checks_by_day[day][version] += count
            checked[version] += count

    def ordered(counter: Counter[str]) -> list[VersionCount]:
        names = sorted(counter, key=lambda v: (Version.parse(v).precedence_key(), v), reverse=True)
        return [VersionCount(v, counter[v]) for v in names if counter[v]]

    return Stats(
        app=app,
        first_day=calendar[0],
        last_day=last_day,
        days=[DayCounts(d, by_day[d], dict(sorted(checks_by_day[d].items()))) for d in calendar],
        downloads_by_version=ordered(downloaded),
        checks_by_version=ordered(checked),
    )
