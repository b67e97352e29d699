"""robots.txt is checked for every request, also for requests that wait for it together."""

from __future__ import annotations

import asyncio

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler

from tressless_crawler.middlewares.robots import ConcurrentSafeRobotsTxtMiddleware

ROBOTS = b"User-agent: *\nDisallow: /private/\n"


class SlowRobotsDownload:
    """Stands for the engine's download of robots.txt: it arrives when ``arrive`` is set."""

    def __init__(self) -> None:
        self.arrive = asyncio.Event()
        self.fetched: list[str] = []

    async def download_async(self, request: Request) -> TextResponse:
        self.fetched.append(request.url)
        await self.arrive.wait()
        return TextResponse(request.url, body=ROBOTS, request=request)


async def outcomes_of_waiters(paths: list[str]) -> tuple[list[str], list[str]]:
    """Each path's request waits for example.com's robots.txt, which then arrives."""
    crawler = get_crawler(settings_dict={"ROBOTSTXT_OBEY": True})
    download = SlowRobotsDownload()
    crawler.engine = download  # type: ignore[assignment]
    middleware = ConcurrentSafeRobotsTxtMiddleware(crawler)

    async def outcome(path: str) -> str:
        try:
            await middleware.process_request(Request(f"http://example.com{path}"))
        except IgnoreRequest:
            return "forbidden"
        return "allowed"

    waiters = [asyncio.ensure_future(outcome(path)) for path in paths]
    for _ in range(3):
        await asyncio.sleep(0)
    download.arrive.set()
    results = list(await asyncio.gather(*waiters))
    # asked again later, from the parser the middleware keeps
    results.append(await outcome("/private/later"))
    return results, download.fetched


@pytest.mark.parametrize("count", [1, 3])
def test_every_waiting_request_is_checked(count: int) -> None:
    # Scrapy's own middleware hands the parser to the first waiter and None ("no robots.txt",
    # everything allowed) to the others.
    paths = [f"/private/page-{n}" for n in range(count)] + ["/public"]
    results, fetched = asyncio.run(outcomes_of_waiters(paths))
    assert results == ["forbidden"] * count + ["allowed", "forbidden"]
    assert fetched == ["http://example.com/robots.txt"]  # fetched once
