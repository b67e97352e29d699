"""The crawl_runs table: one row per spider run, opened at start, closed at the end."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.orm import Session

from tressless_crawler.db.models import CrawlRun
from tressless_crawler.db.types import utc_iso
from tressless_crawler.distributed.mode import worker_id
from tressless_crawler.stats import (
    DROP_MARKER,
    RUN_COLUMNS,
    STORE_ITEMS_LOST,
    STORE_JOURNALED,
    STORE_JOURNALED_ITEMS,
    STORE_NEW,
    STORE_REPLAYED_ITEMS,
    STORE_UNCHANGED,
    STORE_UPDATED,
)

# How a run ended, from Scrapy's close reason.
STATUS_BY_REASON = {
    "finished": "finished",
    "shutdown": "interrupted",
    "cancelled": "interrupted",
}

# A run that finished but could not store every item: they wait in the spool. The stored
# value keeps the name it had when the spool was called the journal (reports and scripts
# match on it).
FINISHED_WITH_SPOOL = "finished_with_journal"


def run_status(reason: str, stats: Mapping[str, Any]) -> str:
    """A run's status from Scrapy's close reason and what its store did.

    A run that finished with items in the spool says so (``finished_with_journal``, until
    ``scrapy db replay`` loads them); one whose items were lost outright (not even
    spooled) failed.
    """
    status = STATUS_BY_REASON.get(reason, "failed")
    if status != "finished":
        return status
    if int(stats.get(STORE_ITEMS_LOST, 0) or 0):
        return "failed"
    if int(stats.get(STORE_JOURNALED_ITEMS, 0) or 0) or int(stats.get(STORE_JOURNALED, 0) or 0):
        return FINISHED_WITH_SPOOL
    return status


def utcnow() -> datetime:
    return datetime.now(UTC)


def start_run(engine: Engine, spider: str, settings: Mapping[str, Any], now: datetime) -> int:
    with engine.begin() as conn:
        result = conn.execute(
            insert(CrawlRun).values(
                spider=spider,
                started_at=now,
                status="running",
                items_dropped={},
                settings=dict(settings),
                stats={},
                host=socket.gethostname(),
                pid=os.getpid(),
                worker=worker_id(),
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]


def run_summary(stats: Mapping[str, Any]) -> dict[str, Any]:
    """The crawl_runs columns that come from Scrapy's stats."""
    dropped = {
        key: value for key, value in stats.items() if DROP_MARKER in key and isinstance(value, int)
    }
    summary: dict[str, Any] = {
        column: int(stats.get(key, 0)) for column, key in RUN_COLUMNS.items()
    }
    summary["items_dropped"] = dropped
    return summary


def finish_run(
    engine: Engine, run_id: int, reason: str, stats: Mapping[str, Any], now: datetime
) -> str:
    status = run_status(reason, stats)
    with engine.begin() as conn:
        conn.execute(
            update(CrawlRun)
            .where(CrawlRun.id == run_id)
            .values(
                finished_at=now,
                status=status,
                finish_reason=reason,
                stats=jsonable_stats(stats),
                **run_summary(stats),
            )
        )
    return status


def record_progress(engine: Engine, run_id: int, stats: Mapping[str, Any]) -> int:
    """The figures of a run still going, so far: what its row keeps if the process dies."""
    with engine.begin() as conn:
        result = conn.execute(
            update(CrawlRun)
            .where(CrawlRun.id == run_id, CrawlRun.status == "running")
            .values(stats=jsonable_stats(stats), **run_summary(stats))
        )
        return result.rowcount or 0


def add_replayed(engine: Engine, run_id: int, counts: Mapping[str, int], items: int) -> bool:
    """A replay loaded the spooled items of ``run_id``: add them to the run's figures.

    A run that ended ``finished_with_journal`` is ``finished`` once its spool is loaded (its
    stats keep ``store/replayed_items``). False when the run has no row.
    """
    with engine.begin() as conn:
        run = conn.execute(
            select(
                CrawlRun.status,
                CrawlRun.stats,
                CrawlRun.items_new,
                CrawlRun.items_updated,
                CrawlRun.items_unchanged,
            ).where(CrawlRun.id == run_id)
        ).first()
        if run is None:
            return False
        stats = dict(run.stats or {})
        for key, value in counts.items():
            if isinstance(stats.get(key, 0), int):
                stats[key] = int(stats.get(key, 0)) + int(value)
        stats[STORE_REPLAYED_ITEMS] = int(stats.get(STORE_REPLAYED_ITEMS, 0)) + items
        values: dict[str, Any] = {
            "stats": stats,
            "items_new": (run.items_new or 0) + int(counts.get(STORE_NEW, 0)),
            "items_updated": (run.items_updated or 0) + int(counts.get(STORE_UPDATED, 0)),
            "items_unchanged": (run.items_unchanged or 0) + int(counts.get(STORE_UNCHANGED, 0)),
        }
        if run.status == FINISHED_WITH_SPOOL:
            values["status"] = "finished"
        conn.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(**values))
    return True


def mark_stale_runs(conn: Connection, spider: str) -> int:
    """Runs of this spider still "running" when a crawl takes its lock died without closing.

    Called by ``tressless_crawler.db.locks.acquire`` in the transaction that takes the lock, before
    the
    new run (or, in a distributed crawl, any worker's run) has a row.
    """
    result = conn.execute(
        update(CrawlRun)
        .where(CrawlRun.spider == spider, CrawlRun.status == "running")
        .values(status="interrupted", finish_reason="crashed")
    )
    return result.rowcount or 0


def mark_worker_lost(engine: Engine, spider: str, worker: str, now: datetime) -> int:
    """The runs of a distributed worker found dead by another one: interrupted.

    What the dead worker counted lived in its memory and is gone: its pages were stored, and
    are counted by the database, not by any run's figures.
    """
    with engine.begin() as conn:
        result = conn.execute(
            update(CrawlRun)
            .where(
                CrawlRun.spider == spider,
                CrawlRun.worker == worker,
                CrawlRun.status == "running",
            )
            .values(status="interrupted", finish_reason="worker_lost", finished_at=now)
        )
        return result.rowcount or 0


def previous_run(
    engine: Engine, spider: str, before: int, finished_only: bool = False
) -> CrawlRun | None:
    """The latest run of ``spider`` older than run ``before``."""
    stmt = select(CrawlRun).where(CrawlRun.spider == spider, CrawlRun.id < before)
    if finished_only:
        stmt = stmt.where(CrawlRun.status == "finished")
    with Session(engine) as session:
        return session.execute(stmt.order_by(CrawlRun.id.desc()).limit(1)).scalars().first()


def get_run(
    engine: Engine, run_id: int | None = None, spider: str | None = None
) -> CrawlRun | None:
    """A run by id, or the latest one (of ``spider`` when given)."""
    stmt = select(CrawlRun)
    if run_id is not None:
        stmt = stmt.where(CrawlRun.id == run_id)
    if spider:
        stmt = stmt.where(CrawlRun.spider == spider)
    with Session(engine) as session:
        return session.execute(stmt.order_by(CrawlRun.id.desc()).limit(1)).scalars().first()


def jsonable_stats(stats: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in stats.items():
        if isinstance(value, datetime):
            out[key] = utc_iso(value)
        elif isinstance(value, (int, float, str, bool)) or value is None:
            out[key] = value
        else:
            out[key] = str(value)
    return out
