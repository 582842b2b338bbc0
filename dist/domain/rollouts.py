"""Staged rollouts: the share of a channel's clients that get its newest release R, the rest getting the base B.

The share is a pure function of the stored schedule, its halts and `now`, so every process that reads the
same row gives the same answer at the same instant, and no job has to move it.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from dist.domain.errors import Conflict, Invalid, PreconditionFailed

BUCKETS = 10_000
MIN_INTERVAL = timedelta(minutes=1)
MAX_INTERVAL = timedelta(days=366)
MAX_STEPS = 100
INTERVAL_RE = re.compile(r"([0-9]{1,9})([smhd])")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# The value of a precondition (`--expect`, If-Match) that names an empty channel; no version is spelled so.
EMPTY = "none"
MAX_CLIENT_ID_LENGTH = 200


class RolloutState(enum.StrEnum):
    ROLLING = "rolling"
    HALTED = "halted"
    COMPLETE = "complete"


class RolloutAction(enum.StrEnum):
    SET = "set"
    HALT = "halt"
    RESUME = "resume"
    COMPLETE = "complete"


@dataclass(frozen=True, slots=True)
class Schedule:
    """Percent `steps`, the first from `started_at`, the next every `every` (None: one fixed percent). While
    `halted_at` is set the share stays where it was then; `halted_for` is the time spent halted before."""

    steps: tuple[int, ...]
    every: timedelta | None
    started_at: datetime
    halted_at: datetime | None = None
    halted_for: timedelta = timedelta(0)

    @property
    def is_ramp(self) -> bool:
        return self.every is not None


@dataclass(slots=True)
class Rollout:
    """The rollout of a channel's newest release `version` (R) over `base` (B), the release a rollback returns to."""

    version: str
    base: str
    schedule: Schedule
    release_id: int | None = None
    base_id: int | None = None


def fixed(percent: int, now: datetime) -> Schedule:
    return Schedule((parse_percent(percent),), None, now)


def ramp(steps: Sequence[int], every: timedelta, now: datetime) -> Schedule:
    return Schedule(tuple(parse_ramp(steps)), every, now)


