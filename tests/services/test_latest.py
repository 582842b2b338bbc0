"""The update check (`channels.latest`): platform fallback to `any`, current older/equal/newer, empty channels."""

from __future__ import annotations

import pytest

from dist.persistence.uow import UnitOfWork
from dist.services import channels
from tests.services.conftest import Publish, refused

UPDATE_CHECKS = [
    ("stable", "linux-x86_64", None, ("1.0.0", "linux-x86_64")),
    ("stable", "darwin-aarch64", None, ("1.0.0", "any")),
    ("stable", "linux-x86_64", "0.9.9", ("1.0.0", "linux-x86_64")),
    ("stable", "windows-x86_64", "1.0.0-rc.1", ("1.0.0", "any")),
    ("stable", "linux-x86_64", "1.0.0", None),
    ("stable", "linux-x86_64", "1.0.0+other.build", None),
    ("stable", "any", "1.0.1", None),
    ("stable", "linux-x86_64", "10.0.0", None),
    ("beta", "linux-x86_64", "1.0.0", ("2.0.0-rc.1", "linux-x86_64")),
    ("beta", "linux-x86_64", "2.0.0-rc.2", None),
    ("beta", "linux-x86_64", "2.0.0", None),
]
REFUSALS = [
    ("demo", "beta", "darwin-aarch64", None, "artifact.not_found", "not_found"),
    ("demo", "nightly", "any", None, "channel.not_found", "not_found"),
    ("ghost", "stable", "any", None, "app.not_found", "not_found"),
    ("demo", "stable", "../etc", None, "artifact.invalid_platform", "invalid"),
    ("demo", "stable", "any", "1.0", "release.invalid_version", "invalid"),
]


@pytest.fixture
def served(uow: UnitOfWork, publish: Publish) -> None:
    publish("1.0.0", channel="stable", platforms=("linux-x86_64", "any"))
    publish("2.0.0-rc.1", channel="beta", platforms=("linux-x86_64",))


@pytest.mark.usefixtures("served")
def test_update_check(uow: UnitOfWork) -> None:
    # One store for the whole matrix: these are reads.
    for channel, platform, current, expected in UPDATE_CHECKS:
        found = channels.latest(uow, "demo", channel, platform=platform, current=current)
        got = None if found is None else (found[0].version, found[1].platform)
        assert got == expected, (channel, platform, current)


@pytest.mark.usefixtures("served")
def test_update_check_refusals(uow: UnitOfWork) -> None:
    for app, channel, platform, current, code, kind in REFUSALS:
        error = refused(lambda: channels.latest(uow, app, channel, platform=platform, current=current))  # noqa: B023
        assert (error.code, error.kind) == (code, kind), (app, channel, platform, current)


@pytest.mark.usefixtures("served")
def test_update_check_on_a_channel_that_serves_nothing(uow: UnitOfWork) -> None:
    # No service leaves a channel empty; a legacy import can, so the row is made directly.
    with uow.write():
        app = uow.apps.get("demo")
        assert app is not None
        uow.channels.create_if_absent(app, "nightly", uow.clock())
        uow.commit()
    error = refused(lambda: channels.latest(uow, "demo", "nightly", platform="any"))
    assert (error.code, error.kind) == ("channel.empty", "not_found")


@pytest.mark.usefixtures("served")
def test_update_check_artifact_matches_the_platform(uow: UnitOfWork) -> None:
    found = channels.latest(uow, "demo", "stable", platform="darwin-aarch64")
    assert found is not None
    release, artifact = found
    assert artifact.filename == "demo-any.bin" and artifact in release.artifacts
