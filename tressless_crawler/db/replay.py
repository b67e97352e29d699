"""``scrapy db replay``: load spooled batches into the database.

Each batch goes through the store's own write (:func:`tressless_crawler.db.batch.write_batch`):
rows are upserted on their natural keys, so a batch written twice (it was
half-written before it was spooled, or the replay is run again) changes
nothing the second time. Times are those of the crawl that spooled the batch,
and what the database saw *after* that crawl wins: a study, thread or page row
seen later than the batch is left alone (``stale``), so an old spool never
rolls back newer data.

A file is renamed to ``*.replayed`` once all its batches are in; a file that
failed halfway stays, and replaying it again is harmless. Once a file is in, its
run's ``crawl_runs`` row gets the replayed figures (new, updated, unchanged), and a
run that ended ``finished_with_journal`` becomes ``finished``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from tressless_crawler.db import locks, runs
from tressless_crawler.db.batch import Batch, write_batch
from tressless_crawler.db.models import CrawlRun, Page, Study, Thread
from tressless_crawler.db.spool import locked, mark_replayed, read_records, spool_files
from tressless_crawler.exceptions import SpoolBusy

logger = logging.getLogger(__name__)


@dataclass
class ReplayResult:
    files: list[Path] = field(default_factory=list)  # fully loaded (and renamed)
    busy: list[Path] = field(default_factory=list)  # held by a running crawl: left for later
    failed: list[Path] = field(default_factory=list)  # a batch failed: left for another replay
    batches: int = 0
    items: int = 0
    runs_finished: int = 0  # crawl_runs rows closed from the spool (the database was down)
    stale: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def replay_spool(engine: Engine, directory: Path | str) -> ReplayResult:
    """Load every spool file in ``directory`` (see the module docstring)."""
    result = ReplayResult()
    for path in spool_files(directory):
        try:
            with locked(path):
                _replay_file(engine, path, result)
        except SpoolBusy:
            logger.warning("%s is still being written by a running crawl: left for later", path)
            result.busy.append(path)
            continue
        except Exception:
            logger.exception(
                "Replaying %s failed; it stays in place (replaying it again is harmless)", path
            )
            result.failed.append(path)
            continue
        result.files.append(mark_replayed(path))
    return result


def _replay_file(engine: Engine, path: Path, result: ReplayResult) -> None:
    per_run: dict[int, tuple[dict[str, int], int]] = {}
    for number, record in read_records(path):
        crawled_at = _time(record.get("crawled_at"))
        if "run_finish" in record:
            result.runs_finished += _finish_run(engine, record, crawled_at)
            logger.info("%s line %d: end of crawl run %s", path.name, number, record.get("run_id"))
            continue
        batch = Batch.from_record(record)
        result.stale += _drop_stale(engine, batch, crawled_at)
        run_id = record.get("run_id")
        if len(batch):
            counts = write_batch(engine, batch, run_id, crawled_at)
            for key, value in counts.items():
                result.counts[key] = result.counts.get(key, 0) + value
            if isinstance(run_id, int):
                run_counts, run_items = per_run.get(run_id, ({}, 0))
                for key, value in counts.items():
                    run_counts[key] = run_counts.get(key, 0) + value
                per_run[run_id] = (run_counts, run_items + batch.items)
        result.batches += 1
        result.items += batch.items
        logger.info("%s line %d: %d items loaded", path.name, number, batch.items)
    for run_id, (counts, items) in per_run.items():
        runs.add_replayed(engine, run_id, counts, items)


def _finish_run(engine: Engine, record: dict[str, Any], finished_at: datetime) -> int:
    """Close a run whose end was spooled, unless it was closed since (1 if it was closed)."""
    run_id = record.get("run_id")
    finish = record["run_finish"]
    if run_id is None:
        return 0
    with engine.connect() as conn:
        status = conn.execute(select(CrawlRun.status).where(CrawlRun.id == run_id)).scalar()
    if status not in ("running", "interrupted"):
        return 0  # unknown run, or finished already (a replay run twice)
    runs.finish_run(
        engine, run_id, finish.get("reason") or "finished", finish.get("stats") or {}, finished_at
    )
    if locks.release_run(engine, run_id):
        logger.info("Released the crawl lock of run %s", run_id)
    return 1


def _drop_stale(engine: Engine, batch: Batch, crawled_at: datetime) -> int:
    """Remove from ``batch`` what the database has seen after ``crawled_at``; returns how many."""
    with engine.connect() as conn:
        study_ids = {s.get("study_id") for s in batch.studies} | set(batch.gone.get("study", {}))
        newer_studies = _newer(conn, Study.study_id, Study.last_seen, study_ids, crawled_at)
        post_ids = {t.get("post_id") for t in batch.threads} | set(batch.gone.get("thread", {}))
        newer_threads = _newer(
            conn, Thread.thread_key, Thread.thread_crawled_at, post_ids, crawled_at
        )
        newer_pages = _newer(
            conn, Page.url, Page.fetched_at, {p.get("url") for p in batch.pages}, crawled_at
        )
    before = len(batch)
    batch.studies = [s for s in batch.studies if s.get("study_id") not in newer_studies]
    batch.threads = [t for t in batch.threads if t.get("post_id") not in newer_threads]
    batch.gone["study"] = {
        k: v for k, v in batch.gone.get("study", {}).items() if k not in newer_studies
    }
    batch.gone["thread"] = {
        k: v for k, v in batch.gone.get("thread", {}).items() if k not in newer_threads
    }
    batch.pages = [p for p in batch.pages if p.get("url") not in newer_pages]
    return before - len(batch)


def _newer(conn: Any, key: Any, seen: Any, keys: Iterable[str | None], when: datetime) -> set[str]:
    wanted = sorted(k for k in keys if k)
    newer: set[str] = set()
    for start in range(0, len(wanted), 500):
        rows = conn.execute(select(key, seen).where(key.in_(wanted[start : start + 500])))
        newer.update(k for k, value in rows if value is not None and _aware(value) > when)
    return newer


def _time(value: Any) -> datetime:
    try:
        return _aware(datetime.fromisoformat(str(value)))
    except ValueError:
        return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    """SQLite gives naive datetimes; every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
