"""A prototype of the memory fix measured by ``benchmarks/memory.py``: sitemap URLs fed lazily.

The ``studies`` spider yields a Request for every sitemap URL as soon as a sitemap is parsed,
so the scheduler holds the whole site at once (about 3.5 KB per pending Request: the object,
its Headers, meta and cb_kwargs dicts, the bound callback, the trackref weak reference). This
subclass keeps the sitemap's URLs as plain strings in a deque instead and hands the scheduler
a few at a time: one more whenever a response arrives, and a batch whenever the
spider goes idle (then keeping it open), so that about ``IDLE_BATCH`` + the concurrency
requests wait in memory whatever the size of the site.

It is not part of the crawler: ``benchmarks/memory.py --lazy`` runs it as spider
``studies_lazy`` (``SPIDER_MODULES`` extended with this module) to measure the effect.
Links to studies of the sitemap are not followed ahead of their turn: ``study_request`` puts
their ids in ``touched`` when the sitemap is read, and ``follow_research`` skips those ids.
A real change would also make ``sweep_known`` wait until the deque is empty.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response

from crawler.spiders.studies import StudiesSpider

FEED_AHEAD = 1  # requests handed to the scheduler per response received: one out, one in
IDLE_BATCH = 64  # requests handed over when the spider would otherwise go idle


class LazyStudiesSpider(StudiesSpider):
    name = "studies_lazy"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pending: deque[str] = deque()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> LazyStudiesSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.feed_on_response, signal=signals.response_received)
        crawler.signals.connect(spider.feed_on_idle, signal=signals.spider_idle)
        return spider

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        for request in super().parse_sitemap(response):
            if request.callback == self.parse_study:
                self.pending.append(request.url)  # a str instead of a Request
            else:
                yield request  # sitemaps of a sitemap index
        yield from self.take(IDLE_BATCH)

    def take(self, count: int) -> Iterator[Request]:
        for _ in range(min(count, len(self.pending))):
            yield super().study_request(self.pending.popleft())

    def feed_on_response(self, response: Response, request: Request, spider: Any) -> None:
        for new in self.take(FEED_AHEAD):
            self.crawler.engine.crawl(new)

    def feed_on_idle(self) -> None:
        if self.pending:
            for new in self.take(IDLE_BATCH):
                self.crawler.engine.crawl(new)
            raise DontCloseSpider
