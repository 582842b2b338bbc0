"""The rollback stack of docs/concepts.md (rules.replay and rules.rollback_target) against a plain model.

The model keeps the stack itself: promote pushes; rollback pops the top, then pops past yanked entries;
rollback --to pops until that release is on top. The rules instead rebuild the stack from the channel's
events each time, as the services do, so the two are checked against each other over random histories.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dist.domain.enums import ChannelEventKind
from dist.domain.errors import DistError
from dist.domain.rules import replay, rollback_target

PROMOTE, ROLLBACK = ChannelEventKind.PROMOTE, ChannelEventKind.ROLLBACK
RELEASES = range(1, 4)


class Model:
    def __init__(self) -> None:
        self.stack: list[int] = []
        self.yanked: set[int] = set()

    def promote(self, release: int) -> str | None:
        if release in self.yanked:
            return "release.yanked"
        if self.stack and self.stack[-1] == release:
            return "channel.unchanged"
        self.stack.append(release)
        return None

    def rollback(self) -> str | None:
        rest = self.stack[:-1]
        while rest and rest[-1] in self.yanked:
            rest.pop()
        if not rest:
            return "channel.nothing_to_roll_back"
        self.stack = rest
        return None

    def rollback_to(self, release: int) -> str | None:
        if self.stack and self.stack[-1] == release:
            return "channel.unchanged"
        if release in self.yanked:
            return "release.yanked"
        if release not in self.stack[:-1]:
            return "channel.not_in_history"
        self.stack.pop()
        while self.stack[-1] != release:
            self.stack.pop()
        return None

    def yank(self, release: int) -> str | None:
        # A release a channel serves cannot be yanked.
        if self.stack and self.stack[-1] == release:
            return "release.in_use"
        self.yanked.add(release)
        return None


operations = st.lists(
    st.one_of(
        st.tuples(st.just("promote"), st.sampled_from(RELEASES)),
        st.tuples(st.just("rollback"), st.none()),
        st.tuples(st.just("rollback_to"), st.sampled_from(RELEASES)),
        st.tuples(st.just("yank"), st.sampled_from(RELEASES)),
    ),
    max_size=30,
)


def _error(call: object) -> str | None:
    try:
        if callable(call):
            call()
    except DistError as refused:
        return refused.code
    return None


@settings(max_examples=1000)
@given(operations)
def test_rules_match_the_model(ops: list[tuple[str, int | None]]) -> None:
    model = Model()
    events: list[tuple[ChannelEventKind, int]] = []
    yanked: set[int] = set()
    for op, release in ops:
        stack = replay(events)
        if op == "promote":
            assert release is not None
            expected = model.promote(release)
            if expected is None:
                events.append((PROMOTE, release))
        elif op == "yank":
            assert release is not None
            expected = model.yank(release)
            if expected is None:
                yanked.add(release)
        else:
            expected = model.rollback() if op == "rollback" else model.rollback_to(release)  # type: ignore[arg-type]
            try:
                events.append((ROLLBACK, rollback_target(stack, yanked, release)))
                actual = None
            except DistError as refused:
                actual = refused.code
            assert actual == expected, (op, release)
        assert replay(events) == model.stack


def test_rollback_pops_past_yanked_releases() -> None:
    assert rollback_target([1, 2, 3, 4], yanked={2, 3}) == 1


def test_rollback_with_only_yanked_releases_below_has_nothing_to_roll_back_to() -> None:
    with pytest.raises(DistError) as refused:
        rollback_target([1, 2, 3], yanked={1, 2})
    assert refused.value.code == "channel.nothing_to_roll_back"


@pytest.mark.parametrize("stack", [[], [7]])
def test_nothing_below_the_top(stack: list[int]) -> None:
    with pytest.raises(DistError) as refused:
        rollback_target(stack, yanked=set())
    assert refused.value.code == "channel.nothing_to_roll_back"


def test_a_rollback_that_lands_on_an_earlier_promote_of_the_same_release_pops_both_entries() -> None:
    # 1, 2, 1 promoted; 2 yanked later. The rollback lands on the first 1, and the stack is [1]:
    # a second rollback has nothing left to roll back to.
    events = [(PROMOTE, 1), (PROMOTE, 2), (PROMOTE, 1)]
    target = rollback_target(replay(events), yanked={2})
    assert target == 1
    events.append((ROLLBACK, target))
    assert replay(events) == [1]


def test_rollback_to_a_release_that_is_not_below_the_top() -> None:
    with pytest.raises(DistError) as refused:
        rollback_target([1, 2], yanked=set(), to=3)
    assert refused.value.code == "channel.not_in_history"


def test_rollback_to_pops_until_the_release_is_on_top() -> None:
    events = [(PROMOTE, 1), (PROMOTE, 2), (PROMOTE, 3), (PROMOTE, 4)]
    events.append((ROLLBACK, rollback_target(replay(events), yanked=set(), to=2)))
    assert replay(events) == [1, 2]
