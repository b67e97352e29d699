"""Scrapy's log lines for pages and items, at the cost of what is shown.

Dropped items: one short line per drop, without the item. Scrapy logs the whole item under
every drop (a study is ~100 lines); the reason names the item already (``duplicate study VW69:
<url>``), and every drop is counted in the stats.

Crawled pages and scraped items: Scrapy logs one DEBUG line for each, built and then thrown
away by the handler at any LOG_LEVEL above DEBUG (the root logger passes everything, the
handler filters). Building them was ~7 % of a reparse's main process (a crawl builds two a
page), so they are built only when a handler would show them.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Spider
from scrapy.http import Request, Response
from scrapy.logformatter import LogFormatter, LogFormatterResult
from twisted.python.failure import Failure


def debug_shown(name: str) -> bool:
    """Whether a DEBUG record of logger ``name`` would reach a handler that keeps it."""
    logger: logging.Logger | None = logging.getLogger(name)
    if not logger.isEnabledFor(logging.DEBUG):  # type: ignore[union-attr]
        return False
    while logger is not None:
        if any(handler.level <= logging.DEBUG for handler in logger.handlers):
            return True
        if not logger.propagate:
            return False
        logger = logger.parent
    return logging.lastResort is not None and logging.lastResort.level <= logging.DEBUG


class ShortLogFormatter(LogFormatter):
    # Scrapy skips a line whose method returns None (its engine and scraper check for it).
    def crawled(  # type: ignore[override]
        self, request: Request, response: Response, spider: Spider
    ) -> LogFormatterResult | None:
        if not debug_shown("scrapy.core.engine"):
            return None
        return super().crawled(request, response, spider)

    def scraped(  # type: ignore[override]
        self, item: Any, response: Response | Failure | None, spider: Spider
    ) -> LogFormatterResult | None:
        if not debug_shown("scrapy.core.scraper"):
            return None
        return super().scraped(item, response, spider)

    def dropped(
        self,
        item: Any,
        exception: BaseException,
        response: Response | Failure | None,
        spider: Spider,
    ) -> LogFormatterResult:
        result = super().dropped(item, exception, response, spider)
        return {**result, "msg": "Dropped: %(exception)s", "args": {"exception": exception}}
