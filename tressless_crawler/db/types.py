"""Column types: every stored time is UTC, and reads back as an aware UTC datetime.

PostgreSQL keeps ``timestamptz`` and answers in the session's time zone; SQLite keeps text
without an offset and answers naive datetimes. ``UTCDateTime`` makes both the same on the
way in (aware values converted to UTC, naive ones taken as UTC) and on the way out (aware,
UTC), so what the project writes from either database is the same text:
``utc_iso`` gives ``2020-10-31T03:59:49+00:00``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


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

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return as_utc(value) if isinstance(value, datetime) else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return as_utc(value) if isinstance(value, datetime) else value
