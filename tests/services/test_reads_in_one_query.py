"""The uncached reads behind the update check, a channel and the release list: what they answer, and that each
asks the database once when it finds something."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from dist.persistence.store import Store
from dist.persistence.uow import UnitOfWork
from dist.services import apps, channels, releases
from tests.services.conftest import ACTOR, Publish, refused

PLATFORMS = ("linux-x86_64", "darwin-aarch64", "any")


@contextmanager
def selects(store: Store) -> Iterator[list[str]]:
    """The SELECT statements sent to the database inside the block."""
    sent: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append(statement)

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)


def test_a_channel_comes_with_its_release_and_all_its_artifacts(
    store: Store, uow: UnitOfWork, publish: Publish
) -> None:
    publish("1.0.0", channel="stable", platforms=PLATFORMS)
    publish("2.0.0", channel="beta", platforms=("any",))
    # Another app's channel of the same name must not leak in.
    publish("9.0.0", app="other", channel="stable", platforms=("any",))
    with selects(store) as sent:
        channel, release = channels.get_channel(uow, "demo", "stable")
    assert len(sent) == 1
    assert (channel.app, channel.name, channel.release) == ("demo", "stable", "1.0.0")
    assert release is not None and (release.app, release.version) == ("demo", "1.0.0")
    assert [a.platform for a in release.artifacts] == list(PLATFORMS)
    assert release == releases.get_release(uow, "demo", "1.0.0")


def test_the_update_check_asks_once(store: Store, uow: UnitOfWork, publish: Publish) -> None:
    publish("1.0.0", channel="stable", platforms=PLATFORMS)
    with selects(store) as sent:
        found = channels.latest(uow, "demo", "stable", platform="darwin-aarch64", current="0.1.0")
    assert len(sent) == 1
    assert found is not None and (found[0].version, found[1].filename) == ("1.0.0", "demo-darwin-aarch64.bin")


def test_a_channel_of_an_app_without_it_or_of_no_app(uow: UnitOfWork, publish: Publish) -> None:
    publish("1.0.0", channel="stable")
    apps.create_app(uow, slug="bare", actor=ACTOR)
    cases = [
        (("ghost", "stable"), "app.not_found"),
        (("ghost", "NOT A NAME"), "app.not_found"),
        (("demo", "nightly"), "channel.not_found"),
        (("bare", "stable"), "channel.not_found"),
        (("Not A Slug", "stable"), "app.invalid_slug"),
    ]
    for (app, name), code in cases:
        assert refused(lambda: channels.get_channel(uow, app, name)).code == code, (app, name)  # noqa: B023
    assert refused(lambda: channels.get_channel(uow, "demo", "NOT A NAME")).code == "channel.invalid_name"


def test_pages_of_releases_carry_every_artifact_in_order(store: Store, uow: UnitOfWork, publish: Publish) -> None:
    for n in range(7):
        publish(f"1.{n}.0", platforms=PLATFORMS[: 1 + n % 3])
    publish("5.0.0", app="other")
    with selects(store) as sent:
        page, cursor = releases.list_releases(uow, "demo", limit=3)
    assert len(sent) == 1
    seen = [(r.version, [a.platform for a in r.artifacts]) for r in page]
    assert seen == [("1.6.0", ["linux-x86_64"]), ("1.5.0", list(PLATFORMS)), ("1.4.0", list(PLATFORMS[:2]))]
    assert all(r == releases.get_release(uow, "demo", r.version) for r in page)
    versions = [r.version for r in page]
    while cursor is not None:
        page, cursor = releases.list_releases(uow, "demo", limit=3, cursor=cursor)
        versions += [r.version for r in page]
    assert versions == [f"1.{n}.0" for n in reversed(range(7))]


def test_an_empty_page_tells_an_app_without_releases_from_no_app(uow: UnitOfWork, publish: Publish) -> None:
    apps.create_app(uow, slug="bare", actor=ACTOR)
    assert releases.list_releases(uow, "bare") == ([], None)
    assert refused(lambda: releases.list_releases(uow, "ghost")).code == "app.not_found"
    assert refused(lambda: releases.list_releases(uow, "Not A Slug")).code == "app.invalid_slug"
