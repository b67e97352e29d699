"""Small statement helpers shared by the writers (studies, threads, names)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

# Rows per IN (...) list: well below SQLite's and PostgreSQL's limits on bound parameters.
IN_CHUNK = 500


def dialect_insert(conn: Connection, table: Any) -> Any:
    """An INSERT with the connection's dialect's ON CONFLICT clauses."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
