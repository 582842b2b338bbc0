"""Publishing: the app created once, the refusals that write nothing, the promote in the same transaction."""

from __future__ import annotations

from dist.domain.enums import AuditAction, ReleaseStatus
from dist.persistence.store import Store
from dist.persistence.uow import UnitOfWork
from dist.services import apps, audit, channels, releases
from dist.services.releases import ArtifactSpec
from tests.services.conftest import ACTOR, Publish, refused, row_counts


def actions(uow: UnitOfWork) -> list[tuple[AuditAction, str | None, str | None]]:
    return [(e.action, e.app, e.target) for e in audit.list_events(uow)]


def test_first_publish_creates_the_app_once(uow: UnitOfWork, publish: Publish) -> None:
    publish("1.0.0")
    publish("1.1.0")
    assert [a.slug for a in apps.list_apps(uow)] == ["demo"]
    assert actions(uow) == [
        (AuditAction.APP_CREATED, "demo", "demo"),
        (AuditAction.RELEASE_PUBLISHED, "demo", "1.0.0"),
        (AuditAction.RELEASE_PUBLISHED, "demo", "1.1.0"),
    ]
    assert all(e.actor == ACTOR for e in audit.list_events(uow))


def test_a_release_reads_back_with_its_artifacts_in_order(store: Store, uow: UnitOfWork) -> None:
    blobs = [store.objects.put_stream([data]) for data in (b"zz", b"a", b"mmm")]
    specs = [
        ArtifactSpec("z.tar.gz", blobs[0].sha256, "linux-x86_64", "application/gzip"),
        ArtifactSpec("a.exe", blobs[1].sha256, "windows-x86_64"),
        ArtifactSpec("m.dmg", blobs[2].sha256, "darwin-aarch64"),
    ]
    releases.publish(uow, app="demo", version="2.0.0-rc.1", artifacts=specs, notes="Ünïcode ✓", actor=ACTOR)
    release = releases.get_release(uow, "demo", "2.0.0-rc.1")
    assert release.status is ReleaseStatus.PUBLISHED and release.notes == "Ünïcode ✓"
    assert release.created_by == ACTOR
    assert [(a.filename, a.platform, a.size, a.content_type) for a in release.artifacts] == [
        ("z.tar.gz", "linux-x86_64", 2, "application/gzip"),
        ("a.exe", "windows-x86_64", 1, "application/octet-stream"),
        ("m.dmg", "darwin-aarch64", 3, "application/octet-stream"),
    ]
    assert [a.sha256 for a in release.artifacts] == [b.sha256 for b in blobs]


def test_an_existing_version_is_refused_and_nothing_changes(store: Store, uow: UnitOfWork, publish: Publish) -> None:
    publish("1.0.0", channel="beta")
    before = row_counts(store)
    error = refused(lambda: publish("1.0.0", channel="stable"))
    assert (error.code, error.kind) == ("release.exists", "conflict")
    assert row_counts(store) == before
    assert [c.name for c in channels.list_channels(uow, "demo")] == ["beta"]


def test_a_missing_blob_is_refused_and_leaves_no_app(store: Store, uow: UnitOfWork) -> None:
    present = store.objects.put_stream([b"here"]).sha256
    specs = [ArtifactSpec("a.bin", present), ArtifactSpec("b.bin", "0" * 64)]
    error = refused(
        lambda: releases.publish(uow, app="newapp", version="1.0.0", artifacts=specs, channel="beta", actor=ACTOR)
    )
    assert (error.code, error.kind) == ("object.missing", "invalid")
    assert row_counts(store) == dict.fromkeys(row_counts(store), 0)
    assert apps.list_apps(uow) == []


def test_invalid_input_writes_nothing(store: Store, uow: UnitOfWork) -> None:
    sha = store.objects.put_stream([b"x"]).sha256
    cases = {
        "release.invalid_version": dict(version="1.0", artifacts=[ArtifactSpec("a", sha)]),
        "release.no_artifacts": dict(version="1.0.0", artifacts=[]),
        "artifact.duplicate_filename": dict(version="1.0.0", artifacts=[ArtifactSpec("a", sha)] * 2),
        "artifact.invalid_filename": dict(version="1.0.0", artifacts=[ArtifactSpec("../a", sha)]),
        "artifact.invalid_platform": dict(version="1.0.0", artifacts=[ArtifactSpec("a", sha, "Linux")]),
        "channel.invalid_name": dict(version="1.0.0", artifacts=[ArtifactSpec("a", sha)], channel="../x"),
    }
    for code, arguments in cases.items():
        error = refused(lambda arguments=arguments: releases.publish(uow, app="demo", actor=ACTOR, **arguments))
        assert error.code == code
    assert refused(lambda: releases.publish(uow, app="Demo!", version="1.0.0", artifacts=[], actor=ACTOR))
    assert row_counts(store) == dict.fromkeys(row_counts(store), 0)


