"""Scrapy's RobotsTxtMiddleware, with every request checked, also those waiting together.

Since Scrapy 2.13 (scrapy/scrapy#6802) every request that arrives while a host's
robots.txt is being fetched awaits the same Deferred through
``Deferred.asFuture()``, whose callback returns None: the first waiter gets the
parser, every other one gets None — "no robots.txt" — and is let through
unchecked. A worker that joins a distributed crawl takes several requests for
the site at once, so it hit this within seconds; a single process does too
whenever its first requests to a host go out together (several thread URLs of
one host from the community spider's start). This subclass lets only the first
request of a host ask Scrapy's middleware while its robots.txt is fetched; the
others wait for that answer, each on a Deferred of its own.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred


class ConcurrentSafeRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Registered in place of Scrapy's own, at the same order (100)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        # host -> the requests waiting for the answer of the first one to ask
        self.waiting: dict[str, list[Deferred[RobotParser | None]]] = {}

    async def robot_parser(self, request: Request) -> RobotParser | None:
        waiting = self.waiting
        netloc = urlparse_cached(request).netloc
        others = waiting.get(netloc)
        if others is not None:  # the host's robots.txt is on its way: wait for it
            mine: Deferred[RobotParser | None] = Deferred()
            others.append(mine)
            return await maybe_deferred_to_future(mine)
        waiting[netloc] = []
        try:
            parser = await super().robot_parser(request)
        except BaseException as exc:
            for other in waiting.pop(netloc):
                other.errback(exc)
            raise
        for other in waiting.pop(netloc):
            other.callback(parser)
        return parser
