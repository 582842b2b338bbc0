"""What the database gives back: order kept, timestamps timezone-aware UTC, enums as lowercase names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from dist.domain.entities import App, Artifact, Blob, Release, Token
from dist.domain.enums import ReleaseStatus, Scope
from dist.domain.errors import DistError
from dist.persistence.store import Store
from dist.persistence.uow import UnitOfWork
from dist.services import channels, releases
from dist.services.releases import ArtifactSpec

INDIA = timezone(timedelta(hours=5, minutes=30))


def test_timestamps_come_back_timezone_aware_utc(uow: UnitOfWork) -> None:
    written = datetime(2026, 7, 1, 9, 15, 30, 123456, tzinfo=INDIA)
    with uow.write():
        uow.apps.create_if_absent(App(slug="demo", name="Demo", created_at=written))
        uow.commit()
    with uow.read():
        app = uow.apps.get("demo")
    assert app is not None
    assert app.created_at == written and app.created_at.utcoffset() == timedelta(0)
    assert app.created_at.tzinfo is UTC or app.created_at.tzname() == "UTC"
    assert app.created_at.microsecond == 123456


def test_lists_keep_their_order(store: Store, uow: UnitOfWork) -> None:
    with uow.write():
        token = uow.tokens.add(
            Token(name="t", scopes=[Scope.ADMIN, Scope.PUBLISH], app=None, channel=None, created_at=uow.clock()),
            "f" * 64,
        )
        uow.commit()
    with uow.read():
        assert uow.tokens.get(token.id or 0) == token
        assert uow.tokens.find_by_hash("f" * 64) == token
    names = [f"{c}.bin" for c in "zyxabc"]
    specs = [ArtifactSpec(name, store.objects.put_stream([name.encode()]).sha256) for name in names]
    releases.publish(uow, app="demo", version="1.0.0", artifacts=specs, channel="b", actor="cli:t")
    assert [a.filename for a in releases.get_release(uow, "demo", "1.0.0").artifacts] == names


def test_enums_are_stored_as_lowercase_names(store: Store, uow: UnitOfWork) -> None:
    spec = [ArtifactSpec("a", store.objects.put_stream([b"a"]).sha256)]
    releases.publish(uow, app="demo", version="1.0.0", artifacts=spec, channel="beta", actor="cli:t")
    releases.publish(uow, app="demo", version="1.1.0", artifacts=spec, channel="beta", actor="cli:t")
    channels.rollback(uow, app="demo", channel="beta", actor="cli:t")
    releases.yank(uow, app="demo", version="1.1.0", actor="cli:t")
    with store.engine.connect() as connection:
        statuses = connection.execute(text("SELECT status FROM releases ORDER BY id")).scalars().all()
        kinds = connection.execute(text("SELECT kind FROM channel_events ORDER BY id")).scalars().all()
        actions = connection.execute(text("SELECT action FROM audit_events ORDER BY id")).scalars().all()
    assert statuses == ["published", "yanked"]
    assert kinds == ["promote", "promote", "rollback"]
    assert actions[:2] == ["app_created", "release_published"] and actions[-1] == "release_yanked"


def test_the_database_refuses_a_duplicate_version(uow: UnitOfWork) -> None:
    artifact = Artifact("a", "any", "0" * 64, 1, "application/octet-stream")
    with uow.write():
        app, _ = uow.apps.create_if_absent(App(slug="demo", name="Demo", created_at=uow.clock()))
        uow.blobs.record(Blob("0" * 64, 1, "1" * 128, "2" * 40, uow.clock()))

        def release() -> Release:
            return Release("demo", "1.0.0", "", ReleaseStatus.PUBLISHED, uow.clock(), "cli:t", [artifact])

        uow.releases.add(app, release())
        with pytest.raises(DistError) as refused:
            uow.releases.add(app, release())
        assert refused.value.code == "release.exists"
        # The transaction is still usable after the refused insert.
        assert [r.version for r in uow.releases.page_of("demo", limit=5)] == ["1.0.0"]


def test_naive_timestamps_are_refused(uow: UnitOfWork) -> None:
    with uow.write(), pytest.raises(StatementError, match="naive datetime"):
        uow.apps.create_if_absent(App(slug="demo", name="Demo", created_at=datetime(2026, 1, 1)))
