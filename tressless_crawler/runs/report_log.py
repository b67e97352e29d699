"""Logs a crawl report at the end of every crawl and warns when fill rates fall sharply.

The fill counters (``fill/<kind>/<field>``) are counted here and added to the crawl's stats
every ``FILL_FLUSH_ITEMS`` items and when the spider closes, not with a stats call per field
of every item. The extension comes before the run recorder (``EXTENSIONS``), so that its
final counts are in the stats the recorder keeps.

Settings: ``CRAWL_REPORT_ENABLED`` (off for ``scrapy seed``), ``DATABASE_URL`` (the run before)."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from tressless_crawler import defaults
from tressless_crawler.db import runs
from tressless_crawler.db.crawl_database import CrawlDatabase
from tressless_crawler.runs.report import (
    ITEM_KINDS,
    dropped_share_warnings,
    fill_keys,
    fill_rate_warnings,
    filled_fields,
    render_report,
)
from tressless_crawler.stats import (
    FILL,
    FILL_ITEMS,
    SCRAPY_FINISH_REASON,
    STORE_JOURNAL_PATH,
    STORE_JOURNALED,
    STORE_JOURNALED_ITEMS,
)

logger = logging.getLogger(__name__)

FILL_FLUSH_ITEMS = 100  # the crawl_runs progress rows see counts at most this many items old


class CrawlReport:
    def __init__(self, crawler: Crawler) -> None:
        if not defaults.getbool(crawler.settings, "CRAWL_REPORT_ENABLED"):
            raise NotConfigured("CRAWL_REPORT_ENABLED is off")
        self.crawler = crawler
        self.stats = crawler.stats
        self.database = CrawlDatabase.of(crawler)
        self.fills: dict[str, int] = {}  # stat key -> count not yet in the stats
        self.unflushed = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlReport:
        ext = cls(crawler)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def item_scraped(self, item: Any) -> None:
        kind = ITEM_KINDS.get(type(item))
        if kind is None or self.stats is None:
            return
        fills = self.fills
        for key in (FILL.key(kind, FILL_ITEMS), *fill_keys(kind, filled_fields(item))):
            fills[key] = fills.get(key, 0) + 1
        self.unflushed += 1
        if self.unflushed >= FILL_FLUSH_ITEMS:
            self.flush_fills()

    def flush_fills(self) -> None:
        """Add the counts so far to the crawl's stats."""
        fills, self.fills, self.unflushed = self.fills, {}, 0
        if self.stats is not None:
            for key, count in fills.items():
                self.stats.inc_value(key, count)

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        self.flush_fills()
        if self.stats is None:
            return
        stats = dict(self.stats.get_stats())
        stats.setdefault(SCRAPY_FINISH_REASON, reason)
        database = self.database
        run_id = database.run_id if database is not None else None

        def previous() -> dict[str, Any] | None:
            if database is None or run_id is None:
                return None
            run = runs.previous_run(database.reader, spider.name, before=run_id, finished_only=True)
            return dict(run.stats) if run is not None else None

        def log(before: dict[str, Any] | None) -> None:
            title = f"run {run_id}" if run_id is not None else "this run"
            text = render_report(title, stats, before)
            if stats.get(STORE_JOURNALED_ITEMS) or stats.get(STORE_JOURNALED):
                text += (
                    f"\n{stats.get(STORE_JOURNALED_ITEMS, 0)} item(s) are in the spool "
                    f"{stats.get(STORE_JOURNAL_PATH, '-')}: load them with `scrapy db replay`"
                )
            logger.info("Crawl report for '%s':\n%s", spider.name, text)
            for warning in fill_rate_warnings(stats, before):
                logger.warning("Fill rate fell: %s", warning)
            for warning in dropped_share_warnings(stats):
                logger.warning("Study pages dropped: %s", warning)

        try:
            before = await maybe_deferred_to_future(deferToThread(previous))
        except Exception as exc:
            logger.warning("Could not read the previous run for the report: %s", exc)
            before = None
        log(before)
