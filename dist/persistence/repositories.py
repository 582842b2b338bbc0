"""The queries of dist, one small repository per entity, each over the session it was built with.

Repositories speak in domain entities; rows never leave this module.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from dist.domain.entities import App, Artifact, AuditEvent, Channel, ChannelEvent, Release, Token
from dist.domain.enums import AuditAction, ChannelEventKind, ReleaseStatus, Scope
from dist.domain.errors import Conflict
from dist.domain.rollouts import Rollout, Schedule, effective_percent
from dist.domain.signatures import Signatures
from dist.persistence.counts import ARTIFACT_DOWNLOADS
from dist.persistence.db import upsert
from dist.persistence.models import (
    AppRow,
    ArtifactRow,
    AuditEventRow,
    BlobRow,
    ChannelEventRow,
    ChannelRow,
    ReleaseRow,
    RolloutRow,
    TokenRow,
)

# The base release of a channel's rollout, beside the release the channel serves.
BaseRelease = aliased(ReleaseRow, name="base_release")


def _insert_if_absent(session: Session, table: Any, values: dict[str, Any], keys: list[str]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING: True when this call inserted the row.

    Two transactions creating the same app or channel at once both succeed; one of them creates it.
    """
    statement = upsert(session, table).values(**values).on_conflict_do_nothing(index_elements=keys)
    # psycopg reports rowcount -1 for this statement, so ask for the inserted row instead.
    return session.execute(statement.returning(table.id)).first() is not None


RELEASE_COLUMNS = (
    ReleaseRow.id,
    ReleaseRow.version,
    ReleaseRow.notes,
    ReleaseRow.status,
    ReleaseRow.created_at,
    ReleaseRow.created_by,
)
ARTIFACT_COLUMNS = (
    ArtifactRow.id,
    ArtifactRow.filename,
    ArtifactRow.platform,
    ArtifactRow.sha256,
    ArtifactRow.size,
    ArtifactRow.content_type,
    ArtifactRow.minisign_signature,
    ArtifactRow.ed25519_signature,
    BlobRow.sha512,
    BlobRow.sha1,
)


def _app(row: AppRow) -> App:
    return App(
        slug=row.slug,
        name=row.name,
        created_at=row.created_at,
        default_channel=row.default_channel,
        minisign_public_key=row.minisign_public_key,
        ed25519_public_key=row.ed25519_public_key,
        id=row.id,
    )


def _artifact(row: ArtifactRow, sha512: str | None, sha1: str | None, downloads: int | None = 0) -> Artifact:
    return Artifact(
        filename=row.filename,
        platform=row.platform,
        sha256=row.sha256,
        size=row.size,
        content_type=row.content_type,
        signatures=Signatures(minisign=row.minisign_signature, ed25519=row.ed25519_signature),
        sha512=sha512,
        sha1=sha1,
        downloads=int(downloads or 0),
        id=row.id,
    )


def _with_digests(query: Any) -> Any:
    """The artifacts of `query` joined to their blobs' digests (outer: a row the database lacks is no reason to
    hide an artifact)."""
    return query.outerjoin(BlobRow, BlobRow.sha256 == ArtifactRow.sha256)


def _release(slug: str, row: ReleaseRow, artifacts: list[Artifact]) -> Release:
    return Release(
        app=slug,
        version=row.version,
        notes=row.notes,
        status=row.status,
        created_at=row.created_at,
        created_by=row.created_by,
        artifacts=artifacts,
        id=row.id,
    )


def _token(row: TokenRow) -> Token:
    return Token(
        name=row.name,
        scopes=[Scope(s) for s in row.scopes],
        app=row.app,
        channel=row.channel,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
        id=row.id,
    )


def _rollout(row: RolloutRow | None, version: str | None, base: str | None) -> Rollout | None:
    if row is None or version is None or base is None:
        return None
    schedule = Schedule(
        steps=tuple(row.steps),
        every=timedelta(seconds=row.every_seconds) if row.every_seconds is not None else None,
        started_at=row.started_at,
        halted_at=row.halted_at,
        halted_for=timedelta(microseconds=row.halted_microseconds),
    )
    return Rollout(version, base, schedule, release_id=row.release_id, base_id=row.base_release_id)


