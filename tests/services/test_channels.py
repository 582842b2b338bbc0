"""Promote, rollback and yank through the services, on a real database."""

from __future__ import annotations

import pytest

from dist.domain.enums import AuditAction, ReleaseStatus
from dist.domain.errors import DistError
from dist.persistence.store import Store
from dist.persistence.uow import UnitOfWork
from dist.services import audit, channels, releases, rollouts
from dist.services.releases import ArtifactSpec
from tests.services.conftest import ACTOR, Publish, refused, row_counts


def serves(uow: UnitOfWork, channel: str, app: str = "demo") -> str | None:
    return channels.get_channel(uow, app, channel)[0].release


def stack_of(uow: UnitOfWork, channel: str) -> list[tuple[str, str]]:
    return [(e.kind.value, e.version) for e in channels.history(uow, "demo", channel)]


def test_promote_by_version_and_from_another_channel(uow: UnitOfWork, publish: Publish) -> None:
    publish("1.0.0", channel="beta")
    publish("1.1.0", channel="beta")
    promoted = channels.promote(uow, app="demo", channel="stable", from_channel="beta", actor="token:3")
    assert (promoted.name, promoted.release) == ("stable", "1.1.0")
    channels.promote(uow, app="demo", channel="stable", version="1.0.0", actor=ACTOR)
    assert serves(uow, "stable") == "1.0.0" and serves(uow, "beta") == "1.1.0"
    assert [(e.kind.value, e.version, e.actor) for e in channels.history(uow, "demo", "stable")] == [
        ("promote", "1.1.0", "token:3"),
        ("promote", "1.0.0", ACTOR),
    ]
    assert [c.name for c in channels.list_channels(uow, "demo")] == ["beta", "stable"]
    last = audit.list_events(uow)[-1]
    assert (last.action, last.target, last.detail["from"]) == (AuditAction.CHANNEL_PROMOTED, "stable", "1.1.0")


def test_promote_refusals_change_nothing(store: Store, uow: UnitOfWork, publish: Publish) -> None:
    publish("1.0.0", channel="beta")
    publish("1.1.0")
    channels.promote(uow, app="demo", channel="candidate", version="1.1.0", actor=ACTOR)
    before = row_counts(store)
    cases = [
        ("channel.unchanged", "conflict", dict(channel="beta", version="1.0.0")),
        ("channel.unchanged", "conflict", dict(channel="beta", from_channel="beta")),
        ("release.not_found", "not_found", dict(channel="beta", version="9.9.9")),
        ("channel.not_found", "not_found", dict(channel="stable", from_channel="nightly")),
        ("app.not_found", "not_found", dict(app="ghost", channel="beta", version="1.0.0")),
        ("promote.invalid_arguments", "invalid", dict(channel="beta")),
        ("promote.invalid_arguments", "invalid", dict(channel="beta", version="1.1.0", from_channel="candidate")),
        ("channel.invalid_name", "invalid", dict(channel="Beta", version="1.1.0")),
    ]
    for code, kind, arguments in cases:
        arguments.setdefault("app", "demo")
        error = refused(lambda arguments=arguments: channels.promote(uow, actor=ACTOR, **arguments))
        assert (error.code, error.kind) == (code, kind), arguments
    assert row_counts(store) == before
    assert serves(uow, "beta") == "1.0.0"


def test_a_yanked_release_cannot_be_promoted(store: Store, uow: UnitOfWork, publish: Publish) -> None:
    publish("1.0.0")
    releases.yank(uow, app="demo", version="1.0.0", actor=ACTOR)
    before = row_counts(store)
    assert refused(lambda: channels.promote(uow, app="demo", channel="stable", version="1.0.0", actor=ACTOR)).code == (
        "release.yanked"
    )
    assert row_counts(store) == before


def test_rollback_undoes_promotes_like_a_stack(store: Store, uow: UnitOfWork, publish: Publish) -> None:
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        publish(version, channel="beta")
    assert channels.rollback(uow, app="demo", channel="beta", actor=ACTOR).release == "1.1.0"
    channels.promote(uow, app="demo", channel="beta", version="1.2.0", actor=ACTOR)
    assert channels.rollback(uow, app="demo", channel="beta", actor=ACTOR).release == "1.1.0"
    assert channels.rollback(uow, app="demo", channel="beta", actor=ACTOR).release == "1.0.0"
    before = row_counts(store)
    error = refused(lambda: channels.rollback(uow, app="demo", channel="beta", actor=ACTOR))
    assert (error.code, error.kind) == ("channel.nothing_to_roll_back", "conflict")
    assert row_counts(store) == before
    assert stack_of(uow, "beta") == [
        ("promote", "1.0.0"),
        ("promote", "1.1.0"),
        ("promote", "1.2.0"),
        ("rollback", "1.1.0"),
        ("promote", "1.2.0"),
        ("rollback", "1.1.0"),
        ("rollback", "1.0.0"),
    ]
    rolled = [e for e in audit.list_events(uow) if e.action is AuditAction.CHANNEL_ROLLED_BACK]
    assert [(e.target, e.detail["from"], e.detail["channel"]["release"]) for e in rolled] == [
        ("beta", "1.2.0", "1.1.0"),
        ("beta", "1.2.0", "1.1.0"),
        ("beta", "1.1.0", "1.0.0"),
    ]