def test_publish_with_a_channel_promotes_in_the_same_transaction(uow: UnitOfWork, publish: Publish) -> None:
    publish("1.0.0", channel="beta")
    channel, release = channels.get_channel(uow, "demo", "beta")
    assert channel.release == "1.0.0" and release is not None and release.version == "1.0.0"
    assert [(e.kind.value, e.version, e.actor) for e in channels.history(uow, "demo", "beta")] == [
        ("promote", "1.0.0", ACTOR)
    ]
    assert [a for a, _, _ in actions(uow)] == [
        AuditAction.APP_CREATED,
        AuditAction.RELEASE_PUBLISHED,
        AuditAction.CHANNEL_PROMOTED,
    ]


def test_identical_bytes_in_two_releases_are_one_blob(store: Store, uow: UnitOfWork) -> None:
    first = store.objects.put_stream([b"same bytes"])
    second = store.objects.put_stream([b"same ", b"bytes"])
    assert first.created and not second.created and first.sha256 == second.sha256
    for version in ("1.0.0", "1.0.1"):
        releases.publish(uow, app="demo", version=version, artifacts=[ArtifactSpec("a.bin", first.sha256)], actor=ACTOR)
    assert [path.name for path in (store.location.root / "objects").rglob("*") if path.is_file()] == [first.sha256]
    assert list((store.location.root / "tmp").iterdir()) == []


def test_release_list_is_newest_first_and_paginated(uow: UnitOfWork, publish: Publish) -> None:
    # Published out of precedence order: "newest" is the order of publishing.
    versions = ["1.0.0", "0.9.0", "2.0.0-beta", "1.1.0", "2.0.0"]
    for version in versions:
        publish(version)
    seen: list[str] = []
    cursor = None
    while True:
        page, cursor = releases.list_releases(uow, "demo", limit=2, cursor=cursor)
        assert len(page) <= 2
        seen += [r.version for r in page]
        if cursor is None:
            break
    assert seen == list(reversed(versions))
    whole, end = releases.list_releases(uow, "demo", limit=5)
    assert [r.version for r in whole] == seen and end is None
    assert refused(lambda: releases.list_releases(uow, "demo", limit=0)).code == "release.invalid_limit"
    for cursor in ("x", "0", "-1", "\u0661", str(2**63), "9" * 21):
        error = refused(lambda cursor=cursor: releases.list_releases(uow, "demo", cursor=cursor))
        assert error.code == "release.invalid_cursor"
    assert [r.version for r in releases.list_releases(uow, "demo", cursor=str(2**63 - 1))[0]] == seen
    assert refused(lambda: releases.list_releases(uow, "nope")).code == "app.not_found"


def test_create_app_refuses_a_taken_slug(store: Store, uow: UnitOfWork) -> None:
    app = apps.create_app(uow, slug="demo", name="The Demo", actor=ACTOR)
    assert (app.slug, app.name) == ("demo", "The Demo")
    before = row_counts(store)
    assert refused(lambda: apps.create_app(uow, slug="demo", actor=ACTOR)).code == "app.exists"
    assert row_counts(store) == before
    shown, app_channels = apps.show_app(uow, "demo")
    assert shown.name == "The Demo" and app_channels == []
    assert refused(lambda: apps.show_app(uow, "ghost")).code == "app.not_found"


def test_text_no_database_can_store_is_refused(store: Store, uow: UnitOfWork) -> None:
    # PostgreSQL refuses NUL in text and no engine can encode a lone surrogate: both are input errors,
    # refused the same way on every engine.
    sha = store.objects.put_stream([b"x"]).sha256
    for notes in ("a\x00b", "\ud800"):
        error = refused(
            lambda notes=notes: releases.publish(
                uow, app="demo", version="1.0.0", artifacts=[ArtifactSpec("a", sha)], notes=notes, actor=ACTOR
            )
        )
        assert (error.code, error.kind) == ("release.invalid_notes", "invalid")
    assert refused(lambda: apps.create_app(uow, slug="demo", name="\udfff", actor=ACTOR)).code == "app.invalid_name"
    assert row_counts(store) == dict.fromkeys(row_counts(store), 0)
