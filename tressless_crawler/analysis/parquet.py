"""Parquet export with typed columns, written a row group at a time (memory stays flat).

Needs pyarrow (the ``[parquet]`` extra). Columns are typed from the export's field names:
lists of names as ``list<string>``, cited/related entries and community cards as
``list<struct>``, times as ``timestamp[us, UTC]``, card dates as ``date32``, counts as ``int64``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import fields as dataclass_fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from tressless_crawler.exceptions import ParquetUnavailable
from tressless_crawler.export.writers import json_text
from tressless_crawler.items import CommunityCard, ResearchRef

INSTALL_HINT = 'the parquet format needs pyarrow: pip install "tressless-crawler[parquet]"'
# A row group ends at this many rows or at about this much text, whichever comes first: a
# group of studies (summaries, cited lists) is held in memory twice while it is converted.
ROWS_PER_GROUP = 10_000
TEXT_PER_GROUP = 8_000_000  # characters

INTEGERS = {
    "citations",
    "upvotes",
    "cited_total",
    "related_total",
    "community_total",
    "comment_count",
    "last_run_id",
    "gone_status",
    "depth",
    "more_count",
    "author_id",
    "study_count",
    "run_id",
    "pages_fetched",
    "items_new",
    "items_updated",
    "items_unchanged",
    "errors",
    "pid",
    "version",
}
BOOLEANS = {
    "cited_total_is_lower_bound",
    "related_total_is_lower_bound",
    "community_total_is_lower_bound",
    "edited",
    "stickied",
    "current",
}
TIMES = {
    "first_seen",
    "last_seen",
    "changed_at",
    "gone_at",
    "posted_at",
    "started_at",
    "finished_at",
    "recorded_at",
}
DATES = {"posted_approx"}
NAME_LISTS = {"authors", "study_ids"}
ENTRY_LISTS: dict[str, type] = {
    "cited": ResearchRef,
    "related": ResearchRef,
    "community_posts": CommunityCard,
}
COUNTS_BY_NAME = {"items_dropped"}  # reason -> count
JSON_OBJECTS = {"settings"}  # free-form: kept as JSON text


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise ParquetUnavailable(INSTALL_HINT) from None
    return pyarrow


def arrow_type(pa: Any, name: str) -> Any:
    if name in INTEGERS:
        return pa.int64()
    if name in BOOLEANS:
        return pa.bool_()
    if name in TIMES:
        return pa.timestamp("us", tz="UTC")
    if name in DATES:
        return pa.date32()
    if name in NAME_LISTS:
        return pa.list_(pa.string())
    if name in ENTRY_LISTS:
        entry = ENTRY_LISTS[name]
        return pa.list_(
            pa.struct([(f.name, arrow_type(pa, f.name)) for f in dataclass_fields(entry)])
        )
    if name in COUNTS_BY_NAME:
        return pa.map_(pa.string(), pa.int64())
    return pa.string()


def schema_for(fields: list[str]) -> Any:
    pa = _pyarrow()
    return pa.schema([(name, arrow_type(pa, name)) for name in fields])


def _time(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    # Every stored time is UTC; SQLite gives it back without its offset.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def converter(name: str) -> Callable[[Any], Any] | None:
    """How a record's value becomes the column's Python value (None: as it is)."""
    if name in TIMES:
        return _time
    if name in DATES:
        return _date
    if name in ENTRY_LISTS:
        inner = {
            f.name: conv
            for f in dataclass_fields(ENTRY_LISTS[name])
            if (conv := converter(f.name)) is not None
        }

        def entries(value: Any) -> Any:
            if not value:
                return [] if value is not None else None
            return [
                {k: inner[k](v) if k in inner else v for k, v in entry.items()} for entry in value
            ]

        return entries
    if name in COUNTS_BY_NAME:
        return lambda value: None if value is None else list(value.items())
    if name in JSON_OBJECTS:
        return lambda value: None if value is None else json_text(value)
    return None


def write_parquet(
    records: Iterable[dict[str, Any]],
    path: str | Path,
    fields: list[str],
    rows_per_group: int = ROWS_PER_GROUP,
    text_per_group: int = TEXT_PER_GROUP,
) -> int:
    """Write the records to ``path`` a row group at a time; returns how many were written."""
    pa = _pyarrow()
    import pyarrow.parquet as pq

    schema = schema_for(fields)
    converters = [(name, conv) for name in fields if (conv := converter(name)) is not None]
    count = rows = size = 0
    columns: dict[str, list[Any]] = {name: [] for name in fields}

    def flush(writer: Any) -> None:
        if rows:
            writer.write_batch(pa.RecordBatch.from_pydict(columns, schema=schema))
            for column in columns.values():
                column.clear()

    # Written beside the target and renamed over it: a failed export leaves no half a file.
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    try:
        with pq.ParquetWriter(str(partial), schema, compression="zstd") as writer:
            for record in records:
                for name, conv in converters:
                    try:
                        record[name] = conv(record.get(name))
                    except (TypeError, ValueError) as exc:
                        key = record.get(fields[0])
                        raise ValueError(f"{fields[0]} {key}: {name} {exc}") from None
                for name in fields:
                    value = record.get(name)
                    columns[name].append(value)
                    size += _text_size(value)
                count += 1
                rows += 1
                if rows >= rows_per_group or size >= text_per_group:
                    flush(writer)
                    rows = size = 0
            flush(writer)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return count


def _text_size(value: Any) -> int:
    """About how many characters a value holds (its strings, one level into lists)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list):
        return sum(
            len(v) if isinstance(v, str) else 100 * len(v) if isinstance(v, dict) else 8
            for v in value
        )
    return 8
