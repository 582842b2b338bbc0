"""`dist db upgrade`: the database schema brought to the current version, from the installed package."""

from __future__ import annotations

from cyclopts import App

from dist.cli import views
from dist.cli.backend import local_only
from dist.cli.context import GLOBALS, JsonFlag, print_json

db_app = App(name="db", help="Keep the database schema current: dist db upgrade at each deploy.")


@db_app.command
def upgrade(*, as_json: JsonFlag = False) -> None:
    """Create or upgrade the database schema to the current version.

    The same migrations as `alembic upgrade head` from the source tree, shipped in the package; a legacy db.json
    in the store directory is imported afterwards. Run it at each deploy on a database given by --database-url
    (an embedded store, --store alone, is upgraded by every command by itself)."""
    local_only("db upgrade")
    from sqlalchemy.engine import make_url

    from dist.persistence.store import upgrade_store

    location = GLOBALS.location()
    done = upgrade_store(location)
    database = make_url(location.url).render_as_string(hide_password=True)
    if as_json:
        print_json(
            {
                "database": database,
                "before": done.before,
                "revision": done.after,
                "imported_legacy": done.imported_legacy,
            }
        )
        return
    if done.before == done.after:
        views.line(f"{database}: schema already at {done.after}")
    else:
        views.line(f"{database}: schema upgraded from {done.before or 'nothing'} to {done.after}")
    if done.imported_legacy:
        views.line(f"imported {location.legacy_path} (now {location.legacy_path.name}.imported)")
