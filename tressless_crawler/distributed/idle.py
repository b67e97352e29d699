"""Closes a distributed worker once the shared frontier has been idle for REDIS_IDLE_TIMEOUT s.

A worker whose own engine runs dry is not done: another worker may be halfway
through a page whose links will refill the queue, or may have died holding
requests that are about to be requeued. So an idle worker stays open
(``DontCloseSpider``) while anything is queued or in flight anywhere, and
closes with reason ``finished`` when the whole frontier has stayed empty for
the configured time. Scrapy fires ``spider_idle`` again every few seconds,
which is also how often an idle worker looks for new work.
"""

from __future__ import annotations

import logging
import time

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured

from tressless_crawler.defaults import DEFAULTS
from tressless_crawler.distributed.mode import enabled, seeding
from tressless_crawler.stats import FRONTIER_IDLE_CLOSE_AFTER

logger = logging.getLogger(__name__)

DEFAULT_IDLE_TIMEOUT = DEFAULTS["REDIS_IDLE_TIMEOUT"]


class FrontierIdleClose:
    def __init__(self, crawler: Crawler, timeout: float) -> None:
        self.crawler = crawler
        self.timeout = max(0.0, timeout)
        self.idle_since: float | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierIdleClose:
        settings = crawler.settings
        if not enabled(settings):
            raise NotConfigured("REDIS_URL is not set")
        if seeding(settings):
            raise NotConfigured  # the seeder closes once its start requests are pushed
        ext = cls(crawler, settings.getfloat("REDIS_IDLE_TIMEOUT", DEFAULT_IDLE_TIMEOUT))
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        return ext

    def spider_idle(self, spider: Spider) -> None:
        engine = self.crawler.engine
        check = getattr(engine.scheduler if engine else None, "frontier_idle", None)
        if check is None:
            return  # not the shared scheduler: Scrapy's own rule (close when idle) applies
        try:
            idle = check()
        except Exception as exc:
            logger.warning("Cannot read the shared frontier (%s)", exc)
            idle = True
        now = time.monotonic()
        if not idle:
            self.idle_since = None
            raise DontCloseSpider
        if self.idle_since is None:
            self.idle_since = now
            logger.info(
                "Shared frontier is empty: closing after %.0f s without new work", self.timeout
            )
        waited = now - self.idle_since
        if waited < self.timeout:
            raise DontCloseSpider
        logger.info("Shared frontier idle for %.0f s: closing this worker", waited)
        if self.crawler.stats is not None:
            self.crawler.stats.set_value(FRONTIER_IDLE_CLOSE_AFTER, round(waited, 1))
