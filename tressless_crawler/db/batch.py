"""The one write path of crawled data: a batch of items and page records, one transaction.

The store pipeline and ``scrapy db replay`` both write through :func:`write_batch`: the
studies, threads, gone marks and page validators of a batch commit together or not at all,
so a crash or a database error never leaves half a batch behind (and a batch that failed can
be spooled and written again as a whole). The run id is passed in by the caller.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from tressless_crawler.db import study_writes, thread_writes
from tressless_crawler.db.names import name_ids_for
from tressless_crawler.db.study_writes import BatchResult, lock_for_write
from tressless_crawler.stats import (
    STORE_GONE,
    STORE_KIND,
    STORE_NEW,
    STORE_PAGES,
    STORE_UNCHANGED,
    STORE_UPDATED,
)


class Batch:
    """What waits for the next write: items (as dicts) and what fetched pages answered."""

    def __init__(self) -> None:
        self.studies: list[dict[str, Any]] = []
        self.threads: list[dict[str, Any]] = []
        self.gone: dict[str, dict[str, int]] = {"study": {}, "thread": {}}
        self.pages: list[dict[str, Any]] = []

    def __len__(self) -> int:
        return (
            len(self.studies)
            + len(self.threads)
            + len(self.pages)
            + sum(map(len, self.gone.values()))
        )

    @property
    def items(self) -> int:
        """Studies and threads: the items of the crawl (page records are not items)."""
        return len(self.studies) + len(self.threads)

    def as_record(self) -> dict[str, Any]:
        """The batch as a JSON-able spool record (:mod:`tressless_crawler.db.spool`)."""
        return {
            "studies": self.studies,
            "threads": self.threads,
            "gone": self.gone,
            "pages": self.pages,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Batch:
        batch = cls()
        batch.studies = list(record.get("studies") or [])
        batch.threads = list(record.get("threads") or [])
        gone = record.get("gone") or {}
        batch.gone = {kind: dict(gone.get(kind) or {}) for kind in ("study", "thread")}
        batch.pages = list(record.get("pages") or [])
        return batch


def write_batch(engine: Engine, batch: Batch, run_id: int | None, now: datetime) -> dict[str, int]:
    """Write one batch in one transaction; returns the crawl stats to add. Idempotent (upserts).

    Blocking: the pipeline calls it in a worker thread.
    """
    counts: dict[str, int] = {}
    names = name_ids_for(engine)
    try:
        with engine.begin() as conn:
            lock_for_write(conn)
            if batch.studies:
                studies = study_writes.write_studies_in(conn, batch.studies, names, run_id, now)
                _count(counts, "studies", studies)
            if batch.threads:
                threads, comments = thread_writes.write_threads_in(conn, batch.threads, run_id, now)
                _count(counts, "threads", threads)
                _count(counts, "comments", comments, total=False)
            gone = study_writes.mark_studies_gone_in(conn, batch.gone.get("study", {}), run_id, now)
            gone += thread_writes.mark_threads_gone_in(
                conn, batch.gone.get("thread", {}), run_id, now
            )
            confirmed = study_writes.record_pages_in(conn, batch.pages, run_id, now)
    except BaseException:
        names.rollback()
        raise
    names.commit()
    counts[STORE_GONE] = gone
    if batch.pages:
        counts[STORE_PAGES] = len(batch.pages)
        studies_unchanged = STORE_KIND.key("studies", "unchanged")
        counts[studies_unchanged] = counts.get(studies_unchanged, 0) + confirmed
        counts[STORE_UNCHANGED] = counts.get(STORE_UNCHANGED, 0) + confirmed
    return counts


# The totals of studies and threads together (comments are not items).
TOTALS = {"new": STORE_NEW, "updated": STORE_UPDATED, "unchanged": STORE_UNCHANGED}


def _count(counts: dict[str, int], kind: str, result: BatchResult, total: bool = True) -> None:
    for outcome in ("new", "updated", "unchanged", "gone"):
        value = getattr(result, outcome)
        key = STORE_KIND.key(kind, outcome)
        counts[key] = counts.get(key, 0) + value
        if total and outcome in TOTALS:
            counts[TOTALS[outcome]] = counts.get(TOTALS[outcome], 0) + value
