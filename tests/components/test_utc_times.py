"""Every time the project writes is UTC with an explicit offset, the same text on both databases.

The same crawl (a run, studies changed once so they have history, a thread with comments) is
written to a SQLite file and to PostgreSQL with the same clock; ``scrapy export`` of every
table in every format, history included, must then give the same bytes from both, and every
time in them must read ``...+00:00``. The PostgreSQL session runs in a zone other than UTC,
so a time that is not converted shows.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import event, text

from tests.components.test_store import study
from tests.conftest import run_scrapy
from tressless_crawler.db import models, runs, schema
from tressless_crawler.db import study_writes as store
from tressless_crawler.db import thread_writes as thread_store
from tressless_crawler.db.engine import make_engine
from tressless_crawler.db.types import UTCDateTime, utc_iso
from tressless_crawler.export import queries
from tressless_crawler.items import CommentItem, ThreadItem

T0 = datetime(2020, 10, 31, 3, 59, 49, 123456, tzinfo=UTC)
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?P<offset>[^\",;\s]*)")
EXPORTS = [
    (what, fmt, history)
    for what in queries.EXPORTS
    for fmt in ("jsonl", "json", "csv")
    for history in ([False, True] if what == "studies" else [False])
]


def write_crawl(url: str, *, session_zone: str | None = None) -> None:
    engine = make_engine(url, immediate=True)
    if session_zone is not None:  # a server whose clock is not UTC

        @event.listens_for(engine, "connect")
        def zone(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET TIME ZONE '{session_zone}'")

    try:
        schema.upgrade(engine)
        run_id = runs.start_run(engine, "community", {"SITE_URL": "x"}, T0)
        later = T0 + timedelta(hours=2)
        # an aware time in another zone is stored as the UTC moment it is
        store.write_studies(
            engine, [study("S001")], run_id, T0.astimezone(timezone(-timedelta(hours=5)))
        )
        store.write_studies(engine, [study("S001", title="Changed")], run_id, later)
        thread = ThreadItem(
            post_id="k3j9xz",
            url="https://www.reddit.com/r/tressless/comments/k3j9xz/t",
            title="T",
            posted_at="2020-10-31T03:59:49Z",
            comments=[CommentItem(comment_id="c1", body="b", posted_at="2020-10-31T04:00:00Z")],
            source_format="reddit_json",
        )
        thread_store.write_threads(engine, [asdict(thread)], run_id, later)
        stats = {"start_time": T0, "finish_time": later, "response_received_count": 3}
        runs.finish_run(engine, run_id, "finished", stats, later)
    finally:
        engine.dispose()


def test_exports_are_the_same_utc_text_from_both_databases(
    sqlite_url: str, postgres_url: str, tmp_path: Path
) -> None:
    write_crawl(sqlite_url)
    write_crawl(postgres_url, session_zone="America/New_York")
    for what, fmt, history in EXPORTS:
        texts = []
        for url in (sqlite_url, postgres_url):
            args = ["export", what, "--format", fmt] + (["--history"] if history else [])
            result = run_scrapy(args, {"DATABASE_URL": url}, tmp_path)
            assert result.returncode == 0, result.stderr[-2000:]
            texts.append(result.stdout)
        assert texts[0] == texts[1], (what, fmt, history)
        times = [m for m in ISO_TIME.finditer(texts[0])]
        if what != "authors":
            assert times, (what, fmt)
        assert {m.group("offset") for m in times} <= {"+00:00", "Z"}, (what, fmt, texts[0])
    # the run's stats hold Scrapy's times as text: UTC with the offset too
    runs_out = run_scrapy(["export", "runs"], {"DATABASE_URL": postgres_url}, tmp_path).stdout
    assert '"started_at":"2020-10-31T03:59:49.123456+00:00"' in runs_out


def test_the_report_says_its_times_in_utc(postgres_url: str, tmp_path: Path) -> None:
    write_crawl(postgres_url, session_zone="Asia/Tokyo")
    result = run_scrapy(["report"], {"DATABASE_URL": postgres_url}, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "started 2020-10-31T03:59:49+00:00" in result.stdout


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2020, 10, 31, 3, 59, 49), "2020-10-31T03:59:49+00:00"),
        (
            datetime(2020, 10, 30, 23, 59, 49, tzinfo=timezone(-timedelta(hours=4))),
            "2020-10-31T03:59:49+00:00",
        ),
        ("2020-10", "2020-10"),
        (None, None),
    ],
)
def test_utc_iso(value: object, text: object) -> None:
    assert utc_iso(value) == text


def test_a_sqlite_file_holds_every_time_with_its_offset(sqlite_url: str) -> None:
    """Whoever opens the SQLite file itself (sqlite3, Datasette, pandas) reads UTC times."""
    write_crawl(sqlite_url)
    engine = make_engine(sqlite_url)
    seen = 0
    try:
        with engine.connect() as conn:
            for table in models.Base.metadata.sorted_tables:
                for column in table.c:
                    if not isinstance(column.type, UTCDateTime):
                        continue
                    name = column.name
                    query = f"SELECT {name} FROM {table.name} WHERE {name} IS NOT NULL"
                    for (value,) in conn.execute(text(query)):
                        seen += 1
                        assert re.fullmatch(
                            r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00:00", value
                        ), (table.name, column.name, value)
            # SQLite's own date functions read the text as that moment
            assert (
                conn.execute(text("SELECT datetime(started_at) FROM crawl_runs")).scalar_one()
                == "2020-10-31 03:59:49"
            )
    finally:
        engine.dispose()
    assert seen >= 15  # runs, pages-free crawl: studies, history, threads, comments