def test_rollback_to_a_version(store: Store, uow: UnitOfWork, publish: Publish) -> None:
    for version in ("1.0.0", "1.1.0", "1.2.0", "1.3.0"):
        publish(version, channel="beta")
    publish("2.0.0")
    before = row_counts(store)
    for to, code in [
        ("2.0.0", "channel.not_in_history"),
        ("1.3.0", "channel.unchanged"),
        ("3.0.0", "release.not_found"),
    ]:
        assert (
            refused(lambda to=to: channels.rollback(uow, app="demo", channel="beta", to=to, actor=ACTOR)).code == code
        )
    assert row_counts(store) == before
    assert channels.rollback(uow, app="demo", channel="beta", to="1.1.0", actor=ACTOR).release == "1.1.0"
    assert channels.rollback(uow, app="demo", channel="beta", actor=ACTOR).release == "1.0.0"
    assert refused(lambda: channels.rollback(uow, app="demo", channel="beta", to="1.2.0", actor=ACTOR)).code == (
        "channel.not_in_history"
    )


def test_rollback_never_lands_on_a_yanked_release(uow: UnitOfWork, publish: Publish) -> None:
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        publish(version, channel="beta")
    releases.yank(uow, app="demo", version="1.1.0", actor=ACTOR)
    assert refused(lambda: channels.rollback(uow, app="demo", channel="beta", to="1.1.0", actor=ACTOR)).code == (
        "release.yanked"
    )
    assert channels.rollback(uow, app="demo", channel="beta", actor=ACTOR).release == "1.0.0"


def test_rollback_past_yanked_entries_onto_the_release_served_ends_the_stack(uow: UnitOfWork, publish: Publish) -> None:
    publish("1.0.0", channel="beta")
    publish("1.1.0", channel="beta")
    channels.promote(uow, app="demo", channel="beta", version="1.0.0", actor=ACTOR)
    releases.yank(uow, app="demo", version="1.1.0", actor=ACTOR)
    assert channels.rollback(uow, app="demo", channel="beta", actor=ACTOR).release == "1.0.0"
    assert refused(lambda: channels.rollback(uow, app="demo", channel="beta", actor=ACTOR)).code == (
        "channel.nothing_to_roll_back"
    )


def test_rollback_of_an_unknown_channel(uow: UnitOfWork, publish: Publish) -> None:
    publish("1.0.0")
    assert refused(lambda: channels.rollback(uow, app="demo", channel="beta", actor=ACTOR)).code == "channel.not_found"


def test_yank_refuses_a_release_in_use_until_rolled_back(store: Store, uow: UnitOfWork, publish: Publish) -> None:
    publish("1.0.0", channel="stable")
    publish("1.1.0", channel="stable")
    channels.promote(uow, app="demo", channel="beta", version="1.1.0", actor=ACTOR)
    before = row_counts(store)
    error = refused(lambda: releases.yank(uow, app="demo", version="1.1.0", actor=ACTOR))
    assert (error.code, error.kind) == ("release.in_use", "conflict")
    assert "beta" in error.message and "stable" in error.message
    assert row_counts(store) == before
    channels.rollback(uow, app="demo", channel="stable", actor=ACTOR)
    channels.promote(uow, app="demo", channel="beta", version="1.0.0", actor=ACTOR)
    yanked = releases.yank(uow, app="demo", version="1.1.0", actor=ACTOR)
    assert yanked.status is ReleaseStatus.YANKED
    # Still there by its exact version, yanked.
    assert releases.get_release(uow, "demo", "1.1.0").status is ReleaseStatus.YANKED
    assert refused(lambda: releases.yank(uow, app="demo", version="1.1.0", actor=ACTOR)).code == (
        "release.already_yanked"
    )
    assert refused(lambda: releases.yank(uow, app="demo", version="7.0.0", actor=ACTOR)).code == "release.not_found"
    last = audit.list_events(uow)[-1]
    assert (last.action, last.app, last.target) == (AuditAction.RELEASE_YANKED, "demo", "1.1.0")


def test_history_is_appended_never_rewritten(uow: UnitOfWork, publish: Publish) -> None:
    publish("1.0.0", channel="beta")
    publish("1.1.0", channel="beta")
    first = channels.history(uow, "demo", "beta")
    channels.rollback(uow, app="demo", channel="beta", actor=ACTOR)
    channels.promote(uow, app="demo", channel="beta", version="1.1.0", actor=ACTOR)
    after = channels.history(uow, "demo", "beta")
    assert after[: len(first)] == first and len(after) == 4
    assert refused(lambda: channels.history(uow, "demo", "nope")).code == "channel.not_found"


def test_the_base_of_a_rollout_cannot_be_yanked(uow: UnitOfWork, store: Store) -> None:
    sha = store.objects.put_stream([b"bytes"]).sha256
    for version in ("1.0.0", "2.0.0"):
        releases.publish(uow, app="demo", version=version, artifacts=[ArtifactSpec("a.bin", sha)], actor="t")
    channels.promote(uow, app="demo", channel="stable", version="1.0.0", actor="t")
    channels.promote(uow, app="demo", channel="stable", version="2.0.0", rollout_percent=50, actor="t")
    with pytest.raises(DistError) as refused:
        releases.yank(uow, app="demo", version="1.0.0", actor="t")
    assert refused.value.code == "release.in_use"
    # Complete, the rollout serves the base to nobody.
    rollouts.change(uow, app="demo", channel="stable", action="complete", actor="t")
    assert releases.yank(uow, app="demo", version="1.0.0", actor="t").status.value == "yanked"
