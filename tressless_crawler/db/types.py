"""Column types: every stored time is UTC, with its offset, and reads back as aware UTC.

PostgreSQL keeps ``timestamptz`` and answers in the session's time zone; SQLite keeps text
and answers what the text says. ``UTCDateTime`` makes both the same on the way in (aware
values converted to UTC, naive ones taken as UTC) and on the way out (aware, UTC), so what
the project writes from either database is the same text: ``utc_iso`` gives
``2020-10-31T03:59:49+00:00``.

In a SQLite file the text itself says UTC: ``2020-10-31 03:59:49.000000+00:00``, which
SQLite's own date functions, Datasette and pandas read as that moment; a file written
before revision 0010 held the same text without ``+00:00`` (that migration adds it), and
such text still reads back as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

# SQLAlchemy's SQLite format with the offset of the (always UTC) value; ISO 8601 with a
# space, the form SQLite's date functions read. Read back with datetime.fromisoformat.
SQLITE_STORAGE_FORMAT = (
    "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d+00:00"
)
SQLITE_UTC_SUFFIX = "+00:00"


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken as UTC (what the databases store)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_iso(value: Any) -> Any:
    """A datetime as ISO 8601 in UTC with its offset; anything else unchanged."""
    return as_utc(value).isoformat() if isinstance(value, datetime) else value


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that stores and returns UTC on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(
                sqlite.DATETIME(timezone=True, storage_format=SQLITE_STORAGE_FORMAT)
            )
        return super().load_dialect_impl(dialect)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return as_utc(value) if isinstance(value, datetime) else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return as_utc(value) if isinstance(value, datetime) else value