class AppRepository:
    def __init__(self, session: Session):
        self.session = session

    def get(self, slug: str) -> App | None:
        row = self.session.scalars(select(AppRow).where(AppRow.slug == slug)).one_or_none()
        return _app(row) if row else None

    def create_if_absent(self, app: App) -> tuple[App, bool]:
        """The app with this slug, created from `app` when there is none; and whether it was created."""
        created = _insert_if_absent(
            self.session, AppRow, {"slug": app.slug, "name": app.name, "created_at": app.created_at}, ["slug"]
        )
        found = self.get(app.slug)
        assert found is not None
        return found, created

    def all(self) -> list[App]:
        return [_app(row) for row in self.session.scalars(select(AppRow).order_by(AppRow.slug))]

    def update_settings(self, app: App) -> None:
        """Store the app's name, default channel and public keys as `app` holds them."""
        self.session.execute(
            update(AppRow)
            .where(AppRow.id == app.id)
            .values(
                name=app.name,
                default_channel=app.default_channel,
                minisign_public_key=app.minisign_public_key,
                ed25519_public_key=app.ed25519_public_key,
            )
        )


class ReleaseRepository:
    def __init__(self, session: Session):
        self.session = session

    def _releases(self, slug: str, rows: Sequence[ReleaseRow]) -> list[Release]:
        artifacts: dict[int, list[Artifact]] = defaultdict(list)
        if rows:
            query = _with_digests(
                select(ArtifactRow, BlobRow.sha512, BlobRow.sha1, ARTIFACT_DOWNLOADS)
                .where(ArtifactRow.release_id.in_([r.id for r in rows]))
                .order_by(ArtifactRow.id)
            )
            for artifact, sha512, sha1, downloads in self.session.execute(query):
                artifacts[artifact.release_id].append(_artifact(artifact, sha512, sha1, downloads))
        return [_release(slug, r, artifacts[r.id]) for r in rows]

    def get(self, app: App, version: str) -> Release | None:
        row = self.session.scalars(
            select(ReleaseRow).where(ReleaseRow.app_id == app.id, ReleaseRow.version == version)
        ).one_or_none()
        return self._releases(app.slug, [row])[0] if row else None

    def get_by_id(self, app: App, release_id: int) -> Release | None:
        row = self.session.get(ReleaseRow, release_id)
        return self._releases(app.slug, [row])[0] if row and row.app_id == app.id else None

    def page_of(self, slug: str, *, limit: int, before_id: int | None = None) -> list[Release]:
        """Releases of the app `slug` with their artifacts, in one query: newest first, `limit` of them, older than
        `before_id` when given; empty when there is no such app."""
        ids = select(ReleaseRow.id).join(AppRow, AppRow.id == ReleaseRow.app_id).where(AppRow.slug == slug)
        if before_id is not None:
            ids = ids.where(ReleaseRow.id < before_id)
        newest = ids.order_by(ReleaseRow.id.desc()).limit(limit).scalar_subquery()
        # Plain columns, not ORM rows: a page is read once and never changed, and this halves its cost.
        query = (
            _with_digests(
                select(*RELEASE_COLUMNS, *ARTIFACT_COLUMNS, ARTIFACT_DOWNLOADS).outerjoin(
                    ArtifactRow, ArtifactRow.release_id == ReleaseRow.id
                )
            )
            .where(ReleaseRow.id.in_(newest))
            .order_by(ReleaseRow.id.desc(), ArtifactRow.id)
        )
        releases: list[Release] = []
        for row in self.session.execute(query):
            id_, version, notes, status, created_at, created_by, artifact_id, *artifact = row
            if not releases or releases[-1].id != id_:
                releases.append(
                    Release(
                        app=slug,
                        version=version,
                        notes=notes,
                        status=status,
                        created_at=created_at,
                        created_by=created_by,
                        id=id_,
                    )
                )
            if artifact_id is not None:
                filename, platform, sha256, size, content_type, minisign, ed25519, sha512, sha1, downloads = artifact
                releases[-1].artifacts.append(
                    Artifact(
                        filename=filename,
                        platform=platform,
                        sha256=sha256,
                        size=size,
                        content_type=content_type,
                        signatures=Signatures(minisign=minisign, ed25519=ed25519),
                        sha512=sha512,
                        sha1=sha1,
                        downloads=int(downloads or 0),
                        id=artifact_id,
                    )
                )
        return releases

    def add(self, app: App, release: Release) -> Release:
        assert app.id is not None
        row = ReleaseRow(
            app_id=app.id,
            version=release.version,
            notes=release.notes,
            status=release.status,
            created_at=release.created_at,
            created_by=release.created_by,
        )
        try:
            with self.session.begin_nested():
                # Added inside the savepoint, so that its rollback also drops the row from the session:
                # left pending, the next autoflush would insert it again and break the whole transaction.
                self.session.add(row)
                self.session.flush()
        except IntegrityError:
            raise Conflict("release.exists", f"{app.slug} already has a release {release.version}") from None
        release.id = row.id
        artifact_rows = [
            ArtifactRow(
                release_id=row.id,
                filename=a.filename,
                platform=a.platform,
                sha256=a.sha256,
                size=a.size,
                content_type=a.content_type,
                minisign_signature=a.signatures.minisign,
                ed25519_signature=a.signatures.ed25519,
            )
            for a in release.artifacts
        ]
        self.session.add_all(artifact_rows)
        self.session.flush()
        for artifact, artifact_row in zip(release.artifacts, artifact_rows, strict=True):
            artifact.id = artifact_row.id
        return release

    def set_status(self, release: Release, status: ReleaseStatus) -> None:
        self.session.execute(update(ReleaseRow).where(ReleaseRow.id == release.id).values(status=status))
        release.status = status

    def versions(self, ids: Sequence[int]) -> dict[int, tuple[str, ReleaseStatus]]:
        if not ids:
            return {}
        query = select(ReleaseRow.id, ReleaseRow.version, ReleaseRow.status).where(ReleaseRow.id.in_(set(ids)))
        return {id_: (version, status) for id_, version, status in self.session.execute(query)}

    def sha256_referenced(self, sha256: str) -> bool:
        return self.session.scalar(select(func.count()).where(ArtifactRow.sha256 == sha256)) != 0


