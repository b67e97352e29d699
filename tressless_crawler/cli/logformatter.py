"""Scrapy's log lines for dropped items, without the item: one short line per drop.

Scrapy logs the whole item under every drop (a study is ~100 lines); the reason names the
item already (``duplicate study VW69: <url>``), and every drop is counted in the stats.
"""

from __future__ import annotations

from typing import Any

from scrapy import Spider
from scrapy.http import Response
from scrapy.logformatter import LogFormatter, LogFormatterResult
from twisted.python.failure import Failure


class ShortLogFormatter(LogFormatter):
    def dropped(
        self,
        item: Any,
        exception: BaseException,
        response: Response | Failure | None,
        spider: Spider,
    ) -> LogFormatterResult:
        result = super().dropped(item, exception, response, spider)
        return {**result, "msg": "Dropped: %(exception)s", "args": {"exception": exception}}
