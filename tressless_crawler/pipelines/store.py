"""Stores items in the database: buffered, one transaction per batch, off the event loop.

Settings: ``DATABASE_URL``, ``STORE_BATCH_SIZE``, ``STORE_FLUSH_SECONDS``,
``STORE_RETRY_TIMES``, ``STORE_RETRY_BACKOFF``, ``SPOOL_DIR`` (or its former name
``JOURNAL_DIR``), ``SQLITE_BUSY_TIMEOUT``.

A batch is written when ``STORE_BATCH_SIZE`` items (and page records) wait, and at the latest
``STORE_FLUSH_SECONDS`` after the first of them arrived, so that a crawl killed at a polite pace
loses at most those seconds of work. The record of a page read into an item (its status and
validators, :data:`tressless_crawler.signals.page_fetched`) waits for that item and goes into
the same batch: a crawl killed between the two never leaves validators that would answer 304
for a study that was never stored. When the item is dropped, its page record is dropped too
(the next crawl reads the page in full), except for a duplicate, whose content is stored
under its first URL. Every batch goes through
:func:`tressless_crawler.db.batch.write_batch` (one transaction), with the run id of the crawl's
``crawl_runs`` row, through the crawl's database
(:class:`tressless_crawler.db.crawl_database.CrawlDatabase`). Around each batch the pipeline
sends :data:`tressless_crawler.signals.batch_taken` and
:data:`tressless_crawler.signals.batch_stored`, so that a distributed worker confirms the
requests whose items the batch holds only once they are in the database (or in the spool).

A batch that fails on a transient database error (connection refused or lost,
database locked) is retried ``STORE_RETRY_TIMES`` times, waiting
``STORE_RETRY_BACKOFF`` seconds, then twice that, and so on. A batch that still
fails goes to the spool (:mod:`tressless_crawler.db.spool`) and the crawl goes on;
``scrapy db replay`` loads it later. While the database stays down, later batches get one
attempt each before they are spooled, so the crawl is not slowed by retries that cannot succeed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from tressless_crawler import defaults
from tressless_crawler import signals as crawler_signals
from tressless_crawler.db.batch import Batch, write_batch
from tressless_crawler.db.crawl_database import CrawlDatabase
from tressless_crawler.db.engine import is_transient, redact_url
from tressless_crawler.db.runs import utcnow
from tressless_crawler.db.spool import SpoolWriter, spool_dir, spool_name
from tressless_crawler.exceptions import DuplicateItem, SchemaOutdated
from tressless_crawler.http_status import GONE_STATUSES
from tressless_crawler.items import StudyItem, ThreadItem, as_dict
from tressless_crawler.stats import (
    STORE_BATCH_FAILED,
    STORE_BATCHES,
    STORE_IGNORED,
    STORE_ITEMS_LOST,
    STORE_JOURNAL_PATH,
    STORE_JOURNALED,
    STORE_JOURNALED_ITEMS,
    STORE_RETRIES,
)

logger = logging.getLogger(__name__)


class StorePipeline:
    def __init__(
        self,
        crawler: Crawler,
        database: CrawlDatabase | None,
        batch_size: int,
        retry_times: int,
        retry_backoff: float,
        spool_dir: str,
        flush_seconds: float,
    ) -> None:
        if database is None:
            raise NotConfigured("DATABASE_URL is not set")
        self.crawler = crawler
        self.stats = crawler.stats
        self.database = database
        self.database_url = database.url
        self.batch_size = max(1, batch_size)
        self.retry_times = max(0, retry_times)
        self.retry_backoff = max(0.0, retry_backoff)
        self.spool_dir = spool_dir
        self.spool: SpoolWriter | None = None
        self.degraded = False  # the last batch failed on a transient error: the database is down
        self.flush_seconds = max(0.0, flush_seconds)
        self.buffer = Batch()
        # Page records waiting for the item read from the page: id(item) -> (item, record).
        self.awaiting: dict[int, tuple[Any, dict[str, Any]]] = {}
        self.buffered_since: float | None = None  # when the oldest waiting entry arrived
        self.lock = asyncio.Lock()
        self.engine: Any = None
        self.run_id: int | None = None
        self.batches_taken = 0
        self.timer: asyncio.Task[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        settings = crawler.settings
        pipeline = cls(
            crawler,
            CrawlDatabase.of(crawler),
            defaults.getint(settings, "STORE_BATCH_SIZE"),
            retry_times=defaults.getint(settings, "STORE_RETRY_TIMES"),
            retry_backoff=defaults.getfloat(settings, "STORE_RETRY_BACKOFF"),
            spool_dir=spool_dir(settings),
            flush_seconds=defaults.getfloat(settings, "STORE_FLUSH_SECONDS"),
        )
        crawler.signals.connect(pipeline.page_fetched, signal=crawler_signals.page_fetched)
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(pipeline.item_failed, signal=signals.item_error)
        return pipeline

    def page_fetched(self, item: Any = None, **page: Any) -> None:
        """Buffered with the items; the record of a page read into ``item`` waits for it."""
        page.pop("signal", None)
        page.pop("sender", None)
        if item is not None:
            self.awaiting[id(item)] = (item, page)
        else:
            self.buffer_page(page)

    def item_dropped(self, item: Any, exception: BaseException | None = None, **_: Any) -> None:
        waiting = self.awaiting.pop(id(item), None)
        if waiting is not None and isinstance(exception, DuplicateItem):
            self.buffer_page(waiting[1])  # its study is stored (or waits) under the first URL

    def item_failed(self, item: Any, **_: Any) -> None:
        self.awaiting.pop(id(item), None)

    def buffer_page(self, page: dict[str, Any]) -> None:
        self.buffer.pages.append(page)
        if page["status"] in GONE_STATUSES and page.get("key"):
            self.buffer.gone.setdefault(page["kind"], {})[page["key"]] = page["status"]
        self._buffered()

    async def open_spider(self) -> None:
        self.engine = self.database.engine
        try:
            # Checked already when the run recorder opened the run: then this is no query.
            state = await asyncio.to_thread(self.database.ensure_schema)
        except SchemaOutdated as exc:
            logger.error("Cannot store into %s: %s", redact_url(self.database_url), exc)
            raise
        logger.info("Storing into %s (schema %s)", redact_url(self.database_url), state)
        # The run this crawl's rows belong to, opened by the run recorder (None when the crawl
        # keeps no crawl_runs row).
        self.run_id = self.database.run_id
        if self.flush_seconds:
            self.timer = asyncio.get_running_loop().create_task(self.flush_on_time())

    async def flush_on_time(self) -> None:
        """Write what has waited ``STORE_FLUSH_SECONDS``, however few items it is."""
        tick = min(1.0, max(0.05, self.flush_seconds / 4))
        while True:
            await asyncio.sleep(tick)
            since = self.buffered_since
            if since is None:
                if not self.lock.locked():
                    self.confirm_empty()
            elif time.monotonic() - since >= self.flush_seconds:
                try:
                    # Shielded: closing cancels the timer, never a write half done (the final
                    # flush waits for it on the lock).
                    await asyncio.shield(self.flush())
                except Exception:
                    logger.exception("A timed write of the store failed")

    async def process_item(self, item: Any) -> Any:
        waiting = self.awaiting.pop(id(item), None)
        if isinstance(item, StudyItem):
            self.buffer.studies.append(as_dict(item))
        elif isinstance(item, ThreadItem):
            self.buffer.threads.append(as_dict(item))
        else:
            self._inc(STORE_IGNORED.key(type(item).__name__))
            return item
        if waiting is not None:
            self.buffer.pages.append(waiting[1])  # in the same batch as its item
        self._buffered()
        if len(self.buffer) >= self.batch_size:
            await self.flush(full_only=True)
        return item

    async def close_spider(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.awaiting.clear()  # items that never reached the store: their pages are read again
        try:
            await self.flush()
        finally:
            if self.spool is not None:
                self.spool.close()
                logger.warning(
                    "%d batch(es) could not be stored and are in the spool %s: "
                    "load them with `scrapy db replay` once the database is back",
                    self.spool.records,
                    self.spool.path,
                )

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
            batch, self.buffer = self.buffer, Batch()
            self.buffered_since = None
            if not len(batch):
                self.confirm_empty()
                return
            run_id = self.run_id
            crawled_at = utcnow()
            seq = self.take_batch()
            counts = await self.write_with_retries(batch, run_id)
            if counts is None:
                stored = await self.spool_batch(batch, run_id, crawled_at)
                self._send(crawler_signals.batch_stored, seq=seq, stored=stored)
                return
            self._send(crawler_signals.batch_stored, seq=seq, stored=True)
        for key, count in counts.items():
            self._inc(key, count)
        self._inc(STORE_BATCHES)

    def take_batch(self) -> int:
        """Number the batch and tell the listeners (the distributed scheduler) it was taken."""
        self.batches_taken += 1
        self._send(crawler_signals.batch_taken, seq=self.batches_taken)
        return self.batches_taken

    def confirm_empty(self) -> None:
        """Nothing waits: what finished so far is stored; an empty batch commits at once."""
        seq = self.take_batch()
        self._send(crawler_signals.batch_stored, seq=seq, stored=True)

    def _buffered(self) -> None:
        if self.buffered_since is None:
            self.buffered_since = time.monotonic()

    def _send(self, signal: object, **kwargs: Any) -> None:
        self.crawler.signals.send_catch_log(signal=signal, **kwargs)

    async def write_with_retries(self, batch: Batch, run_id: int | None) -> dict[str, int] | None:
        """The batch's stats once written, or None when it could not be (it is to be spooled)."""
        attempts = 1 if self.degraded else self.retry_times + 1
        for attempt in range(1, attempts + 1):
            try:
                counts = await asyncio.to_thread(self.write, batch, run_id)
            except Exception as exc:
                self._inc(STORE_BATCH_FAILED)
                if not is_transient(exc):
                    logger.exception("A batch of %d items was refused by the database", len(batch))
                    return None
                if attempt == attempts:
                    logger.warning("Database write failed (%s): giving up", _brief(exc))
                    self.degraded = True
                    return None
                delay = self.retry_backoff * 2 ** (attempt - 1)
                self._inc(STORE_RETRIES)
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

    def write(self, batch: Batch, run_id: int | None) -> dict[str, int]:
        """Write one batch (in a worker thread); returns the stats to add."""
        return write_batch(self.engine, batch, run_id, utcnow())

    async def spool_batch(self, batch: Batch, run_id: int | None, crawled_at: datetime) -> bool:
        """Keep a batch the database would not take in the local spool (off the event loop).

        False when it could not be spooled either (it is lost, and counted so)."""
        if self.spool is None:
            spider = getattr(self.crawler.spidercls, "name", None) or "crawl"
            self.spool = SpoolWriter(self.spool_dir, spool_name(spider, run_id))
        first = self.spool.records == 0
        record = {
            "run_id": run_id,
            "crawled_at": crawled_at.isoformat(),
            "items": batch.items,
            **batch.as_record(),
        }
        try:
            await asyncio.to_thread(self.spool.append, record)
        except Exception:
            self._inc(STORE_ITEMS_LOST, batch.items)
            logger.exception("Could not spool a batch of %d items either: lost", batch.items)
            return False
        # The stats keep their first names: crawl_runs rows and scripts read them.
        self._inc(STORE_JOURNALED)
        self._inc(STORE_JOURNALED_ITEMS, batch.items)
        if self.stats is not None:
            self.stats.set_value(STORE_JOURNAL_PATH, str(self.spool.path))
        if first:
            logger.error(
                "The database is not taking writes: batches go to the spool %s "
                "(load them with `scrapy db replay`)",
                self.spool.path,
            )
        else:
            logger.info("Spooled another batch of %d items", batch.items)
        return True

    def _inc(self, key: str, count: int = 1) -> None:
        if self.stats is not None and count:
            self.stats.inc_value(key, count)


def _brief(exc: BaseException) -> str:
    """The first line of a database error, without SQL or parameters."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200] if text else ''}"
