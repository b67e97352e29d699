"""Study URLs from the sitemaps, handed to the scheduler a few at a time.

A pending ``Request`` costs about 3.5 KB (the object, its headers, meta and cb_kwargs, the bound
callback), a URL about 100 bytes; a site of 50,000 studies would put all its requests in the
scheduler as soon as its sitemaps are read, so the crawl's memory would grow with the site.
The backlog keeps the URLs as strings instead: it hands the scheduler one batch when the first
sitemap is read, then one more request for every response to a request of its own, and another
batch whenever the spider would otherwise go idle: about ``batch`` requests wait in memory (plus
the links the pages lead to), however large the site and however many sitemaps it has.

It is off where the scheduler does not hold requests in this process's memory: with
``REDIS_URL`` (the shared frontier must hold every request, or a killed worker would lose the
URLs only it had read) and with ``JOBDIR`` (a paused crawl resumes from the disk queues).
Settings: ``BACKLOG_BATCH`` (default from ``CONCURRENT_REQUESTS``), ``REDIS_URL``, ``JOBDIR``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response

from tressless_crawler import defaults
from tressless_crawler.stats import BACKLOG_MAX

FEED_PER_RESPONSE = 1
META_KEY = "from_backlog"


class Backlog:
    """URLs waiting for the scheduler; ``make_request`` turns one into its Request when fed."""

    def __init__(
        self, crawler: Crawler, make_request: Callable[[str], Request], batch: int
    ) -> None:
        self.crawler = crawler
        self.make_request = make_request
        self.batch = max(1, batch)
        self.urls: deque[str] = deque()
        self.primed = False
        self.enabled = not (crawler.settings.get("REDIS_URL") or crawler.settings.get("JOBDIR"))
        if self.enabled:
            crawler.signals.connect(self.on_response, signal=signals.response_received)

    @classmethod
    def for_crawler(cls, crawler: Crawler, make_request: Callable[[str], Request]) -> Backlog:
        concurrency = crawler.settings.getint("CONCURRENT_REQUESTS")
        batch = defaults.getint(crawler.settings, "BACKLOG_BATCH") or max(64, 2 * concurrency)
        return cls(crawler, make_request, batch)

    def __len__(self) -> int:
        return len(self.urls)

    def add(self, url: str) -> Iterator[Request]:
        """Keep ``url`` for later, or (backlog off) its request now."""
        if self.enabled:
            self.urls.append(url)
            self.crawler.stats.max_value(BACKLOG_MAX, len(self.urls))
        else:
            yield self.make_request(url)

    def take(self, count: int | None = None) -> Iterator[Request]:
        """Up to ``count`` (default: a batch) requests from the front of the backlog."""
        for _ in range(min(self.batch if count is None else count, len(self.urls))):
            request = self.make_request(self.urls.popleft())
            request.meta[META_KEY] = True
            yield request

    def prime(self) -> Iterator[Request]:
        """The first batch, once: later sitemaps only add to the backlog."""
        if self.primed or not self.urls:
            return
        self.primed = True
        yield from self.take()

    def on_response(self, response: Response, request: Request, spider: Any) -> None:
        """One in for one of ours out, so the scheduler never runs dry while URLs wait."""
        if request.meta.get(META_KEY):
            for new in self.take(FEED_PER_RESPONSE):
                self.crawler.engine.crawl(new)

    def feed_idle(self) -> bool:
        """A batch for a spider about to go idle; False when there is nothing left."""
        if not self.urls:
            return False
        for new in self.take():
            self.crawler.engine.crawl(new)
        return True