def _step(schedule: Schedule, now: datetime) -> int:
    if schedule.every is None:
        return 0
    moving_until = schedule.halted_at if schedule.halted_at is not None else now
    elapsed = moving_until - schedule.started_at - schedule.halted_for
    if elapsed < timedelta(0):
        return 0
    return min(len(schedule.steps) - 1, elapsed // schedule.every)


def effective_percent(schedule: Schedule, now: datetime) -> int:
    """The share of clients, in percent, that get the new release at `now`."""
    return schedule.steps[_step(schedule, now)]


def state(schedule: Schedule, now: datetime) -> RolloutState:
    if effective_percent(schedule, now) >= 100:
        return RolloutState.COMPLETE
    if schedule.halted_at is not None:
        return RolloutState.HALTED
    return RolloutState.ROLLING


def next_step_at(schedule: Schedule, now: datetime) -> datetime | None:
    """When the share next grows by itself; None when it never will (a fixed percent, halted, or complete)."""
    if schedule.every is None or schedule.halted_at is not None:
        return None
    step = _step(schedule, now)
    if step >= len(schedule.steps) - 1:
        return None
    return schedule.started_at + schedule.halted_for + schedule.every * (step + 1)


def halt(schedule: Schedule, now: datetime) -> Schedule:
    """Freeze the share where it is at `now`."""
    current = state(schedule, now)
    if current is RolloutState.COMPLETE:
        raise Conflict("rollout.not_rolling", "the rollout is complete: nothing rolls to halt")
    if current is RolloutState.HALTED:
        raise Conflict("rollout.already_halted", "the rollout is halted already")
    return replace(schedule, halted_at=now)


def resume(schedule: Schedule, now: datetime) -> Schedule:
    """Let the schedule continue from where it froze: the halted time does not count."""
    if schedule.halted_at is None:
        raise Conflict("rollout.not_halted", "the rollout is not halted")
    return replace(
        schedule, halted_at=None, halted_for=schedule.halted_for + max(timedelta(0), now - schedule.halted_at)
    )


def set_percent(schedule: Schedule, percent: int, now: datetime) -> Schedule:
    """A fixed share from now on (the ramp, if any, ends here)."""
    parse_percent(percent)
    if state(schedule, now) is RolloutState.COMPLETE:
        raise Conflict("rollout.not_rolling", "the rollout is complete; promote or roll back to change the channel")
    return fixed(percent, now)


def complete(schedule: Schedule, now: datetime) -> Schedule:
    if state(schedule, now) is RolloutState.COMPLETE:
        raise Conflict("rollout.not_rolling", "the rollout is complete already")
    return fixed(100, now)


def bucket(app: str, channel: str, version: str, client_id: str) -> int:
    """The client's bucket, 0 to 9999: stable for one release on one channel, independent across releases."""
    digest = hashlib.sha256("\x00".join((app, channel, version, client_id)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def gets_new_release(percent: int, app: str, channel: str, version: str, client_id: str | None) -> bool:
    """Whether a client is in the share: every client at 100, none without an id below it."""
    if percent >= 100:
        return True
    if not client_id:
        return False
    return bucket(app, channel, version, client_id) < percent * (BUCKETS // 100)


def serve(schedule: Schedule, now: datetime, *, app: str, channel: str, version: str, client_id: str | None) -> bool:
    """True: the client gets the new release R; False: the base B."""
    return gets_new_release(effective_percent(schedule, now), app, channel, version, client_id)


def parse_percent(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise Invalid("rollout.invalid_percent", f"a rollout percent is a whole number from 1 to 100, not {value!r}")
    return value


def parse_percent_text(text: str) -> int:
    stripped = text.strip().removesuffix("%")
    if not stripped.isascii() or not stripped.isdigit():
        raise Invalid("rollout.invalid_percent", f"a rollout percent is a whole number from 1 to 100, not {text!r}")
    return parse_percent(int(stripped))


def parse_ramp(steps: Sequence[object]) -> list[int]:
    """Rising percent steps, each 1 to 100, the last 100."""
    if isinstance(steps, str) or not 1 <= len(steps) <= MAX_STEPS:
        raise Invalid("rollout.invalid_ramp", f"a ramp is 1 to {MAX_STEPS} rising percents ending at 100")
    parsed: list[int] = []
    for step in steps:
        if isinstance(step, bool) or not isinstance(step, int) or not 1 <= step <= 100:
            raise Invalid("rollout.invalid_ramp", f"each step of a ramp is a percent from 1 to 100, not {step!r}")
        if parsed and step <= parsed[-1]:
            raise Invalid("rollout.invalid_ramp", f"a ramp rises: {step} comes after {parsed[-1]}")
        parsed.append(step)
    if parsed[-1] != 100:
        raise Invalid("rollout.invalid_ramp", f"a ramp ends at 100, not {parsed[-1]}")
    return parsed


def parse_ramp_text(text: str) -> list[int]:
    """`1,10,50,100` as the CLI takes it."""
    parts = [p.strip().removesuffix("%") for p in text.split(",")]
    if not all(p.isascii() and p.isdigit() for p in parts):
        raise Invalid("rollout.invalid_ramp", f"a ramp is percents separated by commas (1,10,50,100), not {text!r}")
    return parse_ramp([int(p) for p in parts])


def parse_interval(text: object) -> timedelta:
    """`90s`, `30m`, `24h`, `1d`: at least a minute, at most a year."""
    match = INTERVAL_RE.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise Invalid("rollout.invalid_interval", f"an interval is a number and s, m, h or d (24h, 30m), not {text!r}")
    interval = timedelta(seconds=int(match.group(1)) * UNITS[match.group(2)])
    if interval < MIN_INTERVAL:
        raise Invalid("rollout.invalid_interval", f"the interval between steps is a minute at least, not {text!r}")
    if interval > MAX_INTERVAL:
        raise Invalid("rollout.invalid_interval", f"the interval between steps is a year at most, not {text!r}")
    return interval


def render_interval(interval: timedelta) -> str:
    """The interval in the largest unit that divides it, days excepted (24h reads better than 1d)."""
    seconds = int(interval.total_seconds())
    for unit in ("h", "m"):
        if seconds % UNITS[unit] == 0:
            return f"{seconds // UNITS[unit]}{unit}"
    return f"{seconds}s"


def parse_client_id(value: str | None) -> str | None:
    """A client id as sent; blank is none. Too long is refused rather than cut (two ids would collide)."""
    if value is None or not value.strip():
        return None
    if len(value) > MAX_CLIENT_ID_LENGTH:
        raise Invalid("rollout.invalid_client", f"a client id is at most {MAX_CLIENT_ID_LENGTH} characters")
    return value.strip()


def parse_expect(value: str | None) -> str | None:
    """A precondition's version: an If-Match header (`"1.2.0"`, `W/"1.2.0"`, `"none"`, `*`) or the CLI's text.
    None when there is none to check (`*`: any current state)."""
    if value is None:
        return None
    tags = [t.strip() for t in value.split(",") if t.strip()]
    if not tags or "*" in tags:
        return None
    tag = tags[0].removeprefix("W/")
    if len(tag) >= 2 and tag[0] == tag[-1] == '"':
        tag = tag[1:-1]
    return tag


def check_expected(expected: str | None, current: str | None) -> None:
    """Refuse a channel move whose precondition does not hold: the channel must serve `expected` (EMPTY:
    nothing)."""
    if expected is None:
        return
    if expected != (current if current is not None else EMPTY):
        now_serving = current if current is not None else "nothing"
        raise PreconditionFailed(
            "channel.precondition_failed", f"the channel serves {now_serving}, not {expected}: read it again and decide"
        )


def channel_etag(current: str | None) -> str:
    return f'"{current if current is not None else EMPTY}"'


def schedule_as_rendered(
    *,
    percent: int,
    steps: Sequence[int] | None,
    every: str | None,
    state: RolloutState,
    next_step: datetime | None,
    now: datetime,
) -> Schedule:
    """A schedule that renders at `now` as a rollout was rendered (percent, ramp, every, state, next step):
    what a remote client rebuilds from an answer, so that it shows a rollout exactly as the server does."""
    if steps is None or every is None:
        return Schedule((percent,), None, now, halted_at=now if state is RolloutState.HALTED else None)
    interval = parse_interval(every)
    step = steps.index(percent) if percent in steps else 0
    if next_step is not None:
        return Schedule(tuple(steps), interval, next_step - interval * (step + 1))
    started = now - interval * step
    return Schedule(tuple(steps), interval, started, halted_at=now if state is RolloutState.HALTED else None)
