"""The legacy store format (db.json + objects/): import on first load, and export."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine

from dist.domain.errors import Unavailable

if TYPE_CHECKING:
    from dist.persistence.store import StoreLocation


def import_on_first_load(location: StoreLocation, engine: Engine) -> None:
    raise Unavailable("legacy.unsupported", f"{location.legacy_path} is a legacy store, which cannot be imported yet")
