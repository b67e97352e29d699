"""The store's spool and its replay, on SQLite and PostgreSQL.

A batch the database would not take is spooled by the store pipeline (here: a SQLite file
locked by another connection, no retries), and ``replay_spool`` loads spool files through the
store's upserts: once, idempotently, never over newer rows, skipping a line cut short by a
crash and any file a running crawl still holds.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from itemadapter import ItemAdapter
from scrapy.utils.test import get_crawler
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from tests.conftest import FIXTURES
from tressless_crawler.db.engine import make_engine
from tressless_crawler.db.models import History, Page, Study
from tressless_crawler.db.replay import replay_spool
from tressless_crawler.db.spool import SpoolWriter, spool_files
from tressless_crawler.parsers.study import parse_study
from tressless_crawler.pipelines.store import StorePipeline
from tressless_crawler.spiders.studies import StudiesSpider

PAGE = FIXTURES / "pages" / "study" / "sorafenib_cards_full.html"
URL = "https://tressless.com/research/alopecia-induced-by-sorafenib-mechanism-similar-to-aa-ZpoR"


def study(**changes: Any) -> dict[str, Any]:
    item = parse_study(PAGE.read_text(encoding="utf-8"), URL)
    data = ItemAdapter(item).asdict()
    data.update(changes)
    return data


def record(when: datetime, studies: list[dict[str, Any]]) -> dict[str, Any]:
    pages = [
        {
            "url": s["url"],
            "kind": "study",
            "key": s["study_id"],
            "status": 200,
            "etag": '"e"',
            "last_modified": None,
        }
        for s in studies
    ]
    return {
        "run_id": None,
        "crawled_at": when.isoformat(),
        "items": len(studies) * 2,
        "studies": studies,
        "threads": [],
        "gone": {"study": {}, "thread": {}},
        "pages": pages,
    }


def rows(db_url: str) -> tuple[dict[str, str], int, int]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            titles = dict(conn.execute(select(Study.study_id, Study.title)).all())
            history = conn.execute(select(func.count()).select_from(History)).scalar_one()
            pages = conn.execute(select(func.count()).select_from(Page)).scalar_one()
    finally:
        engine.dispose()
    return titles, history, pages


def replay(db_url: str, spool: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(db_url, immediate=True)
    try:
        from tressless_crawler.db.schema import ensure_schema

        ensure_schema(engine)
        return replay_spool(engine, spool)
    finally:
        engine.dispose()


def test_replay_loads_once_and_renames_the_file(db_url: str, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    writer = SpoolWriter(spool, "studies-run7.jsonl")
    now = datetime.now(UTC)
    writer.append(record(now, [study()]))
    writer.append(record(now, [study(study_id="Ab12", url=URL.replace("ZpoR", "Ab12"))]))
    writer.close()

    result = replay(db_url, spool)
    assert result.batches == 2 and result.counts["store/new"] == 2 and result.stale == 0
    assert [p.name for p in result.files] == ["studies-run7.jsonl.replayed"]
    assert spool_files(spool) == []
    titles, history, pages = rows(db_url)
    assert set(titles) == {"ZpoR", "Ab12"} and history == 0 and pages == 2

    again = replay(db_url, spool)
    assert again.batches == 0 and again.files == []


def test_replaying_the_same_batch_twice_changes_nothing(db_url: str, tmp_path: Path) -> None:
    now = datetime.now(UTC) - timedelta(minutes=5)
    for name in ("a.jsonl", "b.jsonl"):  # e.g. a batch half-written before it was spooled
        writer = SpoolWriter(tmp_path, name)
        writer.append(record(now, [study()]))
        writer.close()
    result = replay(db_url, tmp_path)
    assert result.batches == 2
    assert result.counts["store/new"] == 1 and result.counts.get("store/updated", 0) == 0
    titles, history, _ = rows(db_url)
    assert list(titles) == ["ZpoR"] and history == 0


def test_an_old_spool_never_rolls_back_newer_rows(db_url: str, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    writer = SpoolWriter(fresh, "new.jsonl")
    writer.append(record(datetime.now(UTC), [study(title="The newer title")]))
    writer.close()
    replay(db_url, fresh)

    old = tmp_path / "old"
    writer = SpoolWriter(old, "old.jsonl")
    writer.append(record(datetime.now(UTC) - timedelta(days=1), [study(title="An older title")]))
    writer.close()
    result = replay(db_url, old)
    assert result.stale == 2  # the study and its page
    titles, history, _ = rows(db_url)
    assert titles == {"ZpoR": "The newer title"} and history == 0


def test_a_line_cut_short_is_skipped_and_a_file_in_use_is_left(db_url: str, tmp_path: Path) -> None:
    writer = SpoolWriter(tmp_path, "crashed.jsonl")
    writer.append(record(datetime.now(UTC), [study()]))
    writer.close()
    with (tmp_path / "crashed.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(
            json.dumps(record(datetime.now(UTC), [study(study_id="Ab12")]))[:80]
        )  # no newline
    running = SpoolWriter(tmp_path, "running.jsonl")
    running.append(
        record(datetime.now(UTC), [study(study_id="Cd34", url=URL.replace("ZpoR", "Cd34"))])
    )
    try:
        result = replay(db_url, tmp_path)
    finally:
        running.close()
    assert result.batches == 1
    assert [p.name for p in result.busy] == ["running.jsonl"]
    titles, _, _ = rows(db_url)
    assert set(titles) == {"ZpoR"}
    assert [p.name for p in spool_files(tmp_path)] == ["running.jsonl"]


def test_the_store_spools_a_batch_the_database_refuses_and_replay_loads_it(
    sqlite_url: str, tmp_path: Path
) -> None:
    """A SQLite file locked by another connection, no retries: the batch goes to the spool
    (SPOOL_DIR, the setting's new name)."""
    spool = tmp_path / "spool"
    crawler = get_crawler(
        StudiesSpider,
        {
            "DATABASE_URL": sqlite_url,
            "SPOOL_DIR": str(spool),
            "STORE_BATCH_SIZE": 1,
            "STORE_RETRY_TIMES": 1,
            "STORE_RETRY_BACKOFF": 0.05,
            "SQLITE_BUSY_TIMEOUT": 0.1,
        },
    )
    pipeline = StorePipeline.from_crawler(crawler)
    item = parse_study(PAGE.read_text(encoding="utf-8"), URL)

    async def run() -> None:
        await pipeline.open_spider()
        holder = sqlite3.connect(make_url(sqlite_url).database, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            await pipeline.process_item(item)  # refused twice (a retry), then spooled
        finally:
            holder.execute("COMMIT")
            holder.close()
        await pipeline.close_spider()

    asyncio.run(run())
    stats = crawler.stats.get_stats()
    assert (
        stats["store/retries"] == 1
        and stats["store/journaled"] == 1
        and "store/batches" not in stats
    )
    assert rows(sqlite_url)[0] == {}
    [path] = spool_files(spool)
    assert path.name.startswith("studies-") and len(path.read_text().splitlines()) == 1

    result = replay(sqlite_url, spool)
    assert result.batches == 1 and result.counts["store/new"] == 1
    assert set(rows(sqlite_url)[0]) == {"ZpoR"}


def test_items_arriving_during_a_slow_write_wait_and_go_into_the_next_batch(
    sqlite_url: str,
) -> None:
    """Batches do not pile up in memory behind a slow database: the pipeline holds the items
    that fill the buffer until the write in progress is done (Scrapy's backpressure)."""
    crawler = get_crawler(
        StudiesSpider,
        {"DATABASE_URL": sqlite_url, "STORE_BATCH_SIZE": 2, "SQLITE_BUSY_TIMEOUT": 30},
    )
    pipeline = StorePipeline.from_crawler(crawler)
    base = parse_study(PAGE.read_text(encoding="utf-8"), URL)
    items = [dataclasses.replace(base, study_id=f"Bp{i}") for i in range(10)]

    async def run() -> tuple[int, int]:
        await pipeline.open_spider()
        holder = sqlite3.connect(make_url(sqlite_url).database, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # the first batch's write waits for this
        tasks = []
        for item in items:
            tasks.append(asyncio.ensure_future(pipeline.process_item(item)))
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)
        returned_while_locked = sum(task.done() for task in tasks)
        buffered_while_locked = len(pipeline.buffer)
        holder.execute("COMMIT")
        holder.close()
        await asyncio.gather(*tasks)
        await pipeline.close_spider()
        return returned_while_locked, buffered_while_locked

    returned, buffered = asyncio.run(run())
    # Item 1 was buffered, item 2 started the write; item 3 was buffered and items 4..10
    # wait with the buffer, which holds 3..10 until the write is done.
    assert (returned, buffered) == (2, 8)
    stats = crawler.stats.get_stats()
    assert stats["store/batches"] == 2 and stats["store/new"] == 10
    assert set(rows(sqlite_url)[0]) == {f"Bp{i}" for i in range(10)}


def test_the_end_of_a_run_is_spooled_when_the_database_is_down_and_replay_closes_it(
    sqlite_url: str, tmp_path: Path
) -> None:
    from tressless_crawler.db import locks, runs
    from tressless_crawler.db.models import CrawlLock, CrawlRun
    from tressless_crawler.db.schema import ensure_schema
    from tressless_crawler.runs.recorder import SPOOLED, close_run

    spool = tmp_path / "spool"
    engine = make_engine(sqlite_url, busy_timeout=0.1)
    ensure_schema(engine)
    started = datetime(2026, 5, 1, tzinfo=UTC)
    assert locks.acquire(engine, "studies", started, 120.0) == locks.Acquired()
    run_id = runs.start_run(engine, "studies", {}, started)
    locks.attach_run(engine, "studies", run_id)
    stats = {"item_scraped_count": 7, "start_time": started, "store/new": 7}

    holder = sqlite3.connect(make_url(sqlite_url).database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # the database "does not answer" when the crawl ends
    try:
        status = close_run(
            engine,
            "studies",
            run_id,
            "finished",
            stats,
            started + timedelta(minutes=5),
            use_lock=True,
            spool_dir=spool,
        )
    finally:
        holder.execute("COMMIT")
        holder.close()
    assert status == SPOOLED
    with engine.connect() as conn:
        assert conn.execute(select(CrawlRun.status)).scalar_one() == "running"
        assert conn.execute(select(CrawlLock.run_id)).scalar_one() == run_id  # still held
    engine.dispose()

    first = replay(sqlite_url, spool)
    second = replay(sqlite_url, spool)
    assert (first.runs_finished, second.runs_finished) == (1, 0)
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        run = session.execute(select(CrawlRun)).scalar_one()
    engine.dispose()
    assert run.status == "finished" and run.finish_reason == "finished"
    assert run.stats["item_scraped_count"] == 7 and run.items_new == 7
    assert run.finished_at is not None
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:  # replay released the lock the run held
        assert conn.execute(select(CrawlLock)).all() == []
    engine.dispose()
