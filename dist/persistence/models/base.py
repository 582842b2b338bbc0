"""The declarative base: one MetaData with a naming convention, so every constraint has a stable name."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Integer, MetaData, String, TypeDecorator
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import DeclarativeBase

from dist.domain.enums import AuditAction, ChannelEventKind, DeliveryState, ReleaseStatus

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every engine (SQLite keeps no offset, so it is normalised here)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_column(enum_class: type[enum.Enum]) -> SAEnum:
    """An enum stored by its lowercase value in a plain string column."""
    return SAEnum(
        enum_class,
        values_callable=lambda members: [m.value for m in members],
        native_enum=False,
        create_constraint=False,
        length=32,
        validate_strings=True,
    )


# Ids are 64-bit everywhere. SQLite's INTEGER already is, and only an INTEGER PRIMARY KEY takes the next id by
# itself; PostgreSQL needs BIGINT (and a bigint sequence).
ID_TYPE = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {
        int: ID_TYPE,
        datetime: UTCDateTime(),
        str: String(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
        ReleaseStatus: enum_column(ReleaseStatus),
        ChannelEventKind: enum_column(ChannelEventKind),
        AuditAction: enum_column(AuditAction),
        DeliveryState: enum_column(DeliveryState),
    }
