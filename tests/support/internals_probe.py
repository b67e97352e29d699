"""A small real crawl that uses each engine and downloader internal of
``tressless_crawler.scrapy_internals``; run as ``python -m tests.support.internals_probe``,
it writes what it saw as JSON on stdout (tests/unit/test_scrapy_internals.py reads it).

Two requests (data: URLs, no network) go to one downloader slot; when the first reaches the
downloader its slot is held for HOLD seconds, so both answers must come after the hold.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.http import Response

from tressless_crawler.scrapy_internals import (
    engine_in_progress,
    hold_downloader_slot,
    wake_engine,
)

HOLD = 1.0


class ProbeSpider(Spider):
    name = "probe"
    seen: dict[str, Any]

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ProbeSpider:
        spider: ProbeSpider = super().from_crawler(crawler, *args, **kwargs)
        spider.seen = {"held": None, "in_progress_in_callback": [], "answered_after": []}
        crawler.signals.connect(spider.reached, signal=signals.request_reached_downloader)
        crawler.signals.connect(spider.idle, signal=signals.spider_idle)
        return spider

    async def start(self) -> AsyncIterator[Request]:
        self.started = time.monotonic()
        # before the engine took any request: nothing in progress, and no slot held
        self.seen["in_progress_at_start"] = len(engine_in_progress(self.crawler) or ())
        yield Request("data:,first", callback=self.parse, meta={"hold": True})
        yield Request("data:,second", callback=self.parse, dont_filter=True)

    def reached(self, request: Request, spider: Spider) -> None:
        if request.meta.get("hold") and self.seen["held"] is None:
            self.seen["held"] = hold_downloader_slot(self.crawler, request, HOLD)
            self.held_at = time.monotonic()

    def parse(self, response: Response) -> None:
        self.seen["answered_after"].append(round(time.monotonic() - self.held_at, 3))
        self.seen["in_progress_in_callback"].append(
            response.request in (engine_in_progress(self.crawler) or ())
        )
        wake_engine(self.crawler)

    def idle(self, spider: Spider) -> None:
        self.seen["in_progress_when_idle"] = len(engine_in_progress(self.crawler) or ())


def main() -> None:
    process = CrawlerProcess(
        {
            "LOG_LEVEL": "WARNING",
            "TELNETCONSOLE_ENABLED": False,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
            "DOWNLOAD_DELAY": 0,
        }
    )
    crawler = process.create_crawler(ProbeSpider)
    process.crawl(crawler)
    process.start()
    spider = crawler.spider
    assert isinstance(spider, ProbeSpider)
    stats = crawler.stats.get_stats() if crawler.stats is not None else {}
    report = {
        **spider.seen,
        "hold": HOLD,
        "unavailable": sorted(k for k in stats if k.startswith("scrapy_internals/")),
        "finish_reason": stats.get("finish_reason"),
    }
    sys.stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
