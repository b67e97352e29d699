"""Stores items in the database: buffered, one transaction per batch, off the event loop.

A batch that fails on a transient database error (connection refused or lost,
database locked) is retried ``STORE_RETRY_TIMES`` times, waiting
``STORE_RETRY_BACKOFF`` seconds, then twice that, and so on. A batch that still
fails goes to the journal (:mod:`crawler.journal`, under ``JOURNAL_DIR``) and the
crawl goes on; ``scrapy db replay`` loads it later. While the database stays
down, later batches get one attempt each before they are journaled, so the
crawl is not slowed by retries that cannot succeed.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler import signals as crawler_signals
from crawler.db import store, thread_store
from crawler.db.engine import is_transient, make_engine, redact_url
from crawler.db.runs import utcnow
from crawler.db.schema import SchemaOutdated, ensure_schema
from crawler.db.store import BatchResult
from crawler.extensions.crawlrun import RUN_ID_STAT
from crawler.items import StudyItem, ThreadItem, as_dict
from crawler.journal import JournalWriter, journal_name

logger = logging.getLogger(__name__)

GONE_STATUSES = (404, 410)


class Buffer:
    """What waits for the next batch."""

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

    def as_record(self) -> dict[str, Any]:
        """The batch as a JSON-able journal record."""
        return {
            "studies": self.studies,
            "threads": self.threads,
            "gone": self.gone,
            "pages": self.pages,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Buffer:
        batch = cls()
        batch.studies = list(record.get("studies") or [])
        batch.threads = list(record.get("threads") or [])
        gone = record.get("gone") or {}
        batch.gone = {kind: dict(gone.get(kind) or {}) for kind in ("study", "thread")}
        batch.pages = list(record.get("pages") or [])
        return batch


def write_batch(engine: Any, batch: Buffer, run_id: int | None, now: datetime) -> dict[str, int]:
    """Write one batch (in a worker thread); returns the stats to add. Idempotent (upserts)."""
    counts: dict[str, int] = {}
    if batch.studies:
        _count(counts, "studies", store.write_studies(engine, batch.studies, run_id, now))
    if batch.threads:
        threads, comments = thread_store.write_threads(engine, batch.threads, run_id, now)
        _count(counts, "threads", threads)
        _count(counts, "comments", comments, total=False)
    gone = store.mark_studies_gone(engine, batch.gone.get("study", {}), run_id, now)
    gone += thread_store.mark_threads_gone(engine, batch.gone.get("thread", {}), run_id, now)
    counts["store/gone"] = gone
    if batch.pages:
        confirmed = store.record_pages(engine, batch.pages, run_id, now)
        counts["store/pages"] = len(batch.pages)
        counts["store/studies/unchanged"] = counts.get("store/studies/unchanged", 0) + confirmed
        counts["store/unchanged"] = counts.get("store/unchanged", 0) + confirmed
    return counts


class StorePipeline:
    def __init__(
        self,
        crawler: Crawler,
        database_url: str,
        batch_size: int,
        retry_times: int = 3,
        retry_backoff: float = 1.0,
        journal_dir: str = "data/journal",
    ) -> None:
        if not database_url:
            raise NotConfigured("DATABASE_URL is not set")
        self.crawler = crawler
        self.stats = crawler.stats
        self.database_url = database_url
        self.batch_size = max(1, batch_size)
        self.retry_times = max(0, retry_times)
        self.retry_backoff = max(0.0, retry_backoff)
        self.journal_dir = journal_dir
        self.journal: JournalWriter | None = None
        self.degraded = False  # the last batch failed on a transient error: the database is down
        self.sqlite_timeout = crawler.settings.getfloat("SQLITE_BUSY_TIMEOUT", 30.0)
        self.buffer = Buffer()
        self.lock = asyncio.Lock()
        self.engine: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        settings = crawler.settings
        pipeline = cls(
            crawler,
            settings.get("DATABASE_URL"),
            settings.getint("STORE_BATCH_SIZE", 500),
            retry_times=settings.getint("STORE_RETRY_TIMES", 3),
            retry_backoff=settings.getfloat("STORE_RETRY_BACKOFF", 1.0),
            journal_dir=settings.get("JOURNAL_DIR") or "data/journal",
        )
        crawler.signals.connect(pipeline.page_fetched, signal=crawler_signals.page_fetched)
        return pipeline

    def page_fetched(self, **page: Any) -> None:
        """Buffered with the items: validators are written in the same batches."""
        page.pop("signal", None)
        page.pop("sender", None)
        self.buffer.pages.append(page)
        if page["status"] in GONE_STATUSES and page.get("key"):
            self.buffer.gone.setdefault(page["kind"], {})[page["key"]] = page["status"]

    async def open_spider(self) -> None:
        self.engine = make_engine(
            self.database_url, immediate=True, busy_timeout=self.sqlite_timeout
        )
        try:
            state = await asyncio.to_thread(ensure_schema, self.engine)
        except SchemaOutdated as exc:
            logger.error("Cannot store into %s: %s", redact_url(self.database_url), exc)
            raise
        logger.info("Storing into %s (schema %s)", redact_url(self.database_url), state)

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, StudyItem):
            self.buffer.studies.append(as_dict(item))
        elif isinstance(item, ThreadItem):
            self.buffer.threads.append(as_dict(item))
        else:
            self._inc("store/ignored/" + type(item).__name__)
            return item
        if len(self.buffer) >= self.batch_size:
            await self.flush(full_only=True)
        return item

    async def close_spider(self) -> None:
        try:
            await self.flush()
        finally:
            if self.journal is not None:
                self.journal.close()
                logger.warning(
                    "%d batch(es) could not be stored and are in the journal %s: "
                    "load them with `scrapy db replay` once the database is back",
                    self.journal.records,
                    self.journal.path,
                )
            if self.engine is not None:
                self.engine.dispose()

    async def flush(self, full_only: bool = False) -> None:
        """Write what is buffered; batches are written one at a time.

        While a batch is being written, items keep arriving and the buffer grows past the batch
        size; an item that finds it full waits here for the write in progress. Its response
        stays active in the scraper meanwhile, so Scrapy's backpressure
        (``SCRAPER_SLOT_MAX_ACTIVE_SIZE``) slows the crawl to the database's pace instead of
        letting batches pile up in memory. ``full_only``: skip when another waiter has taken
        the buffer already.
        """
        async with self.lock:
            if full_only and len(self.buffer) < self.batch_size:
                return
            batch, self.buffer = self.buffer, Buffer()
            if not len(batch):
                return
            run_id = self.stats.get_value(RUN_ID_STAT) if self.stats else None
            crawled_at = utcnow()
            counts = await self.write_with_retries(batch, run_id)
            if counts is None:
                await self.journal_batch(batch, run_id, crawled_at)
                return
        for key, count in counts.items():
            self._inc(key, count)
        self._inc("store/batches")

    async def write_with_retries(self, batch: Buffer, run_id: int | None) -> dict[str, int] | None:
        """The batch's stats once written, or None when it could not be (it is to be journaled)."""
        attempts = 1 if self.degraded else self.retry_times + 1
        for attempt in range(1, attempts + 1):
            try:
                counts = await asyncio.to_thread(self.write, batch, run_id)
            except Exception as exc:
                self._inc("store/batch_failed")
                if not is_transient(exc):
                    logger.exception("A batch of %d items was refused by the database", len(batch))
                    return None
                if attempt == attempts:
                    logger.warning("Database write failed (%s): giving up", _brief(exc))
                    self.degraded = True
                    return None
                delay = self.retry_backoff * 2 ** (attempt - 1)
                self._inc("store/retries")
                logger.warning(
                    "Database write failed (%s): retry %d of %d in %.1f s",
                    _brief(exc),
                    attempt,
                    attempts - 1,
                    delay,
                )
                await asyncio.sleep(delay)
            else:
                if self.degraded:
                    logger.info("The database takes writes again")
                self.degraded = False
                return counts
        return None

    def write(self, batch: Buffer, run_id: int | None) -> dict[str, int]:
        """Write one batch (in a worker thread); returns the stats to add."""
        return write_batch(self.engine, batch, run_id, utcnow())

    async def journal_batch(self, batch: Buffer, run_id: int | None, crawled_at: datetime) -> None:
        """Keep a batch the database would not take in the local journal (off the event loop)."""
        if self.journal is None:
            spider = getattr(self.crawler.spidercls, "name", None) or "crawl"
            self.journal = JournalWriter(self.journal_dir, journal_name(spider, run_id))
        first = self.journal.records == 0
        record = {
            "run_id": run_id,
            "crawled_at": crawled_at.isoformat(),
            "items": len(batch),
            **batch.as_record(),
        }
        try:
            await asyncio.to_thread(self.journal.append, record)
        except Exception:
            self._inc("store/items_lost", len(batch))
            logger.exception("Could not journal a batch of %d items either: lost", len(batch))
            return
        self._inc("store/journaled")
        self._inc("store/journaled_items", len(batch))
        if first:
            logger.error(
                "The database is not taking writes: batches go to the journal %s "
                "(load them with `scrapy db replay`)",
                self.journal.path,
            )
        else:
            logger.info("Journaled another batch of %d items", len(batch))

    def _inc(self, key: str, count: int = 1) -> None:
        if self.stats is not None and count:
            self.stats.inc_value(key, count)


def _brief(exc: BaseException) -> str:
    """The first line of a database error, without SQL or parameters."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200] if text else ''}"


def _count(counts: dict[str, int], kind: str, result: BatchResult, total: bool = True) -> None:
    for outcome in ("new", "updated", "unchanged", "gone"):
        value = getattr(result, outcome)
        counts[f"store/{kind}/{outcome}"] = counts.get(f"store/{kind}/{outcome}", 0) + value
        if total and outcome != "gone":
            counts[f"store/{outcome}"] = counts.get(f"store/{outcome}", 0) + value
