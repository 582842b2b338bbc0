"""The audit log: exactly one event per mutation, in order, none for a refusal."""

from __future__ import annotations

from dist.domain.enums import AuditAction
from dist.persistence.uow import UnitOfWork
from dist.services import apps, audit, channels, releases, tokens
from tests.conftest import Clock
from tests.services.conftest import ACTOR, Publish, refused


def test_one_event_per_mutation_in_order_none_for_refusals(uow: UnitOfWork, publish: Publish, clock: Clock) -> None:
    steps = [
        (lambda: apps.create_app(uow, slug="other", actor=ACTOR), [AuditAction.APP_CREATED]),
        (
            lambda: publish("1.0.0", channel="beta"),
            [AuditAction.APP_CREATED, AuditAction.RELEASE_PUBLISHED, AuditAction.CHANNEL_PROMOTED],
        ),
        (lambda: publish("1.1.0"), [AuditAction.RELEASE_PUBLISHED]),
        (
            lambda: channels.promote(uow, app="demo", channel="beta", version="1.1.0", actor=ACTOR),
            [AuditAction.CHANNEL_PROMOTED],
        ),
        (lambda: channels.rollback(uow, app="demo", channel="beta", actor=ACTOR), [AuditAction.CHANNEL_ROLLED_BACK]),
        (lambda: releases.yank(uow, app="demo", version="1.1.0", actor=ACTOR), [AuditAction.RELEASE_YANKED]),
        (lambda: tokens.create_token(uow, name="ci", scopes=["publish"], actor=ACTOR), [AuditAction.TOKEN_CREATED]),
        (lambda: tokens.revoke_token(uow, token_id=1, actor=ACTOR), [AuditAction.TOKEN_REVOKED]),
    ]
    refusals = [
        lambda: apps.create_app(uow, slug="other", actor=ACTOR),
        lambda: publish("1.0.0"),
        lambda: channels.promote(uow, app="demo", channel="beta", version="1.0.0", actor=ACTOR),
        lambda: channels.rollback(uow, app="demo", channel="beta", actor=ACTOR),
        lambda: releases.yank(uow, app="demo", version="1.0.0", actor=ACTOR),
        lambda: tokens.revoke_token(uow, token_id=1, actor=ACTOR),
    ]
    expected: list[AuditAction] = []
    for step, actions in steps:
        clock.advance(seconds=1)
        step()
        expected += actions
        assert [e.action for e in audit.list_events(uow)] == expected
    for refusal in refusals:
        refused(refusal)
        assert [e.action for e in audit.list_events(uow)] == expected
    events = audit.list_events(uow)
    assert [e.id for e in events] == sorted(e.id for e in events if e.id is not None)
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert all(e.at.utcoffset() is not None for e in events)


def test_listing_filters_by_app_and_keeps_the_newest(uow: UnitOfWork, publish: Publish) -> None:
    publish("1.0.0", app="one")
    publish("1.0.0", app="two")
    publish("1.1.0", app="one")
    assert [(e.app, e.target) for e in audit.list_events(uow, app="one")] == [
        ("one", "one"),
        ("one", "1.0.0"),
        ("one", "1.1.0"),
    ]
    assert [(e.app, e.target) for e in audit.list_events(uow, limit=2)] == [("two", "1.0.0"), ("one", "1.1.0")]
    assert refused(lambda: audit.list_events(uow, limit=0)).code == "audit.invalid_limit"
