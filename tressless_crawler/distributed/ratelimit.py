"""A request rate per host shared by every crawler process, kept in Redis.

Scrapy's DOWNLOAD_DELAY, AutoThrottle and concurrency limits are per process:
N workers would hit the site N times as hard. This downloader middleware makes
the limit hold for the site as a whole. Each request reserves the next free
send time of its host in one Lua script (``max(now, next_free)``, then
``next_free += 1 / SHARED_RATE_LIMIT``) and waits until then without blocking
the event loop. Times come from the Redis server's clock, so the machines'
clocks need not agree.

It sits after the HTTP cache (order 950), so cached responses take no turn,
and it sees robots.txt fetches and retries like any other request.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.task import deferLater

from tressless_crawler.distributed.mode import (
    DEFAULT_RATE_LIMIT,
    enabled,
    rate_limit_key,
    redis_client,
)
from tressless_crawler.stats import RATELIMIT_DELAYED, RATELIMIT_REQUESTS, RATELIMIT_WAIT_MS

logger = logging.getLogger(__name__)

# KEYS: the host's key; ARGV: interval in ms -> ms to wait before sending
RESERVE = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local interval = tonumber(ARGV[1])
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
local at = math.max(now_ms, next_free)
local free_at = at + interval
local ttl = free_at - now_ms + 60000
redis.call('SET', KEYS[1], string.format('%d', free_at), 'PX', string.format('%d', ttl))
return at - now_ms
"""


async def sleep(seconds: float) -> None:
    """Wait on the reactor (any Scrapy reactor), never blocking it."""
    # Imported here: importing the reactor at module level could install the wrong one.
    from twisted.internet import reactor

    await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))


class SharedRateLimitMiddleware:
    """At most SHARED_RATE_LIMIT requests per second per host, over every process of the crawl."""

    def __init__(self, crawler: Crawler, server: Any, rate: float) -> None:
        self.crawler = crawler
        self.settings = crawler.settings
        self.rate = rate
        self.interval_ms = max(1, math.ceil(1000 / rate))
        self.reserve = server.register_script(RESERVE)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedRateLimitMiddleware:
        settings = crawler.settings
        if not enabled(settings):
            raise NotConfigured("REDIS_URL is not set")
        rate = settings.getfloat("SHARED_RATE_LIMIT", DEFAULT_RATE_LIMIT)
        if rate <= 0:
            logger.info("Shared rate limit off (SHARED_RATE_LIMIT=0): per-process politeness only")
            raise NotConfigured
        logger.info("Shared rate limit: %.3g requests/s per host over all workers", rate)
        return cls(crawler, redis_client(settings), rate)

    async def process_request(self, request: Request) -> None:
        host = (urlparse_cached(request).hostname or "").lower()
        key = rate_limit_key(self.settings, host)
        wait_ms = int(self.reserve(keys=[key], args=[self.interval_ms]))
        stats = self.crawler.stats
        if stats is not None:
            stats.inc_value(RATELIMIT_REQUESTS)
        if wait_ms > 0:
            if stats is not None:
                stats.inc_value(RATELIMIT_DELAYED)
                stats.inc_value(RATELIMIT_WAIT_MS, wait_ms)
            await sleep(wait_ms / 1000)
