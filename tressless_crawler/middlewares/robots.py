"""Scrapy's RobotsTxtMiddleware, with every request checked, also those waiting together.

Since Scrapy 2.13 (scrapy/scrapy#6802) every request that arrives while a host's
robots.txt is being fetched awaits the same Deferred through
``Deferred.asFuture()``, whose callback returns None: the first waiter gets the
parser, every other one gets None — "no robots.txt" — and is let through
unchecked. A worker that joins a distributed crawl takes several requests for
the site at once, so it hit this within seconds; a single process does too
whenever its first requests to a host go out together (several thread URLs of
one host from the community spider's start). This subclass gives each waiter
a Deferred of its own, chained to the shared one, which keeps its result.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred


class ConcurrentSafeRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Registered in place of Scrapy's own, at the same order (100)."""

    async def robot_parser(self, request: Request) -> RobotParser | None:
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if not isinstance(pending, Deferred):
            return await super().robot_parser(request)
        mine: Deferred[Any] = Deferred()

        def relay(result: Any) -> Any:
            mine.callback(result)
            return result  # the next waiter gets the parser too

        pending.addBoth(relay)
        return await maybe_deferred_to_future(mine)
