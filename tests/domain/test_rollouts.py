"""The rollout rules as pure functions: the share over time, halts, bucketing, and the values users type."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dist.domain import rollouts
from dist.domain.errors import DistError
from dist.domain.rollouts import RolloutState, Schedule

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def ramp_schedule() -> Schedule:
    return rollouts.ramp([1, 10, 50, 100], DAY, START)


def test_a_ramp_steps_once_per_interval_and_completes() -> None:
    schedule = ramp_schedule()
    seen = [rollouts.effective_percent(schedule, START + DAY * k + timedelta(hours=1)) for k in range(5)]
    assert seen == [1, 10, 50, 100, 100]
    assert rollouts.effective_percent(schedule, START + DAY - timedelta(microseconds=1)) == 1
    assert rollouts.effective_percent(schedule, START + DAY) == 10
    assert rollouts.next_step_at(schedule, START + timedelta(hours=3)) == START + DAY
    assert rollouts.next_step_at(schedule, START + DAY * 2) == START + DAY * 3
    assert rollouts.state(schedule, START) is RolloutState.ROLLING
    assert rollouts.state(schedule, START + DAY * 3) is RolloutState.COMPLETE
    assert rollouts.next_step_at(schedule, START + DAY * 3) is None


def test_a_halt_freezes_and_resume_continues_where_it_froze() -> None:
    halted = rollouts.halt(ramp_schedule(), START + DAY + timedelta(hours=6))
    assert rollouts.state(halted, START + DAY * 10) is RolloutState.HALTED
    assert rollouts.effective_percent(halted, START + DAY * 10) == 10
    assert rollouts.next_step_at(halted, START + DAY * 10) is None
    # Halted for 10 days minus 30 hours: the step to 50 comes 18 hours after resuming, as it would have.
    resumed = rollouts.resume(halted, START + DAY * 10)
    assert rollouts.effective_percent(resumed, START + DAY * 10) == 10
    assert rollouts.next_step_at(resumed, START + DAY * 10) == START + DAY * 10 + timedelta(hours=18)
    with pytest.raises(DistError) as refused:
        rollouts.resume(resumed, START + DAY * 11)
    assert refused.value.code == "rollout.not_halted"
    with pytest.raises(DistError) as twice:
        rollouts.halt(halted, START + DAY * 11)
    assert twice.value.code == "rollout.already_halted"


def test_set_complete_and_what_a_complete_rollout_refuses() -> None:
    fixed = rollouts.set_percent(ramp_schedule(), 25, START + DAY * 2)
    assert rollouts.effective_percent(fixed, START + DAY * 90) == 25
    assert rollouts.next_step_at(fixed, START + DAY * 90) is None
    done = rollouts.complete(fixed, START + DAY * 3)
    assert rollouts.state(done, START + DAY * 3) is RolloutState.COMPLETE
    for change in (rollouts.halt, rollouts.complete, lambda s, n: rollouts.set_percent(s, 5, n)):
        with pytest.raises(DistError) as refused:
            change(done, START + DAY * 4)
        assert refused.value.code == "rollout.not_rolling"


def test_bucketing_is_stable_and_depends_on_every_part() -> None:
    b = rollouts.bucket("demo", "stable", "1.2.0", "client-1")
    assert b == rollouts.bucket("demo", "stable", "1.2.0", "client-1")
    assert 0 <= b < 10_000
    others = {
        rollouts.bucket(*parts)
        for parts in [("demo", "beta", "1.2.0", "client-1"), ("x", "stable", "1.2.0", "client-1")]
    }
    assert len(others | {b}) == 3
    assert not rollouts.gets_new_release(99, "demo", "stable", "1.2.0", None)
    assert rollouts.gets_new_release(100, "demo", "stable", "1.2.0", None)


def test_the_share_of_two_thousand_clients_is_within_two_and_a_half_points() -> None:
    ids = [f"client-{i}" for i in range(2000)]
    for percent in (1, 10, 25, 50, 90):
        inside = sum(rollouts.gets_new_release(percent, "demo", "stable", "2.0.0", i) for i in ids)
        assert abs(inside / len(ids) * 100 - percent) <= 2.5, (percent, inside)


@pytest.mark.parametrize(
    ("text", "seconds"), [("24h", 86400), ("30m", 1800), ("90s", 90), ("1d", 86400), ("60s", 60), (" 2h ", 7200)]
)
def test_intervals(text: str, seconds: int) -> None:
    assert rollouts.parse_interval(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["59s", "0m", "", "24", "h", "1w", "1.5h", "-1h", "1h30m", "400d"])
def test_intervals_refused(text: str) -> None:
    with pytest.raises(DistError) as refused:
        rollouts.parse_interval(text)
    assert refused.value.code == "rollout.invalid_interval"


@pytest.mark.parametrize("steps", [[], [10, 50], [10, 10, 100], [50, 10, 100], [0, 100], [1, 101], [1, True, 100]])
def test_ramps_refused(steps: list[int]) -> None:
    with pytest.raises(DistError) as refused:
        rollouts.parse_ramp(steps)
    assert refused.value.code == "rollout.invalid_ramp"


def test_ramp_text_and_percents() -> None:
    assert rollouts.parse_ramp_text("1, 10,50,100") == [1, 10, 50, 100]
    assert rollouts.parse_percent_text("10%") == 10
    for bad in ("0", "101", "ten", "-5", "1.5"):
        with pytest.raises(DistError) as refused:
            rollouts.parse_percent_text(bad)
        assert refused.value.code == "rollout.invalid_percent"
    with pytest.raises(DistError) as refused:
        rollouts.parse_ramp_text("1,x,100")
    assert refused.value.code == "rollout.invalid_ramp"


def test_preconditions() -> None:
    assert rollouts.parse_expect('"1.2.0"') == "1.2.0"
    assert rollouts.parse_expect('W/"1.2.0"') == "1.2.0"
    assert rollouts.parse_expect("*") is None
    assert rollouts.channel_etag(None) == '"none"'
    rollouts.check_expected("none", None)
    rollouts.check_expected("1.2.0", "1.2.0")
    with pytest.raises(DistError) as refused:
        rollouts.check_expected("1.1.0", "1.2.0")
    assert (refused.value.code, refused.value.kind.value) == ("channel.precondition_failed", "precondition_failed")


steps_strategy = st.lists(st.integers(1, 100), min_size=1, max_size=8, unique=True).map(
    lambda s: [*sorted(s)[:-1], 100]
)
offsets = st.lists(st.integers(0, 40 * 86400), min_size=2, max_size=12).map(sorted)


@given(steps=steps_strategy, every=st.integers(60, 3 * 86400), times=offsets)
def test_the_share_never_decreases_without_a_write(steps: list[int], every: int, times: list[int]) -> None:
    schedule = rollouts.ramp(sorted(set(steps)), timedelta(seconds=every), START)
    seen = [rollouts.effective_percent(schedule, START + timedelta(seconds=t)) for t in times]
    assert seen == sorted(seen)
    for t in times:
        at = START + timedelta(seconds=t)
        following = rollouts.next_step_at(schedule, at)
        if following is not None:
            assert following > at
            assert rollouts.effective_percent(schedule, following) > rollouts.effective_percent(schedule, at)
            just_before = following - timedelta(microseconds=1)
            assert rollouts.effective_percent(schedule, just_before) == rollouts.effective_percent(schedule, at)


@given(steps=steps_strategy, every=st.integers(60, 86400), halt_at=st.integers(0, 10 * 86400), times=offsets)
def test_a_halted_rollout_never_moves(steps: list[int], every: int, halt_at: int, times: list[int]) -> None:
    schedule = rollouts.ramp(sorted(set(steps)), timedelta(seconds=every), START)
    halted_at = START + timedelta(seconds=halt_at)
    if rollouts.state(schedule, halted_at) is RolloutState.COMPLETE:
        return
    halted = rollouts.halt(schedule, halted_at)
    frozen = rollouts.effective_percent(schedule, halted_at)
    assert {rollouts.effective_percent(halted, halted_at + timedelta(seconds=t)) for t in times} == {frozen}
    later = halted_at + timedelta(seconds=times[-1])
    assert rollouts.effective_percent(rollouts.resume(halted, later), later) == frozen


@given(
    steps=steps_strategy,
    every=st.integers(60, 86400),
    times=offsets,
    client=st.text(min_size=1, max_size=40).filter(str.strip),
)
def test_a_client_never_flips_back_while_the_share_grows(
    steps: list[int], every: int, times: list[int], client: str
) -> None:
    schedule = rollouts.ramp(sorted(set(steps)), timedelta(seconds=every), START)
    answers = [
        rollouts.serve(
            schedule, START + timedelta(seconds=t), app="demo", channel="stable", version="2.0.0", client_id=client
        )
        for t in times
    ]
    # Once in, always in: the answers are some Falses then Trues.
    assert answers == sorted(answers)
