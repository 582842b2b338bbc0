"""Publishing, reading and yanking releases."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dist.domain.entities import App, Artifact, KeptAnswer, Release
from dist.domain.enums import AuditAction, ReleaseStatus
from dist.domain.errors import Conflict, Invalid, NotFound
from dist.domain.render import render_release
from dist.domain.signatures import stored_signatures
from dist.domain.values import (
    DEFAULT_CONTENT_TYPE,
    DEFAULT_PAGE,
    DEFAULT_PLATFORM,
    parse_artifact_count,
    parse_channel_name,
    parse_content_type,
    parse_cursor,
    parse_filename,
    parse_notes,
    parse_page_limit,
    parse_platform,
    parse_sha256,
    parse_version,
)
from dist.persistence.uow import UnitOfWork
from dist.services import apps, blobs, idempotency
from dist.services.audit import record
from dist.services.channels import move_to_release
from dist.services.idempotency import RequestKey
from dist.services.signing import check_signatures


@dataclass(frozen=True, slots=True)
class ArtifactSpec:
    """An artifact to publish: a blob already in the object store, under a file name, with its signatures as
    given (minisign: the signature file's text or its base64; ed25519: base64 of the raw signature)."""

    filename: str
    sha256: str
    platform: str = DEFAULT_PLATFORM
    content_type: str = DEFAULT_CONTENT_TYPE
    minisign_signature: str | None = None
    ed25519_signature: str | None = None


def _checked(specs: list[ArtifactSpec]) -> list[Artifact]:
    """The artifacts as the specs describe them, every field checked; sizes and digests come from the blobs."""
    parse_artifact_count(specs)
    seen: set[str] = set()
    artifacts = []
    for spec in specs:
        parse_filename(spec.filename)
        if spec.filename in seen:
            raise Invalid("artifact.duplicate_filename", f"{spec.filename!r} is given twice")
        seen.add(spec.filename)
        artifacts.append(
            Artifact(
                filename=spec.filename,
                platform=parse_platform(spec.platform),
                sha256=parse_sha256(spec.sha256),
                size=0,
                content_type=parse_content_type(spec.content_type),
                signatures=stored_signatures(spec.filename, spec.minisign_signature, spec.ed25519_signature),
            )
        )
    return artifacts


def _keys(app: App) -> tuple[str | None, str | None]:
    return app.minisign_public_key, app.ed25519_public_key


def _with_blobs(uow: UnitOfWork, artifacts: list[Artifact]) -> None:
    for artifact in artifacts:
        blob = blobs.require(uow, artifact.sha256, filename=artifact.filename)
        artifact.size, artifact.sha512, artifact.sha1 = blob.size, blob.sha512, blob.sha1


def publish(
    uow: UnitOfWork,
    *,
    app: str,
    version: str,
    artifacts: list[ArtifactSpec],
    notes: str = "",
    channel: str | None = None,
    actor: str,
) -> Release:
    """Publish `version` of `app` over blobs already in the store, creating the app on first use.

    Refuses a version the app already has (`release.exists`), a blob not in the store (`object.missing`), a
    malformed signature or one that the app's public key does not verify (`artifact.bad_signature`), and an
    artifact without the signature the app's keys call for (`artifact.unsigned`); a refusal writes nothing.
    Given `channel`, promotes the new release onto it in the same transaction.
    """
    files, verified = _prepare(uow, app, version, notes, channel, artifacts)
    with uow.write():
        release = _publish(uow, app, version, files, verified, notes, channel, actor)
        uow.commit()
        return release


def publish_once(
    uow: UnitOfWork,
    *,
    key: RequestKey,
    respond: Callable[[Release], KeptAnswer],
    app: str,
    version: str,
    artifacts: list[ArtifactSpec],
    notes: str = "",
    channel: str | None = None,
    actor: str,
) -> KeptAnswer:
    """Publish as `publish` does, once per idempotency key: the answer `respond` gives for the new release is
    kept with it in one transaction, and a repeat of the request with the same key gets that answer again
    without publishing (see `idempotency.once`; another request under the same key is `idempotency.mismatch`).
    """
    files, verified = _prepare(uow, app, version, notes, channel, artifacts)
    return idempotency.once(
        uow, key, lambda: respond(_publish(uow, app, version, files, verified, notes, channel, actor))
    )


def _prepare(
    uow: UnitOfWork, app: str, version: str, notes: str, channel: str | None, artifacts: list[ArtifactSpec]
) -> tuple[list[Artifact], tuple[str | None, str | None] | None]:
    """The request's artifacts checked, and the app's keys their signatures were verified against (None: not yet).

    Signatures are checked against the bytes before the write lock is taken: a large file takes seconds. Inside,
    only keys changed meanwhile call for a second look.
    """
    parse_version(version)
    parse_notes(notes)
    if channel is not None:
        parse_channel_name(channel)
    files = _checked(artifacts)
    # Digests left for after an upload are computed now, if the server has not yet, outside the transaction.
    blobs.fill_digests(uow, [f.sha256 for f in files])
    with uow.read():
        known = uow.apps.get(app)
    if known is None or not all(uow.objects.exists(f.sha256) for f in files):
        return files, None
    for file in files:
        check_signatures(uow.objects, known, file)
    return files, _keys(known)


def _publish(
    uow: UnitOfWork,
    app: str,
    version: str,
    files: list[Artifact],
    verified: tuple[str | None, str | None] | None,
    notes: str,
    channel: str | None,
    actor: str,
) -> Release:
    _with_blobs(uow, files)
    found, _ = apps.find_or_create(uow, slug=app, name=None, actor=actor)
    if uow.releases.get(found, version) is not None:
        raise Conflict("release.exists", f"{app} already has a release {version}")
    if _keys(found) != verified:
        for file in files:
            check_signatures(uow.objects, found, file)
    release = uow.releases.add(
        found,
        Release(
            app=app,
            version=version,
            notes=notes,
            status=ReleaseStatus.PUBLISHED,
            created_at=uow.clock(),
            created_by=actor,
            artifacts=files,
        ),
    )
    record(
        uow,
        actor=actor,
        action=AuditAction.RELEASE_PUBLISHED,
        app=app,
        target=version,
        detail=render_release(release),
    )
    if channel is not None:
        move_to_release(uow, app=found, channel=channel, release=release, actor=actor)
    return release


def require(uow: UnitOfWork, app: str, version: str) -> Release:
    found = apps.require(uow, app)
    parse_version(version)
    release = uow.releases.get(found, version)
    if release is None:
        raise NotFound("release.not_found", f"{app} has no release {version}")
    return release


def get_release(uow: UnitOfWork, app: str, version: str) -> Release:
    """A release with its artifacts; yanked ones included."""
    with uow.read():
        return require(uow, app, version)


def get_artifact(uow: UnitOfWork, app: str, version: str, filename: str) -> Artifact:
    """The artifact `filename` of a release (yanked ones included), or `artifact.not_found`."""
    with uow.read():
        release = require(uow, app, version)
    for artifact in release.artifacts:
        if artifact.filename == filename:
            return artifact
    raise NotFound("artifact.not_found", f"{app} {version} has no file {filename!r}")


def list_releases(
    uow: UnitOfWork, app: str, *, limit: int = DEFAULT_PAGE, cursor: str | None = None
) -> tuple[list[Release], str | None]:
    """A page of `app`'s releases, newest first, and the cursor of the next page (None at the end)."""
    parse_page_limit(limit)
    before = parse_cursor(cursor)
    with uow.read():
        page = uow.releases.page_of(app, limit=limit + 1, before_id=before)
        if not page:
            # Nothing listed: an app without (such) releases, or no app at all.
            apps.require(uow, app)
    if len(page) > limit:
        page = page[:limit]
        return page, str(page[-1].id)
    return page, None


def yank(uow: UnitOfWork, *, app: str, version: str, actor: str) -> Release:
    """Mark a release yanked: still downloadable by version, never served by a channel again.

    A release that a channel serves is `release.in_use`: roll that channel back first.
    """
    with uow.write():
        release = require(uow, app, version)
        if release.status is ReleaseStatus.YANKED:
            raise Conflict("release.already_yanked", f"{app} {version} is already yanked")
        serving = uow.channels.serving(release, uow.clock())
        if serving:
            raise Conflict(
                "release.in_use", f"{app} {version} is served by channel(s) {', '.join(serving)}; roll them back first"
            )
        uow.releases.set_status(release, ReleaseStatus.YANKED)
        record(
            uow, actor=actor, action=AuditAction.RELEASE_YANKED, app=app, target=version, detail={"version": version}
        )
        uow.commit()
        return release
