"""Small statement helpers shared by the writers (studies, threads, names)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, select
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


def sends_arrays(conn: Connection) -> bool:
    """Whether many rows go as one array per column (PostgreSQL through psycopg).

    psycopg's executemany runs one INSERT per row (pipelined), and PostgreSQL parses, plans and
    runs each; ``INSERT ... SELECT * FROM unnest(<arrays>)`` does that once for all the rows.
    """
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"


def unnest_rows(model: Any, columns: Sequence[str]) -> Select[Any]:
    """``SELECT * FROM unnest(:a_<column>::<type>[], ...)``: rows given as column arrays.

    For ``postgresql.insert(model).from_select(columns, unnest_rows(model, columns))``, with
    :func:`unnest_params` as the parameters; ON CONFLICT and RETURNING work as on VALUES.
    """
    table = model.__table__
    arrays = (
        bindparam(f"a_{name}", type_=postgresql.ARRAY(table.c[name].type)) for name in columns
    )
    source = func.unnest(*arrays).table_valued(*columns).render_derived()
    return select(*(source.c[name] for name in columns))


def unnest_params(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> dict[str, list[Any]]:
    """The parameters of :func:`unnest_rows`: each column's values, in row order."""
    values: list[Sequence[Any]] = list(zip(*rows, strict=True)) or [()] * len(columns)
    return {f"a_{name}": list(column) for name, column in zip(columns, values, strict=True)}
