"""Stores items in the database: buffered, one transaction per batch, off the event loop."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.db import store
from crawler.db.engine import make_engine, redact_url
from crawler.db.runs import utcnow
from crawler.db.schema import SchemaOutdated, ensure_schema
from crawler.extensions.crawlrun import RUN_ID_STAT
from crawler.items import GoneItem, StudyItem

logger = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, crawler: Crawler, database_url: str, batch_size: int) -> None:
        if not database_url:
            raise NotConfigured("DATABASE_URL is not set")
        self.crawler = crawler
        self.stats = crawler.stats
        self.database_url = database_url
        self.batch_size = max(1, batch_size)
        self.studies: list[dict[str, Any]] = []
        self.gone: dict[str, int] = {}
        self.lock = asyncio.Lock()
        self.engine: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        settings = crawler.settings
        return cls(crawler, settings.get("DATABASE_URL"), settings.getint("STORE_BATCH_SIZE", 100))

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
            self.studies.append(ItemAdapter(item).asdict())
        elif isinstance(item, GoneItem):
            if item.kind == "study":
                self.gone[item.key] = item.status
        else:
            self._inc("store/ignored/" + type(item).__name__)
            return item
        if len(self.studies) + len(self.gone) >= self.batch_size:
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
        studies, self.studies = self.studies, []
        gone, self.gone = self.gone, {}
        if not studies and not gone:
            return
        async with self.lock:
            run_id = self.stats.get_value(RUN_ID_STAT) if self.stats else None
            now = utcnow()
            try:
                result = await asyncio.to_thread(store.write_studies, self.engine, studies, run_id, now)
                marked = await asyncio.to_thread(store.mark_studies_gone, self.engine, gone, run_id, now)
            except Exception:
                self._inc("store/batch_failed")
                self._inc("store/items_failed", len(studies) + len(gone))
                logger.exception("Could not store a batch of %d items", len(studies) + len(gone))
                raise
        self._inc("store/batches")
        self._inc("store/new", result.new)
        self._inc("store/updated", result.updated)
        self._inc("store/unchanged", result.unchanged)
        self._inc("store/gone", marked)
        logger.debug("Stored %d studies (%s), %d marked gone", len(studies), result, marked)

    def _inc(self, key: str, count: int = 1) -> None:
        if self.stats is not None and count:
            self.stats.inc_value(key, count)
