"""Helpers for service tests: blobs in the store under test, publishing, and counting rows."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text

from dist.domain.entities import Release
from dist.domain.errors import DistError
from dist.persistence.store import Store
from dist.persistence.uow import UnitOfWork
from dist.services import releases
from dist.services.releases import ArtifactSpec

ACTOR = "cli:tester"
TABLES = ["apps", "blobs", "releases", "artifacts", "channels", "channel_events", "tokens", "audit_events"]

Publish = Callable[..., Release]


def refused(call: Callable[[], object]) -> DistError:
    """The DistError `call` raises; fails the test when it raises none."""
    with pytest.raises(DistError) as error:
        call()
    return error.value


def row_counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as connection:
        return {table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() for table in TABLES}


@pytest.fixture
def publish(store: Store, uow: UnitOfWork) -> Publish:
    """Publish `version` of `app` with one artifact per platform, each with its own bytes."""

    def publish(
        version: str, *, app: str = "demo", channel: str | None = None, platforms: tuple[str, ...] = ("any",)
    ) -> Release:
        specs = [
            ArtifactSpec(
                f"{app}-{platform}.bin",
                store.objects.put_stream([f"{app} {version} {platform}".encode()]).sha256,
                platform,
            )
            for platform in platforms
        ]
        return releases.publish(uow, app=app, version=version, artifacts=specs, channel=channel, actor=ACTOR)

    return publish
