"""Where a store lives, and opening it: schema at head, legacy db.json imported, sessions ready."""

from __future__ import annotations

import ast
import functools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from dist.domain.errors import Unavailable
from dist.persistence.db import make_engine, session_factories, sqlite_url
from dist.persistence.objects import ObjectStore, open_objects
from dist.persistence.uow import UnitOfWork, utc_now

DEFAULT_STORE = "./dist-store"
DB_FILE = "dist.db"
LEGACY_FILE = "db.json"
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
# `revision = "..."` and `down_revision = ...` at the top level of a migration script.
REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+)$", re.MULTILINE)

if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config() -> Config:
    # alembic is imported only to migrate: a server that finds its schema at head never loads it.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@functools.cache
def head_revision() -> str | None:
    """The revision no migration script revises, read from the scripts' assignments (as alembic names it)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = {name: ast.literal_eval(value.strip()) for name, value in REVISION_LINE.findall(script.read_text())}
        revisions.add(found["revision"])
        down = found.get("down_revision")
        revised.update([down] if isinstance(down, str) else down or ())
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


@dataclass(frozen=True, slots=True)
class StoreLocation:
    """A store directory, the database that holds its records (its own dist.db unless a URL is given) and the
    object store that holds its blobs (its own objects/ unless a URL is given)."""

    root: Path
    database_url: str | None = None
    objects_url: str | None = None

    @classmethod
    def resolve(
        cls,
        store: str | os.PathLike[str] | None = None,
        database_url: str | None = None,
        objects_url: str | None = None,
    ) -> StoreLocation:
        """From explicit values, else DIST_STORE, DIST_DATABASE_URL and DIST_OBJECTS, else ./dist-store."""
        root = store if store is not None else os.environ.get("DIST_STORE") or DEFAULT_STORE
        url = database_url if database_url is not None else os.environ.get("DIST_DATABASE_URL") or None
        objects = objects_url if objects_url is not None else os.environ.get("DIST_OBJECTS") or None
        return cls(Path(root), url, objects)

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @property
    def db_path(self) -> Path:
        return self.root / DB_FILE

    @property
    def legacy_path(self) -> Path:
        return self.root / LEGACY_FILE

    @property
    def url(self) -> str:
        return self.database_url or sqlite_url(str(self.db_path))

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    def objects(self) -> ObjectStore:
        return open_objects(self.objects_url, self.root)

    def prepare(self) -> ObjectStore:
        """Create the store's directory and check its object store (`Unavailable` when it cannot be used)."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(exist_ok=True)
        objects = self.objects()
        objects.check()
        return objects

    def engine(self) -> Engine:
        return make_engine(self.url)

    @property
    def awaits_first_import(self) -> bool:
        """An embedded store that holds a legacy db.json and no database yet."""
        return self.embedded and self.legacy_path.exists() and not self.db_path.exists()

    def import_legacy_if_present(self, engine: Engine) -> None:
        """Import db.json into a database at head, once; see dist.persistence.legacy."""
        if not self.legacy_path.exists() or current_revision(engine) != head_revision():
            return
        from dist.persistence.legacy import import_on_first_load

        import_on_first_load(self, engine)

    def import_legacy_into_new_database(self, migrate: Callable[[Engine], None]) -> None:
        """Create the dist.db of a store that `awaits_first_import`: schema by `migrate`, then db.json."""
        from dist.persistence.legacy import import_into_new_database

        import_into_new_database(self, migrate)


def store_exists(location: StoreLocation) -> bool:
    """Whether the store holds anything yet: a database with a schema, or a legacy db.json to import."""
    if location.legacy_path.exists():
        return True
    if location.embedded:
        return location.db_path.exists()
    engine = location.engine()
    try:
        with engine.connect() as connection:
            return inspect(connection).has_table("alembic_version")
    finally:
        engine.dispose()


def current_revision(engine: Engine) -> str | None:
    """The revision recorded in alembic's table, None for a database without one."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        revision: str | None = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return revision


def upgrade_to_head(engine: Engine, objects: ObjectStore | None = None) -> None:
    """Migrate the database to head; migrations that read blobs (0002) find them in `objects`."""
    from alembic import command

    config = alembic_config()
    with engine.execution_options(dist_write=True).begin() as connection:
        config.attributes["connection"] = connection
        config.attributes["objects"] = objects
        command.upgrade(config, "head")


@dataclass(frozen=True, slots=True)
class SchemaUpgrade:
    """What `upgrade_store` did: the revision before (None: no schema) and after, and whether it imported db.json."""

    before: str | None
    after: str | None
    imported_legacy: bool


def upgrade_store(location: StoreLocation) -> SchemaUpgrade:
    """`alembic upgrade head` on the store, run by the installed package: the same environment script
    (dist/migrations/env.py) with the location handed over instead of read from `-x` options. It creates or
    upgrades the schema and imports a legacy db.json that awaits it."""
    from alembic import command

    before = None if location.embedded and not location.db_path.exists() else _revision_of(location)
    awaiting = location.legacy_path.exists()
    config = alembic_config()
    config.attributes["location"] = location
    command.upgrade(config, "head")
    return SchemaUpgrade(before, _revision_of(location), awaiting and not location.legacy_path.exists())


def _revision_of(location: StoreLocation) -> str | None:
    engine = location.engine()
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


class Store:
    """An open store: its engine, session factories and blobs. Hands out units of work."""

    def __init__(
        self,
        location: StoreLocation,
        engine: Engine,
        clock: Callable[[], datetime] = utc_now,
        objects: ObjectStore | None = None,
    ):
        self.location = location
        self.engine = engine
        self.objects = objects if objects is not None else location.objects()
        self.clock = clock
        self._read: sessionmaker[Session]
        self._write: sessionmaker[Session]
        self._read, self._write = session_factories(engine)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self._read, self._write, self.objects, self.clock)

    def close(self) -> None:
        self.engine.dispose()


def open_store(location: StoreLocation, *, clock: Callable[[], datetime] = utc_now) -> Store:
    """Open a store, creating it when new. An embedded store's schema is brought to head; another database
    must already be at head (`dist db upgrade`). A legacy db.json is imported on first load. An object store that
    cannot be used (unreachable, refusing the credentials, no such bucket) is `Unavailable` here, before anything
    is served or written."""
    objects = location.prepare()
    if location.awaits_first_import:
        location.import_legacy_into_new_database(upgrade_to_head)
    engine = location.engine()
    try:
        head = head_revision()
        if current_revision(engine) != head:
            if not location.embedded:
                raise Unavailable(
                    "store.schema_outdated",
                    "the database schema is not at the current version; run `dist --database-url URL db upgrade` "
                    "(or `DIST_DATABASE_URL=URL alembic upgrade head` from the dist source tree)",
                )
            upgrade_to_head(engine, objects)
        location.import_legacy_if_present(engine)
    except BaseException:
        engine.dispose()
        raise
    return Store(location, engine, clock, objects)
