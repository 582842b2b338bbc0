"""Writers racing on one store: the first publish of an app, and rollbacks of one channel."""

from __future__ import annotations

import threading
from collections.abc import Callable

from dist.domain.enums import AuditAction
from dist.persistence.store import Store
from dist.services import apps, audit, channels, releases
from dist.services.releases import ArtifactSpec
from tests.services.conftest import ACTOR, Publish


def race(*calls: Callable[[], object]) -> list[BaseException]:
    """Run `calls` in threads released at the same moment; the errors they raised."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            call()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


def test_two_first_publishes_create_the_app_once(store: Store) -> None:
    sha = store.objects.put_stream([b"bytes"]).sha256

    def publish(version: str) -> Callable[[], object]:
        spec = [ArtifactSpec("a.bin", sha)]
        return lambda: releases.publish(store.uow(), app="raced", version=version, artifacts=spec, actor=ACTOR)

    assert race(publish("1.0.0"), publish("2.0.0")) == []
    assert [a.slug for a in apps.list_apps(store.uow())] == ["raced"]
    created = [e for e in audit.list_events(store.uow()) if e.action is AuditAction.APP_CREATED]
    assert len(created) == 1


def test_concurrent_rollbacks_each_pop_one_release(store: Store, publish: Publish) -> None:
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        publish(version, channel="beta")

    def rollback() -> object:
        return channels.rollback(store.uow(), app="demo", channel="beta", actor=ACTOR)

    assert race(rollback, rollback) == []
    history = channels.history(store.uow(), "demo", "beta")
    assert [(e.kind.value, e.version) for e in history[-2:]] == [("rollback", "1.1.0"), ("rollback", "1.0.0")]
    assert channels.get_channel(store.uow(), "demo", "beta")[0].release == "1.0.0"
