"""Records each crawl in the crawl_runs table: opened when the spider opens, closed with its stats."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThread

from crawler.db import runs
from crawler.db.engine import make_engine, redact_url

logger = logging.getLogger(__name__)

# Settings worth keeping with a run (credentials are redacted).
RECORDED_SETTINGS = (
    "SITE_URL",
    "DATABASE_URL",
    "REDIS_URL",
    "COMMUNITY_HOSTS",
    "CONCURRENT_REQUESTS",
    "CONCURRENT_REQUESTS_PER_DOMAIN",
    "DOWNLOAD_DELAY",
    "AUTOTHROTTLE_ENABLED",
    "ROBOTSTXT_OBEY",
    "USER_AGENT",
    "JOBDIR",
)
RUN_ID_STAT = "crawl_run/id"


class CrawlRunRecorder:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.database_url: str = crawler.settings.get("DATABASE_URL")
        if not self.database_url:
            raise NotConfigured("DATABASE_URL is not set")
        self.engine = make_engine(self.database_url)
        self.run_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunRecorder:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def recorded_settings(self) -> dict[str, Any]:
        settings = self.crawler.settings
        recorded: dict[str, Any] = {}
        for name in RECORDED_SETTINGS:
            value = settings.get(name)
            if name in ("DATABASE_URL", "REDIS_URL") and value:
                value = redact_url(value)
            recorded[name] = value if isinstance(value, (str, int, float, bool)) or value is None else str(value)
        return recorded

    def spider_opened(self, spider: Spider) -> Deferred:
        def start() -> int:
            return runs.start_run(self.engine, spider.name, self.recorded_settings(), runs.utcnow())

        def started(run_id: int) -> None:
            self.run_id = run_id
            assert self.crawler.stats is not None
            self.crawler.stats.set_value(RUN_ID_STAT, run_id)
            logger.info("Crawl run %d started", run_id)

        return deferToThread(start).addCallback(started)

    def spider_closed(self, spider: Spider, reason: str) -> Deferred | None:
        if self.run_id is None:
            return None
        assert self.crawler.stats is not None
        stats = dict(self.crawler.stats.get_stats())
        run_id = self.run_id

        def finish() -> str:
            try:
                return runs.finish_run(self.engine, run_id, reason, stats, runs.utcnow())
            finally:
                self.engine.dispose()

        def finished(status: str) -> None:
            logger.info("Crawl run %d %s (%s)", run_id, status, reason)

        return deferToThread(finish).addCallback(finished)
