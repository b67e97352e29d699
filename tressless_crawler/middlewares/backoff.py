"""Retries that wait: Retry-After when the server gives one, exponential backoff otherwise.

Scrapy's RetryMiddleware puts a failed request straight back in the queue, so a
server that answers 503 or 429 gets hit again at once, and its Retry-After is
ignored. This subclass decides *whether* to retry exactly as Scrapy does
(RETRY_TIMES, RETRY_HTTP_CODES, RETRY_EXCEPTIONS, ``dont_retry``) and then waits
before handing the retry back:

* ``Retry-After`` (delta seconds or an HTTP date), capped at ``RETRY_AFTER_MAX``;
* else ``RETRY_BACKOFF_BASE * 2 ** (attempt - 1)`` capped at ``RETRY_BACKOFF_MAX``,
  with "equal jitter" (half fixed, half random) so that retries of many
  requests do not arrive together.

The wait is a timer on the reactor: nothing blocks. A Retry-After speaks for the
whole host, not only for the page that got it, so until it has passed every other
request to that host waits too (``retry/host_paused/count`` and ``.../wait_ms``):
those on their way to the downloader here, and those already waiting in the
downloader's queue for the host's connections, whose slot is held for as long
(``retry/host_paused/slot_held``); backoff after an error without one only delays
the failed request. It replaces
the built-in middleware at the same order (550); see settings.py.
Stats: ``retry/count``, ``retry/reason_count/<reason>``, ``retry/max_reached``
(Scrapy's), plus ``retry/backoff/count``, ``retry/retry_after/count`` and
``retry/wait_ms``.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message
from twisted.internet.task import deferLater

from tressless_crawler.defaults import DEFAULTS
from tressless_crawler.scrapy_internals import hold_downloader_slot
from tressless_crawler.stats import (
    RETRY_HOST_PAUSED_COUNT,
    RETRY_HOST_PAUSED_SLOT_HELD,
    RETRY_HOST_PAUSED_WAIT_MS,
    RETRY_WAIT_COUNT,
    RETRY_WAIT_MS,
)

logger = logging.getLogger(__name__)

DEFAULT_BACKOFF_BASE = DEFAULTS["RETRY_BACKOFF_BASE"]
DEFAULT_BACKOFF_MAX = DEFAULTS["RETRY_BACKOFF_MAX"]
DEFAULT_RETRY_AFTER_MAX = DEFAULTS["RETRY_AFTER_MAX"]


async def sleep(seconds: float) -> None:
    """Wait on the reactor without blocking it."""
    from twisted.internet import (
        reactor,
    )  # the installed one: importing earlier would install the default

    await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))


def parse_retry_after(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or HTTP date); None if unusable."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


class BackoffRetryMiddleware(RetryMiddleware):
    """RetryMiddleware whose retries wait (Retry-After, else exponential backoff with jitter)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler.settings)
        self.crawler = crawler
        settings = crawler.settings
        self.backoff_base = max(0.0, settings.getfloat("RETRY_BACKOFF_BASE", DEFAULT_BACKOFF_BASE))
        self.backoff_max = max(0.0, settings.getfloat("RETRY_BACKOFF_MAX", DEFAULT_BACKOFF_MAX))
        self.retry_after_max = max(
            0.0, settings.getfloat("RETRY_AFTER_MAX", DEFAULT_RETRY_AFTER_MAX)
        )
        self.random = random.Random()
        self.paused_until: dict[str, float] = {}  # host -> time.monotonic() it may be asked again

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        """Hold a request to a host that asked (Retry-After) to be left alone for a while."""
        host = urlparse_cached(request).netloc
        until = self.paused_until.get(host)
        if until is None:
            return
        remaining = until - time.monotonic()
        if remaining <= 0:
            self.paused_until.pop(host, None)
            return
        stats = self.crawler.stats
        if stats is not None:
            stats.inc_value(RETRY_HOST_PAUSED_COUNT)
            stats.inc_value(RETRY_HOST_PAUSED_WAIT_MS, int(remaining * 1000))
        await sleep(remaining)

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retry = self.retry_request(request, response_status_message(response.status))
        if retry is None:
            return response
        await self.wait(request, response)
        return retry

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception
    ) -> Request | Response | None:
        if request.meta.get("dont_retry", False) or not isinstance(
            exception, self.exceptions_to_retry
        ):
            return None
        retry = self.retry_request(request, exception)
        if retry is None:
            return None
        await self.wait(request, None)
        return retry

    def delay(self, request: Request, response: Response | None) -> tuple[float, str]:
        """How long to wait before the next attempt, and why ("retry_after" or "backoff")."""
        if response is not None:
            retry_after = parse_retry_after(response.headers.get(b"Retry-After"))
            if retry_after is not None:
                return min(retry_after, self.retry_after_max), "retry_after"
        attempt = request.meta.get("retry_times", 0) + 1
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return ceiling / 2 + self.random.uniform(0, ceiling / 2), "backoff"

    async def wait(self, request: Request, response: Response | None) -> None:
        seconds, why = self.delay(request, response)
        stats = self.crawler.stats
        if stats is not None:
            stats.inc_value(RETRY_WAIT_COUNT.key(why))
            stats.inc_value(RETRY_WAIT_MS, int(seconds * 1000))
        logger.debug("Retrying %s in %.2f s (%s)", request.url, seconds, why)
        if why == "retry_after" and seconds > 0:
            host = urlparse_cached(request).netloc
            until = time.monotonic() + seconds
            if until > self.paused_until.get(host, 0.0):
                logger.info(
                    "%s asked for a pause (Retry-After): %.1f s for the host", host, seconds
                )
                self.paused_until[host] = until
                if self.hold_downloader_slot(request, seconds) and stats is not None:
                    stats.inc_value(RETRY_HOST_PAUSED_SLOT_HELD)
        if seconds > 0:
            await sleep(seconds)

    def hold_downloader_slot(self, request: Request, seconds: float) -> bool:
        """Keep the downloader from sending what it already queued for the request's slot.

        This needs the downloader's internals (``tressless_crawler.scrapy_internals``); on a
        Scrapy without them a warning says so once, and only the requests on their way in are
        held (by process_request).
        """
        return hold_downloader_slot(self.crawler, request, seconds)

    def retry_request(self, request: Request, reason: str | Exception) -> Request | None:
        """The retry of ``request``, or None once its retries are used up: RetryMiddleware's
        decision (RETRY_TIMES, RETRY_PRIORITY_ADJUST, RETRY_GIVE_UP_LOG_LEVEL and the
        ``max_retry_times``, ``priority_adjust`` and ``give_up_log_level`` meta keys) and stats."""
        assert self.crawler.spider is not None
        return get_retry_request(
            request,
            reason=reason,
            spider=self.crawler.spider,
            max_retry_times=request.meta.get("max_retry_times", self.max_retry_times),
            priority_adjust=request.meta.get("priority_adjust", self.priority_adjust),
            give_up_log_level=request.meta.get("give_up_log_level", self.give_up_log_level),
        )
