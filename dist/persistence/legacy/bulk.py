"""Bulk inserts at the speed of the driver: one statement compiled once, executemany over converted rows, or
on PostgreSQL a COPY, its fastest way in.

Each value is converted by its column's type exactly as SQLAlchemy converts it (timestamps, enums, JSON), but
without the per-row bookkeeping of a Core execute, which would cost more than the database's own work.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Connection, Dialect, Table, insert

from dist.persistence.models.base import UTCDateTime


def sqlite_utc_text(value: datetime | None) -> str | None:
    """What UTCDateTime and SQLite's DATETIME store for `value` (naive UTC with microseconds), in one call
    instead of two Python layers: timestamps are most of an import's converted values."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _processor(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    if dialect.name == "sqlite" and isinstance(column.type, UTCDateTime):
        return sqlite_utc_text
    return column.type.dialect_impl(dialect).bind_processor(dialect)


class BulkInsert:
    def __init__(self, connection: Connection, table: Table):
        dialect = connection.dialect
        keys = [column.key for column in table.c]
        compiled = insert(table).compile(dialect=dialect, column_keys=keys)
        self.connection = connection
        self.keys = keys
        self.copy = dialect.name == "postgresql" and dialect.driver == "psycopg"
        self.copy_sql = f"COPY {table.name} ({', '.join(keys)}) FROM STDIN"
        self.sql = compiled.string
        # The order of the statement's placeholders when the driver takes them by position.
        self.positions = list(compiled.positiontup or ()) if compiled.positional else None
        processors = {column.key: _processor(column, dialect) for column in table.c}
        self.processors = {key: processor for key, processor in processors.items() if processor is not None}

    def execute(self, rows: list[dict[str, Any]]) -> None:
        """Insert `rows`, each a value for every column of the table."""
        for key, processor in self.processors.items():
            for row in rows:
                row[key] = processor(row[key])
        if self.copy:
            self._copy(rows)
        elif self.positions is not None:
            values = operator.itemgetter(*self.positions)
            self.connection.exec_driver_sql(self.sql, [values(row) for row in rows])
        else:
            self.connection.exec_driver_sql(self.sql, rows)

    def _copy(self, rows: list[dict[str, Any]]) -> None:
        values = operator.itemgetter(*self.keys)
        # The connection's own DBAPI connection: the COPY runs in the transaction of the import.
        driver_connection: Any = self.connection.connection.dbapi_connection
        with driver_connection.cursor() as cursor, cursor.copy(self.copy_sql) as copy:
            for row in rows:
                copy.write_row(values(row))
