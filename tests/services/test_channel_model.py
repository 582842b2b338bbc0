"""Random promote/rollback/yank sequences through the services match an in-memory model of the channel stack.

Each example works on an app of its own in the one store of the test, so it runs on PostgreSQL too.
"""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dist.domain.errors import DistError
from dist.persistence.uow import UnitOfWork
from dist.services import audit, channels, releases
from tests.services.conftest import ACTOR, Publish

VERSIONS = ["1.0.0", "1.1.0", "2.0.0"]
apps_made = itertools.count()


class ChannelModel:
    """One channel's stack as docs/concepts.md describes it."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.yanked: set[str] = set()

    def promote(self, version: str) -> str | None:
        if version in self.yanked:
            return "release.yanked"
        if self.stack and self.stack[-1] == version:
            return "channel.unchanged"
        self.stack.append(version)
        return None

    def rollback(self, to: str | None) -> str | None:
        if not self.stack:
            return "channel.not_found"
        below = self.stack[:-1]
        if to is None:
            while below and below[-1] in self.yanked:
                below.pop()
            if not below:
                return "channel.nothing_to_roll_back"
        elif to == self.stack[-1]:
            return "channel.unchanged"
        elif to not in below:
            return "channel.not_in_history"
        elif to in self.yanked:
            return "release.yanked"
        else:
            while below[-1] != to:
                below.pop()
        self.stack = below
        return None

    def yank(self, version: str) -> str | None:
        if version in self.yanked:
            return "release.already_yanked"
        if self.stack and self.stack[-1] == version:
            return "release.in_use"
        self.yanked.add(version)
        return None


operations = st.lists(
    st.tuples(st.sampled_from(["promote", "rollback", "yank"]), st.one_of(st.none(), st.sampled_from(VERSIONS))),
    min_size=1,
    max_size=14,
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(operations)
def test_services_match_the_model(uow: UnitOfWork, publish: Publish, ops: list[tuple[str, str | None]]) -> None:
    app = f"model-{next(apps_made)}"
    for version in VERSIONS:
        publish(version, app=app)
    model = ChannelModel()
    events = len(audit.list_events(uow, app=app))
    for op, version in ops:
        if op == "promote":
            expected = model.promote(version or VERSIONS[0])
        elif op == "yank":
            expected = model.yank(version or VERSIONS[-1])
        else:
            expected = model.rollback(version)
        try:
            if op == "promote":
                channels.promote(uow, app=app, channel="beta", version=version or VERSIONS[0], actor=ACTOR)
            elif op == "yank":
                releases.yank(uow, app=app, version=version or VERSIONS[-1], actor=ACTOR)
            else:
                channels.rollback(uow, app=app, channel="beta", to=version, actor=ACTOR)
            actual = None
        except DistError as refused:
            actual = refused.code
        assert actual == expected, (op, version)
        events += expected is None
        assert len(audit.list_events(uow, app=app)) == events
        if model.stack:
            assert channels.get_channel(uow, app, "beta")[0].release == model.stack[-1]
