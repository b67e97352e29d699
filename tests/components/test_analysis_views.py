"""The analysis views and the example questions of docs/analysis.md, on both databases."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from tests.components.analysis_corpus import JAD, JDT, fill
from tests.conftest import ROOT
from tressless_crawler.db import schema
from tressless_crawler.db.engine import make_engine

DOC = ROOT / "docs" / "analysis.md"

EXPECTED = [
    [
        ("D1", "Dutasteride improves frontal hair density", "p1", "Dut results after one year"),
        ("D1", "Dutasteride improves frontal hair density", "p2", "Dutasteride side effects?"),
        ("D2", "Mesotherapy with dutasteride for the vertex", "p1", "Dut results after one year"),
    ],
    [(JAD, 2), (JDT, 1)],
    [("D1", "Dutasteride improves frontal hair density", "2026-02-10 00:00:00")],
    [("p1", "Dut results after one year", 2, "D1; D2")],
    [
        ("D1", "Dutasteride improves frontal hair density", 2, 3),
        ("D2", "Mesotherapy with dutasteride for the vertex", 1, 2),
        ("A3", "Alopecia areata in children", 1, 0),
    ],
]


def doc_examples() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def plain(value: Any) -> Any:
    """A value as both databases give it: times as UTC text, numbers as int.

    PostgreSQL gives a view's time as an aware datetime; SQLite as the stored text, which
    must say its offset (UTC) itself.
    """
    if isinstance(value, datetime):
        assert value.utcoffset() is not None, value
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d.*", value):
        assert re.fullmatch(r".{19}\.\d{6}\+00:00", value), f"a time without its offset: {value}"
        return value[:19]
    if isinstance(value, Decimal):
        return int(value)
    return value


def test_the_five_documented_questions_get_their_answers(db_url: str) -> None:
    fill(db_url)
    examples = doc_examples()
    assert len(examples) == len(EXPECTED) == 5
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            for sql, expected in zip(examples, EXPECTED, strict=True):
                rows = [tuple(map(plain, row)) for row in conn.execute(text(sql))]
                assert rows == expected, sql
    finally:
        engine.dispose()


def test_views_have_one_row_per_entity_with_counts_and_authors_in_order(db_url: str) -> None:
    fill(db_url)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            studies = {
                r["study_id"]: r
                for r in conn.execute(text("SELECT * FROM study_overview")).mappings()
            }
            threads = {
                r["post_id"]: r
                for r in conn.execute(text("SELECT * FROM thread_overview")).mappings()
            }
            pairs = conn.execute(text("SELECT count(*) FROM study_threads_view")).scalar_one()
    finally:
        engine.dispose()
    assert len(studies) == 7 and len(threads) == 3 and pairs == 4
    d1 = studies["D1"]
    assert d1["authors"] == "Vañó‐Galván S; Jaén P"
    assert (d1["journal"], d1["published"], d1["published_year"]) == (JAD, "2019-05", 2019)
    assert (d1["cited_total"], d1["cited_count"], d1["related_count"]) == (2, 2, 0)
    assert (d1["community_count"], d1["gone"], d1["gone_at"]) == (2, 0, None)
    assert plain(d1["first_seen"]) == "2026-01-01 00:00:00"
    assert plain(d1["changed_at"]) == "2026-02-10 00:00:00"
    assert studies["K1"]["journal"] is None
    assert studies["A2"]["authors"] == "King B; Ørsted L"
    p1, p3 = threads["p1"], threads["p3"]
    assert (p1["study_count"], p1["study_ids"], p1["comments_stored"]) == (2, "D1; D2", 2)
    assert (p3["source"], p3["comments_stored"], p3["study_ids"]) == ("card", 0, "A3")


def test_downgrade_removes_views_and_index_and_upgrade_restores_them(db_url: str) -> None:
    from alembic import command

    fill(db_url)
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            command.downgrade(schema.alembic_config(connection=conn), "0004")
        with engine.connect() as conn:
            for view in ("study_overview", "thread_overview", "study_threads_view"):
                assert view not in {n.lower() for n in engine.dialect.get_view_names(conn)}
        schema.upgrade(engine)  # the index is made for the rows already there
        from tressless_crawler.analysis.search import search

        assert [h["id"] for h in search(engine, "mesotherapy")] == ["D2"]
        assert [h["id"] for h in search(engine, "sides", "threads")] == ["p2"]
    finally:
        engine.dispose()
