"""crawl_runs bookkeeping: a dead distributed worker's run is closed by the worker that finds it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from tressless_crawler.db import runs
from tressless_crawler.db.engine import make_engine
from tressless_crawler.db.models import CrawlRun
from tressless_crawler.db.schema import upgrade
from tressless_crawler.distributed.mode import worker_id


def test_every_run_names_its_process_as_workers_name_each_other(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    run_id = runs.start_run(engine, "studies", {}, runs.utcnow())
    with engine.connect() as conn:
        row = conn.execute(select(CrawlRun).where(CrawlRun.id == run_id)).one()
    host, pid, nonce = row.worker.split(":")
    assert (host, int(pid)) == (row.host, row.pid) and len(nonce) == 6
    assert row.worker == worker_id() == worker_id()  # one id for the life of the process
    engine.dispose()


def test_a_lost_workers_running_run_is_interrupted_and_nothing_else(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    now = runs.utcnow()
    ids = {}
    for name, spider, worker, status in [
        ("lost", "studies", "h:1:aaaaaa", "running"),
        ("lost_before", "studies", "h:1:aaaaaa", "finished"),  # an earlier, closed run
        ("other_spider", "community", "h:1:aaaaaa", "running"),
        ("alive", "studies", "h:2:bbbbbb", "running"),
    ]:
        ids[name] = runs.start_run(engine, spider, {}, now - timedelta(minutes=5))
        with engine.begin() as conn:
            conn.execute(
                update(CrawlRun)
                .where(CrawlRun.id == ids[name])
                .values(worker=worker, status=status)
            )
    assert runs.mark_worker_lost(engine, "studies", "h:1:aaaaaa", now) == 1
    assert runs.mark_worker_lost(engine, "studies", "h:1:aaaaaa", now) == 0  # once
    with engine.connect() as conn:
        rows = {
            row.id: (row.status, row.finish_reason, row.finished_at is not None)
            for row in conn.execute(select(CrawlRun))
        }
    assert rows == {
        ids["lost"]: ("interrupted", "worker_lost", True),
        ids["lost_before"]: ("finished", None, False),
        ids["other_spider"]: ("running", None, False),
        ids["alive"]: ("running", None, False),
    }
    engine.dispose()
