"""The Parquet writer: typed columns, several row groups, the same rows as the records."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tressless_crawler.analysis.parquet import write_parquet
from tressless_crawler.export import queries


def record(i: int) -> dict:
    return {
        "post_id": f"p{i}",
        "title": f"Thread {i} — é ж",
        "upvotes": i,
        "edited": i % 2 == 0,
        "posted_at": "2021-03-04T05:06:07+00:00" if i % 3 else None,
        "posted_approx": "2021-03-01",
        "first_seen": "2026-01-01T00:00:00",  # SQLite gives UTC without its offset
        "study_ids": [f"S{i}", f"S{i + 1}"],
    }


def test_rows_go_in_groups_and_read_back_typed(tmp_path: Path) -> None:
    fields = queries.fields_for("threads")
    path = tmp_path / "threads.parquet"
    assert write_parquet((record(i) for i in range(25)), path, fields, rows_per_group=10) == 25
    parquet = pq.ParquetFile(path)
    assert parquet.metadata.num_row_groups == 3
    rows = parquet.read().to_pylist()
    assert [r["post_id"] for r in rows] == [f"p{i}" for i in range(25)]
    assert rows[1]["posted_at"] == datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert rows[0]["posted_at"] is None
    assert rows[4]["first_seen"] == datetime(2026, 1, 1, tzinfo=UTC)
    assert rows[4]["posted_approx"] == date(2021, 3, 1)
    assert rows[4]["study_ids"] == ["S4", "S5"] and rows[4]["edited"] is True
    assert rows[4]["title"] == "Thread 4 — é ж" and rows[4]["body"] is None
    assert str(parquet.schema_arrow.field("upvotes").type) == "int64"


def test_a_long_text_ends_a_group_early(tmp_path: Path) -> None:
    fields = queries.fields_for("threads")
    path = tmp_path / "threads.parquet"
    records = (dict(record(i), body="x" * 1000) for i in range(10))
    write_parquet(records, path, fields, text_per_group=2500)
    assert pq.ParquetFile(path).metadata.num_row_groups == 4  # 3 + 3 + 3 + 1 rows


def test_a_value_that_is_not_a_time_names_its_row_and_field(tmp_path: Path) -> None:
    fields = queries.fields_for("threads")
    records = [record(0), dict(record(1), posted_at="yesterday")]
    with pytest.raises(ValueError, match="post_id p1: posted_at"):
        write_parquet(records, tmp_path / "t.parquet", fields)
    assert list(tmp_path.iterdir()) == []  # no half-written file
