"""Stores items in the database: buffered, one transaction per batch, off the event loop."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler import signals as crawler_signals
from crawler.db import store, thread_store
from crawler.db.engine import make_engine, redact_url
from crawler.db.runs import utcnow
from crawler.db.schema import SchemaOutdated, ensure_schema
from crawler.db.store import BatchResult
from crawler.extensions.crawlrun import RUN_ID_STAT
from crawler.items import GoneItem, StudyItem, ThreadItem

logger = logging.getLogger(__name__)


class Buffer:
    """What waits for the next batch."""

    def __init__(self) -> None:
        self.studies: list[dict[str, Any]] = []
        self.threads: list[dict[str, Any]] = []
        self.gone: dict[str, dict[str, int]] = {"study": {}, "thread": {}}
        self.pages: list[dict[str, Any]] = []

    def __len__(self) -> int:
        return (
            len(self.studies) + len(self.threads) + len(self.pages) + sum(map(len, self.gone.values()))
        )


class StorePipeline:
    def __init__(self, crawler: Crawler, database_url: str, batch_size: int) -> None:
        if not database_url:
            raise NotConfigured("DATABASE_URL is not set")
        self.stats = crawler.stats
        self.database_url = database_url
        self.batch_size = max(1, batch_size)
        self.buffer = Buffer()
        self.lock = asyncio.Lock()
        self.engine: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        settings = crawler.settings
        pipeline = cls(crawler, settings.get("DATABASE_URL"), settings.getint("STORE_BATCH_SIZE", 100))
        crawler.signals.connect(pipeline.page_fetched, signal=crawler_signals.page_fetched)
        return pipeline

    def page_fetched(self, **page: Any) -> None:
        """Buffered with the items: validators are written in the same batches."""
        page.pop("signal", None)
        page.pop("sender", None)
        self.buffer.pages.append(page)

    async def open_spider(self) -> None:
        self.engine = make_engine(self.database_url, immediate=True)
        try:
            state = await asyncio.to_thread(ensure_schema, self.engine)
        except SchemaOutdated as exc:
            logger.error("Cannot store into %s: %s", redact_url(self.database_url), exc)
            raise
        logger.info("Storing into %s (schema %s)", redact_url(self.database_url), state)

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, StudyItem):
            self.buffer.studies.append(ItemAdapter(item).asdict())
        elif isinstance(item, ThreadItem):
            self.buffer.threads.append(ItemAdapter(item).asdict())
        elif isinstance(item, GoneItem):
            self.buffer.gone.setdefault(item.kind, {})[item.key] = item.status
        else:
            self._inc("store/ignored/" + type(item).__name__)
            return item
        if len(self.buffer) >= self.batch_size:
            await self.flush()
        return item

    async def close_spider(self) -> None:
        try:
            await self.flush()
        finally:
            if self.engine is not None:
                self.engine.dispose()

    async def flush(self) -> None:
        """Write what is buffered; batches are written one at a time."""
        batch, self.buffer = self.buffer, Buffer()
        if not len(batch):
            return
        async with self.lock:
            run_id = self.stats.get_value(RUN_ID_STAT) if self.stats else None
            try:
                counts = await asyncio.to_thread(self.write, batch, run_id)
            except Exception:
                self._inc("store/batch_failed")
                self._inc("store/items_failed", len(batch))
                logger.exception("Could not store a batch of %d items", len(batch))
                raise
        for key, count in counts.items():
            self._inc(key, count)
        self._inc("store/batches")

    def write(self, batch: Buffer, run_id: int | None) -> dict[str, int]:
        """Write one batch (in a worker thread); returns the stats to add."""
        now = utcnow()
        counts: dict[str, int] = {}
        if batch.studies:
            _count(counts, "studies", store.write_studies(self.engine, batch.studies, run_id, now))
        if batch.threads:
            threads, comments = thread_store.write_threads(self.engine, batch.threads, run_id, now)
            _count(counts, "threads", threads)
            _count(counts, "comments", comments, total=False)
        gone = store.mark_studies_gone(self.engine, batch.gone.get("study", {}), run_id, now)
        gone += thread_store.mark_threads_gone(self.engine, batch.gone.get("thread", {}), run_id, now)
        counts["store/gone"] = gone
        if batch.pages:
            confirmed = store.record_pages(self.engine, batch.pages, run_id, now)
            counts["store/pages"] = len(batch.pages)
            counts["store/studies/unchanged"] = counts.get("store/studies/unchanged", 0) + confirmed
            counts["store/unchanged"] = counts.get("store/unchanged", 0) + confirmed
        return counts

    def _inc(self, key: str, count: int = 1) -> None:
        if self.stats is not None and count:
            self.stats.inc_value(key, count)


def _count(counts: dict[str, int], kind: str, result: BatchResult, total: bool = True) -> None:
    for outcome in ("new", "updated", "unchanged", "gone"):
        value = getattr(result, outcome)
        counts[f"store/{kind}/{outcome}"] = counts.get(f"store/{kind}/{outcome}", 0) + value
        if total and outcome != "gone":
            counts[f"store/{outcome}"] = counts.get(f"store/{outcome}", 0) + value
