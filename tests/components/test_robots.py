"""robots.txt is checked for every request, also for requests that wait for it together."""

from __future__ import annotations

import asyncio

from scrapy import Request
from scrapy.utils.test import get_crawler
from twisted.internet.defer import Deferred

from tressless_crawler.middlewares.robots import ConcurrentSafeRobotsTxtMiddleware


async def parsers_seen_by_waiters(count: int) -> list[object]:
    """``count`` requests wait for example.com's robots.txt, which then arrives."""
    crawler = get_crawler(settings_dict={"ROBOTSTXT_OBEY": True})
    middleware = ConcurrentSafeRobotsTxtMiddleware(crawler)
    pending: Deferred[object] = Deferred()
    middleware._parsers["example.com"] = pending  # its fetch is under way
    waiters = [
        asyncio.ensure_future(middleware.robot_parser(Request(f"http://example.com/page-{n}")))
        for n in range(count)
    ]
    await asyncio.sleep(0)
    pending.callback("the parser")
    return list(await asyncio.gather(*waiters))


def test_every_waiting_request_gets_the_parser() -> None:
    # Scrapy's own middleware hands the parser to the first waiter and None ("no robots.txt",
    # everything allowed) to the others.
    assert asyncio.run(parsers_seen_by_waiters(3)) == ["the parser"] * 3
