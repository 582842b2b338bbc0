"""Bulk inserts at the speed of the driver: one statement compiled once, executemany over converted rows.

Each value is converted by its column's type exactly as SQLAlchemy converts it (timestamps, enums, JSON), but
without the per-row bookkeeping of a Core execute, which would cost more than the database's own work.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, insert


class BulkInsert:
    def __init__(self, connection: Connection, table: Table):
        dialect = connection.dialect
        keys = [column.key for column in table.c]
        compiled = insert(table).compile(dialect=dialect, column_keys=keys)
        self.connection = connection
        self.sql = compiled.string
        # The order of the statement's placeholders when the driver takes them by position.
        self.positions = list(compiled.positiontup or ()) if compiled.positional else None
        processors = {column.key: column.type.dialect_impl(dialect).bind_processor(dialect) for column in table.c}
        self.processors = {key: processor for key, processor in processors.items() if processor is not None}

    def execute(self, rows: list[dict[str, Any]]) -> None:
        """Insert `rows`, each a value for every column of the table."""
        for key, processor in self.processors.items():
            for row in rows:
                row[key] = processor(row[key])
        if self.positions is not None:
            positions = self.positions
            self.connection.exec_driver_sql(self.sql, [tuple(row[key] for key in positions) for row in rows])
        else:
            self.connection.exec_driver_sql(self.sql, rows)
