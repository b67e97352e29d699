"""The crawl lock: one crawl per spider and database, a distributed crawl's workers sharing it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tressless_crawler.db import locks, runs
from tressless_crawler.db.engine import make_engine
from tressless_crawler.db.models import CrawlLock, CrawlRun
from tressless_crawler.db.schema import upgrade
from tressless_crawler.exceptions import CrawlLocked

FRONTIER = "tressless-crawler:nightly"


def lock_rows(engine) -> list[tuple[str | None, str | None]]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(CrawlLock.name, CrawlLock.frontier))]


def statuses(engine) -> dict[int, str]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return dict(conn.execute(select(CrawlRun.id, CrawlRun.status)).all())


def test_workers_of_one_distributed_crawl_share_the_lock_and_others_are_refused(
    db_url: str,
) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    now = runs.utcnow()
    dead_run = runs.start_run(engine, "studies", {}, now - timedelta(hours=1))  # never closed

    first = locks.acquire(engine, "studies", now, 120.0, FRONTIER)
    assert first == locks.Acquired(interrupted=1)  # taken anew: the dead run is marked
    run_one = runs.start_run(engine, "studies", {}, now)
    locks.attach_run(engine, "studies", run_one)
    # Another worker of the same crawl joins; its joining marks nobody's run interrupted.
    assert locks.acquire(engine, "studies", now, 120.0, FRONTIER) == locks.Acquired(joined=True)
    assert statuses(engine) == {dead_run: "interrupted", run_one: "running"}

    # A single-process crawl, or another distributed crawl, of the same spider is refused.
    with pytest.raises(CrawlLocked, match=f"distributed crawl on the frontier {FRONTIER}"):
        locks.acquire(engine, "studies", now, 120.0)
    with pytest.raises(CrawlLocked):
        locks.acquire(engine, "studies", now, 120.0, "tressless-crawler:other")
    # Other spiders have locks of their own.
    assert locks.acquire(engine, "community", now, 120.0) == locks.Acquired()

    later = now + timedelta(seconds=100)
    locks.heartbeat(engine, "studies", later, FRONTIER)  # any worker keeps it fresh
    with engine.connect() as conn:
        row = conn.execute(select(CrawlLock).where(CrawlLock.name == "studies")).one()
    assert row.run_id == run_one and row.frontier == FRONTIER
    with pytest.raises(CrawlLocked):  # 150 s after its start, but 50 s after the beat
        locks.acquire(engine, "studies", now + timedelta(seconds=150), 120.0)

    locks.release(engine, "studies")  # not this process's own lock: nothing happens
    assert ("studies", FRONTIER) in lock_rows(engine)
    locks.release(engine, "studies", FRONTIER)
    assert lock_rows(engine) == [("community", None)]
    assert locks.acquire(engine, "studies", later, 120.0).joined is False
    engine.dispose()


def test_a_stale_distributed_lock_is_taken_over_by_a_single_crawl(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    then = runs.utcnow() - timedelta(minutes=10)
    locks.acquire(engine, "studies", then, 120.0, FRONTIER)
    worker_run = runs.start_run(engine, "studies", {}, then)
    taken = locks.acquire(engine, "studies", runs.utcnow(), 120.0)
    assert taken.previous is not None and taken.previous.frontier == FRONTIER
    assert taken.interrupted == 1 and statuses(engine) == {worker_run: "interrupted"}
    assert lock_rows(engine) == [("studies", None)]
    locks.release(engine, "studies")
    assert lock_rows(engine) == []
    engine.dispose()
