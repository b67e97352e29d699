"""The Datasette browser of a SQLite copy of the corpus (copied from either database): pages,
facets, search and canned queries, through Datasette's own test client."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.components.analysis_corpus import JAD, JDT, fill
from tressless_crawler.analysis.browse import make_datasette
from tressless_crawler.analysis.sqlite_copy import copy_to_sqlite
from tressless_crawler.db.engine import make_engine


@pytest.fixture
def corpus_copy(db_url: str, tmp_path: Path) -> Path:
    fill(db_url)
    source = make_engine(db_url)
    try:
        counts = copy_to_sqlite(source, tmp_path / "corpus.db")
    finally:
        source.dispose()
    assert counts["studies"] == 7 and counts["threads"] == 3 and counts["history"] == 1
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    return tmp_path / "corpus.db"


def fetch(path: Path, *urls: str) -> list[Any]:
    """GET each URL from a Datasette serving ``path``; JSON for .json URLs, else the page."""
    datasette = make_datasette(path)

    async def run() -> list[Any]:
        await datasette.invoke_startup()
        out = []
        for url in urls:
            response = await datasette.client.get(url)
            assert response.status_code == 200, (url, response.text[:500])
            out.append(response.json() if ".json" in url else response.text)
        return out

    try:
        return asyncio.run(run())
    finally:
        for database in datasette.databases.values():
            database.close()


def test_pages_describe_the_tables_and_the_database_is_immutable(corpus_copy: Path) -> None:
    index, database, studies = fetch(corpus_copy, "/", "/corpus", "/corpus/studies")
    assert "tressless corpus" in index
    assert "study_overview" in database and "most_cited_studies" in database.replace("-", "_")
    assert "Research summaries, one row per study page" in studies
    assert make_datasette(corpus_copy).databases["corpus"].is_mutable is False


def test_facets_journal_year_and_category(corpus_copy: Path) -> None:
    overview, threads = fetch(
        corpus_copy,
        "/corpus/study_overview.json?_facet=journal&_facet=published_year",
        "/corpus/threads.json?_facet=category",
    )
    journals = {r["value"]: r["count"] for r in overview["facet_results"]["journal"]["results"]}
    assert journals == {JAD: 3, JDT: 2, "Вестник дерматологии": 1}
    years = {r["value"]: r["count"] for r in overview["facet_results"]["published_year"]["results"]}
    assert years[2019] == 1 and sum(years.values()) == 7
    categories = {r["value"]: r["count"] for r in threads["facet_results"]["category"]["results"]}
    assert categories == {"Treatment": 2, "Alopecia areata": 1}


def test_search_boxes_use_the_fts_tables(corpus_copy: Path) -> None:
    studies, cyrillic, threads, overview, comments = fetch(
        corpus_copy,
        "/corpus/studies.json?_search=dutasteride+frontal&_shape=array",
        "/corpus/studies.json?_search=волос&_shape=array",
        "/corpus/threads.json?_search=sides&_shape=array",
        "/corpus/thread_overview.json?_search=dutasteride&_shape=array",
        "/corpus/comments.json?_search=cafe&_shape=array",
    )
    assert [r["study_id"] for r in studies] == ["D1"]
    assert [r["study_id"] for r in cyrillic] == ["R1"]
    assert [r["post_id"] for r in threads] == ["p2"]
    assert sorted(r["post_id"] for r in overview) == ["p1", "p2"]
    assert [r["comment_id"] for r in comments] == ["q1"]


def test_canned_queries(corpus_copy: Path) -> None:
    by_author, by_journal, by_text = fetch(
        corpus_copy,
        "/corpus/find_studies.json?words=king&_shape=array",
        "/corpus/find_studies.json?words=dermatological+treatment&_shape=array",
        "/corpus/find_studies.json?words=dutasteride+vertex&_shape=array",
    )
    assert [r["study_id"] for r in by_author] == ["A1", "A2"]  # newest first
    assert [r["study_id"] for r in by_journal] == ["D2", "A3"]
    assert [r["study_id"] for r in by_text] == ["D2"]
    cited, most_threads, authors, of_study, versions = fetch(
        corpus_copy,
        "/corpus/most_cited_studies.json?_shape=array",
        "/corpus/studies_most_threads.json?_shape=array",
        "/corpus/authors_most_studies.json?_shape=array",
        "/corpus/threads_of_study.json?study_id=D1&_shape=array",
        "/corpus/study_versions.json?study_id=D1&_shape=array",
    )
    assert [(r["study_id"], r["cited_by_studies"], r["citations"]) for r in cited] == [
        ("A1", 2, 40),
        ("A2", 2, 12),
    ]
    assert [(r["study_id"], r["community_count"]) for r in most_threads][:3] == [
        ("D1", 2),
        ("A3", 1),
        ("D2", 1),
    ]
    assert [(r["author"], r["studies"]) for r in authors][:2] == [("Jaén P", 2), ("King B", 2)]
    assert [r["post_id"] for r in of_study] == ["p1", "p2"]
    assert [(r["current"], r["tldr"]) for r in versions] == [
        (0, "Dutasteride 0.5 mg daily raised frontal hair counts."),
        (1, "Dutasteride 0.5 mg daily raised frontal hair counts more."),
    ]


def test_a_live_crawler_database_is_served_read_only_with_what_it_committed(
    sqlite_url: str, tmp_path: Path
) -> None:
    from sqlalchemy import text

    from tressless_crawler.analysis.browse import in_wal_mode

    fill(sqlite_url)
    path = tmp_path / "crawler.db"
    writer = make_engine(sqlite_url)
    try:
        with writer.begin() as conn:  # committed to the write-ahead log, not yet checkpointed
            conn.execute(text("UPDATE studies SET title = 'Renamed study' WHERE study_id = 'K1'"))
        assert in_wal_mode(path)
        datasette = make_datasette(path, immutable=False)
        assert datasette.databases["crawler"].is_mutable

        async def titles() -> list[str]:
            await datasette.invoke_startup()
            response = await datasette.client.get(
                "/crawler/studies.json?_search=renamed&_shape=array"
            )
            return [row["title"] for row in response.json()]

        try:
            assert asyncio.run(titles()) == ["Renamed study"]
        finally:
            for database in datasette.databases.values():
                database.close()
    finally:
        writer.dispose()


def test_browse_refuses_what_it_cannot_serve(sqlite_url: str, tmp_path: Path) -> None:
    from alembic import command

    from tressless_crawler.commands.browse import check_database
    from tressless_crawler.db import schema

    assert "no such file" in (check_database(tmp_path / "missing.db") or "")
    (tmp_path / "text.db").write_text("not a database at all, " * 100)
    assert "is not a crawler database" in (check_database(tmp_path / "text.db") or "")
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        command.upgrade(schema.alembic_config(connection=conn), "0004")
    engine.dispose()
    problem = check_database(tmp_path / "crawler.db") or ""
    assert "has schema 0004" in problem and "scrapy db upgrade" in problem


def test_the_copy_masks_credentials_an_old_run_recorded(db_url: str, tmp_path: Path) -> None:
    import sqlite3

    from sqlalchemy import text

    fill(db_url)
    engine = make_engine(db_url)
    secret = "postgresql://crawler:hunter2@db.internal:5432/corpus"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO crawl_runs (spider, started_at, status, pages_fetched, items_new, "
                "items_updated, items_unchanged, items_dropped, errors, settings, stats) VALUES "
                "('studies', :t, 'finished', 0, 0, 0, 0, '{}', 0, :settings, :stats)"
            ),
            {
                "t": "2026-01-01 00:00:00",
                "settings": f'{{"DATABASE_URL": "{secret}"}}',
                "stats": f'{{"note": "{secret}"}}',
            },
        )
    try:
        copy_to_sqlite(engine, tmp_path / "corpus.db")
    finally:
        engine.dispose()
    with sqlite3.connect(tmp_path / "corpus.db") as conn:
        dump = "\n".join(conn.iterdump())
    assert "hunter2" not in dump
    assert "db.internal" in dump  # the rest of the URL is kept
