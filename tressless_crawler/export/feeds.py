"""Scrapy's feed exports (``scrapy crawl ... -o FILE``, ``FEEDS``), loaded only when one is set.

Scrapy's ``FeedExporter`` connects to ``item_scraped`` in every crawl, feeds or not, and in
Scrapy 2.19 every receiver of a per-item signal costs the crawl a task per item (about 40 µs of
CPU on the benchmark machine: 1-2 % of a crawl, more of a reparse). This project's exports come
from the database (``scrapy export``), so a crawl without a feed does without it; with one,
it is Scrapy's, unchanged. Settings read: ``FEEDS``.
"""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.extensions.feedexport import FeedExporter


class FeedsWhenAsked(FeedExporter):
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FeedsWhenAsked:
        if not crawler.settings.getdict("FEEDS"):
            raise NotConfigured  # no message: Scrapy would log it as a warning in every crawl
        return super().from_crawler(crawler)
