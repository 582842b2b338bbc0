"""Alembic environment for dist.

The database comes from, in order: a connection handed over by dist itself (a store it opens), a store
location handed over by `dist db upgrade`, `-x database_url=URL`, `DIST_DATABASE_URL`, or the SQLite file of
the store given by `-x store=DIR` (else `DIST_STORE`, else ./dist-store). On a store that still holds a
legacy db.json, an upgrade to head then imports it, so that one `alembic upgrade head` (or `dist db upgrade`)
brings a legacy store fully up to date.
"""

from __future__ import annotations

import logging.config

from alembic import context
from sqlalchemy import Connection, Engine

from dist.persistence import models
from dist.persistence.store import StoreLocation

config = context.config
target_metadata = models.Base.metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def migrate(engine: Engine) -> None:
    with engine.execution_options(dist_write=True).begin() as connection:
        run(connection)


handed_over = config.attributes.get("connection")
if handed_over is not None:
    run(handed_over)
else:
    if config.config_file_name is not None:
        logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)
    x = context.get_x_argument(as_dictionary=True)
    location = config.attributes.get("location") or StoreLocation.resolve(x.get("store"), x.get("database_url"))
    if context.is_offline_mode():
        context.configure(url=location.url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        # Migrations that read blobs (0002 hashes them) find them here.
        config.attributes.setdefault("objects", location.prepare())
        if location.awaits_first_import:
            # Built aside and linked into place when complete: a failed import leaves no dist.db behind.
            location.import_legacy_into_new_database(migrate)
        engine = location.engine()
        try:
            migrate(engine)
            location.import_legacy_if_present(engine)
        finally:
            engine.dispose()