class ChannelRepository:
    def __init__(self, session: Session):
        self.session = session

    def _query(self) -> Any:
        return (
            select(ChannelRow, AppRow.slug, ReleaseRow.version, RolloutRow, BaseRelease.version)
            .join(AppRow, AppRow.id == ChannelRow.app_id)
            .outerjoin(ReleaseRow, ReleaseRow.id == ChannelRow.release_id)
            .outerjoin(RolloutRow, RolloutRow.channel_id == ChannelRow.id)
            .outerjoin(BaseRelease, BaseRelease.id == RolloutRow.base_release_id)
        )

    @staticmethod
    def _channel(
        row: ChannelRow,
        slug: str,
        version: str | None,
        rollout: RolloutRow | None = None,
        base: str | None = None,
    ) -> Channel:
        return Channel(
            app=slug,
            name=row.name,
            release=version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            id=row.id,
            rollout=_rollout(rollout, version, base),
        )

    def get(self, app: App, name: str, *, lock: bool = False) -> tuple[Channel, int | None] | None:
        """The channel and the id of the release it serves; `lock` holds its row until the transaction ends."""
        query = self._query().where(ChannelRow.app_id == app.id, ChannelRow.name == name)
        if lock:
            query = query.with_for_update(of=ChannelRow)
        found = self.session.execute(query).one_or_none()
        if found is None:
            return None
        row, slug, version, rollout, base = found
        return self._channel(row, slug, version, rollout, base), row.release_id

    def with_release(self, slug: str, name: str) -> tuple[App | None, Channel | None, Release | None]:
        """In one query: the app `slug`, its channel `name` (with its rollout) and the release with artifacts
        that the channel serves; None for each that does not exist."""
        query = (
            _with_digests(
                select(
                    AppRow,
                    ChannelRow,
                    ReleaseRow,
                    RolloutRow,
                    BaseRelease.version,
                    ArtifactRow,
                    BlobRow.sha512,
                    BlobRow.sha1,
                    ARTIFACT_DOWNLOADS,
                )
                .outerjoin(ChannelRow, (ChannelRow.app_id == AppRow.id) & (ChannelRow.name == name))
                .outerjoin(ReleaseRow, ReleaseRow.id == ChannelRow.release_id)
                .outerjoin(RolloutRow, RolloutRow.channel_id == ChannelRow.id)
                .outerjoin(BaseRelease, BaseRelease.id == RolloutRow.base_release_id)
                .outerjoin(ArtifactRow, ArtifactRow.release_id == ReleaseRow.id)
            )
            .where(AppRow.slug == slug)
            .order_by(ArtifactRow.id)
        )
        rows = self.session.execute(query).all()
        if not rows:
            return None, None, None
        app_row, channel_row, release_row, rollout_row, base, *_ = rows[0]
        if channel_row is None:
            return _app(app_row), None, None
        version = release_row.version if release_row is not None else None
        channel = self._channel(channel_row, slug, version, rollout_row, base)
        if release_row is None:
            return _app(app_row), channel, None
        artifacts = [_artifact(a, sha512, sha1, n) for *_, a, sha512, sha1, n in rows if a is not None]
        return _app(app_row), channel, _release(slug, release_row, artifacts)

    def all_serving(self, slug: str) -> tuple[App | None, list[tuple[Channel, Release]]]:
        """In one query: the app `slug` and each of its channels that serves a release (with its rollout), with
        that release and its artifacts, channels in the order they were created; (None, []) when there is no
        such app."""
        query = (
            _with_digests(
                select(
                    AppRow,
                    ChannelRow,
                    ReleaseRow,
                    RolloutRow,
                    BaseRelease.version,
                    ArtifactRow,
                    BlobRow.sha512,
                    BlobRow.sha1,
                    ARTIFACT_DOWNLOADS,
                )
                .outerjoin(ChannelRow, (ChannelRow.app_id == AppRow.id) & ChannelRow.release_id.is_not(None))
                .outerjoin(ReleaseRow, ReleaseRow.id == ChannelRow.release_id)
                .outerjoin(RolloutRow, RolloutRow.channel_id == ChannelRow.id)
                .outerjoin(BaseRelease, BaseRelease.id == RolloutRow.base_release_id)
                .outerjoin(ArtifactRow, ArtifactRow.release_id == ReleaseRow.id)
            )
            .where(AppRow.slug == slug)
            .order_by(ChannelRow.id, ArtifactRow.id)
        )
        rows = self.session.execute(query).all()
        if not rows:
            return None, []
        releases: dict[int, Release] = {}
        served: dict[int, tuple[Channel, Release]] = {}
        # A release that two channels serve comes back once per channel: its artifacts are kept once.
        artifact_ids: set[int] = set()
        for _, channel_row, release_row, rollout_row, base, artifact_row, sha512, sha1, downloads in rows:
            if channel_row is None or release_row is None:
                continue
            release = releases.get(release_row.id)
            if release is None:
                release = releases[release_row.id] = _release(slug, release_row, [])
            if channel_row.id not in served:
                channel = self._channel(channel_row, slug, release_row.version, rollout_row, base)
                served[channel_row.id] = (channel, release)
            if artifact_row is not None and artifact_row.id not in artifact_ids:
                artifact_ids.add(artifact_row.id)
                release.artifacts.append(_artifact(artifact_row, sha512, sha1, downloads))
        return _app(rows[0][0]), list(served.values())

    def for_app(self, app: App) -> list[Channel]:
        query = self._query().where(ChannelRow.app_id == app.id).order_by(ChannelRow.name)
        return [self._channel(*found) for found in self.session.execute(query)]

    def serving(self, release: Release, now: datetime) -> list[str]:
        """The channels that serve `release` to some client at `now`: as their release, or as the base of a
        rollout that has not reached 100%."""
        names = set(self.session.scalars(select(ChannelRow.name).where(ChannelRow.release_id == release.id)))
        query = (
            select(ChannelRow.name, RolloutRow, ReleaseRow.version)
            .join(RolloutRow, RolloutRow.channel_id == ChannelRow.id)
            .join(ReleaseRow, ReleaseRow.id == RolloutRow.release_id)
            .where(RolloutRow.base_release_id == release.id)
        )
        for name, row, version in self.session.execute(query):
            rollout = _rollout(row, version, release.version)
            if rollout is not None and effective_percent(rollout.schedule, now) < 100:
                names.add(name)
        return sorted(names)

    def create_if_absent(self, app: App, name: str, now: datetime) -> bool:
        values = {"app_id": app.id, "name": name, "release_id": None, "created_at": now, "updated_at": now}
        return _insert_if_absent(self.session, ChannelRow, values, ["app_id", "name"])

    def move(self, channel: Channel, release: Release, kind: ChannelEventKind, actor: str, now: datetime) -> None:
        """Point `channel` at `release` and append the event that says so; a rollout it had ends."""
        self.remove_rollout(channel)
        self.session.execute(
            update(ChannelRow).where(ChannelRow.id == channel.id).values(release_id=release.id, updated_at=now)
        )
        assert channel.id is not None and release.id is not None
        self.session.add(ChannelEventRow(channel_id=channel.id, kind=kind, release_id=release.id, actor=actor, at=now))
        self.session.flush()
        channel.release = release.version
        channel.updated_at = now

    def set_rollout(self, channel: Channel, rollout: Rollout, now: datetime) -> None:
        """Give `channel` this rollout (its newest release over its base), replacing the one it had."""
        schedule = rollout.schedule
        values: dict[str, Any] = {
            "release_id": rollout.release_id,
            "base_release_id": rollout.base_id,
            "steps": list(schedule.steps),
            "every_seconds": int(schedule.every.total_seconds()) if schedule.every is not None else None,
            "started_at": schedule.started_at,
            "halted_at": schedule.halted_at,
            "halted_microseconds": schedule.halted_for // timedelta(microseconds=1),
            "updated_at": now,
        }
        updated = self.session.execute(
            update(RolloutRow).where(RolloutRow.channel_id == channel.id).values(**values).returning(RolloutRow.id)
        ).first()
        if updated is None:
            assert channel.id is not None
            self.session.add(RolloutRow(channel_id=channel.id, **values))
        self.session.flush()
        channel.rollout = rollout

    def remove_rollout(self, channel: Channel) -> None:
        self.session.execute(delete(RolloutRow).where(RolloutRow.channel_id == channel.id))
        channel.rollout = None

    def stack_events(self, channel: Channel) -> list[tuple[ChannelEventKind, int]]:
        query = (
            select(ChannelEventRow.kind, ChannelEventRow.release_id)
            .where(ChannelEventRow.channel_id == channel.id)
            .order_by(ChannelEventRow.id)
        )
        return [(kind, release_id) for kind, release_id in self.session.execute(query)]

    def history(self, channel: Channel) -> list[ChannelEvent]:
        query = (
            select(ChannelEventRow, ReleaseRow.version)
            .join(ReleaseRow, ReleaseRow.id == ChannelEventRow.release_id)
            .where(ChannelEventRow.channel_id == channel.id)
            .order_by(ChannelEventRow.id)
        )
        return [
            ChannelEvent(kind=row.kind, version=version, actor=row.actor, at=row.at, release_id=row.release_id)
            for row, version in self.session.execute(query)
        ]


class TokenRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, token: Token, token_hash: str) -> Token:
        row = TokenRow(
            name=token.name,
            token_hash=token_hash,
            scopes=[s.value for s in token.scopes],
            app=token.app,
            channel=token.channel,
            created_at=token.created_at,
            expires_at=token.expires_at,
            revoked_at=None,
            last_used_at=None,
        )
        self.session.add(row)
        self.session.flush()
        token.id = row.id
        return token

    def get(self, token_id: int) -> Token | None:
        row = self.session.get(TokenRow, token_id)
        return _token(row) if row else None

    def find_by_hash(self, token_hash: str) -> Token | None:
        row = self.session.scalars(select(TokenRow).where(TokenRow.token_hash == token_hash)).one_or_none()
        return _token(row) if row else None

    def all(self) -> list[Token]:
        return [_token(row) for row in self.session.scalars(select(TokenRow).order_by(TokenRow.id))]

    def mark_used(self, token: Token, now: datetime) -> None:
        self.session.execute(update(TokenRow).where(TokenRow.id == token.id).values(last_used_at=now))
        token.last_used_at = now

    def revoke(self, token: Token, now: datetime) -> None:
        self.session.execute(update(TokenRow).where(TokenRow.id == token.id).values(revoked_at=now))
        token.revoked_at = now


class AuditRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, event: AuditEvent) -> AuditEvent:
        row = AuditEventRow(
            at=event.at, actor=event.actor, action=event.action, app=event.app, target=event.target, detail=event.detail
        )
        self.session.add(row)
        self.session.flush()
        event.id = row.id
        return event

    def recent(self, *, app: str | None = None, limit: int | None = None) -> list[AuditEvent]:
        """The newest `limit` events (all when None), oldest first, optionally those of one app."""
        query = select(AuditEventRow)
        if app is not None:
            query = query.where(AuditEventRow.app == app)
        query = query.order_by(AuditEventRow.id.desc())
        if limit is not None:
            query = query.limit(limit)
        rows = list(self.session.scalars(query))
        rows.reverse()
        return [
            AuditEvent(
                at=r.at,
                actor=r.actor,
                action=AuditAction(r.action),
                app=r.app,
                target=r.target,
                detail=r.detail,
                id=r.id,
            )
            for r in rows
        ]
