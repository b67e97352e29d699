"""What may be fetched: http(s) only, on the allowed origins only, redirects included.

Scrapy's OffsiteMiddleware checks a redirect's target when it is scheduled, but
lets a request with ``dont_filter`` through, and every retried request has
``dont_filter`` set: a page that answered 503 once and then redirected to
another host would be followed there. It also drops what it filters silently
(a DEBUG line), as the duplicate filter silently ends a redirect loop. The two
middlewares here make those cases explicit failures (``failures/<reason>`` via
the spiders' errbacks) whatever the request's flags:

* :class:`RequestGuardMiddleware` (before robots.txt and offsite, order 40):
  any request that is not http(s) is refused (``bad_scheme``) — including the
  robots.txt fetch it would trigger — and so is any request off the allowed
  origins (``offsite``; ``offsite_redirect`` for a redirected one, 3xx or meta
  refresh), whatever put it in the queue.
* :class:`RedirectGuardMiddleware` (just outside RedirectMiddleware, order 610):
  sees a 3xx before it is followed and refuses a target off the allowed origins
  (``offsite_redirect``), on another scheme (``bad_scheme``) or already in the
  redirect chain (``redirect_loop``).

An origin is scheme, host and port (:class:`tressless_crawler.urls.Origins`): Scrapy's
``allowed_domains`` compare host names only, so a page of another server on the
same host (``127.0.0.1:<other port>``) would pass them. The allowed origins are
the spider's ``allowed_origins``; a spider without them falls back to its
``allowed_domains`` (and their subdomains, as Scrapy has it).
``meta["allow_offsite"]`` opts a request out, as in Scrapy.

The middleware also watches the size of bodies whose length was not announced
(:class:`BodySizeWatch`): Scrapy cancels such a download past ``DOWNLOAD_MAXSIZE``
with an error that does not say why, and the failure would count as
``cancelled``; the request is marked so that it counts as ``too_big``.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit
from weakref import WeakKeyDictionary

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached
from w3lib.url import canonicalize_url, safe_url_string

from tressless_crawler.exceptions import RefusedRequest
from tressless_crawler.middlewares.failures import TOO_BIG_META
from tressless_crawler.stats import GUARD
from tressless_crawler.urls import Origins

logger = logging.getLogger(__name__)

HTTP_SCHEMES = frozenset({"http", "https"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def host_allowed(host: str, allowed_domains: list[str] | None) -> bool:
    """``host`` is one of ``allowed_domains`` or a subdomain of one (no list: all allowed)."""
    domains = [d.lower().strip(".") for d in allowed_domains or [] if d]
    if not domains:
        return True
    host = (host or "").lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in domains)


class _Guard:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        return cls(crawler)

    def allowed(self, url: str, host: str) -> bool:
        """``url`` (of ``host``) is on the spider's allowed origins (or domains, lacking those)."""
        origins: Origins | None = getattr(self.crawler.spider, "allowed_origins", None)
        if origins is not None:
            return origins.allows(url)
        return host_allowed(host, getattr(self.crawler.spider, "allowed_domains", None))

    def refuse(self, request: Request, reason: str, message: str) -> RefusedRequest:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(GUARD.key(reason))
        logger.debug("Refused %s: %s", request.url, message)
        return RefusedRequest(message, reason)


class RequestGuardMiddleware(_Guard):
    """Refuses non-http(s) requests and requests off the allowed origins."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.body_watch = BodySizeWatch(crawler)  # signal receivers are weak references

    def process_request(self, request: Request) -> None:
        parsed = urlparse_cached(request)
        if parsed.scheme.lower() not in HTTP_SCHEMES:
            raise self.refuse(request, "bad_scheme", f"not an http(s) URL: {request.url[:200]}")
        if request.meta.get("allow_offsite") or self.allowed(request.url, parsed.hostname or ""):
            return
        if request.meta.get("redirect_urls"):
            raise self.refuse(
                request, "offsite_redirect", f"redirected off the allowed origins to {request.url}"
            )
        raise self.refuse(request, "offsite", f"not on the allowed origins: {request.url[:200]}")


class RedirectGuardMiddleware(_Guard):
    """Refuses a redirect before it is followed when it leaves the hosts, the scheme or loops."""

    def process_response(self, request: Request, response: Response) -> Response:
        if not self.follows(request, response):
            return response
        location = safe_url_string(response.headers.get(b"Location") or b"")
        if location.startswith("//"):
            location = f"{urlparse_cached(request).scheme}:{location}"
        target = urljoin(request.url, location)
        parsed = urlsplit(target)
        if parsed.scheme.lower() not in HTTP_SCHEMES:
            raise self.refuse(
                request, "bad_scheme", f"redirect to a non-http(s) URL: {target[:200]}"
            )
        if not request.meta.get("allow_offsite") and not self.allowed(
            target, parsed.hostname or ""
        ):
            raise self.refuse(
                request, "offsite_redirect", f"redirect off the allowed origins to {target}"
            )
        chain = {_key(url) for url in [*request.meta.get("redirect_urls", []), request.url]}
        if _key(target) in chain:
            raise self.refuse(request, "redirect_loop", f"redirect loop back to {target}")
        return response

    def follows(self, request: Request, response: Response) -> bool:
        """Whether Scrapy's RedirectMiddleware would follow this response."""
        if response.status not in REDIRECT_STATUSES or b"Location" not in response.headers:
            return False
        meta = request.meta
        spider_codes = getattr(self.crawler.spider, "handle_httpstatus_list", ())
        return not (
            meta.get("dont_redirect")
            or meta.get("handle_httpstatus_all")
            or response.status in meta.get("handle_httpstatus_list", ())
            or response.status in spider_codes
        )


def _key(url: str) -> str:
    return canonicalize_url(urldefrag(url)[0])


# Scrapy's loggers that announce a body past DOWNLOAD_MAXSIZE before the request fails.
SIZE_LOGGERS = (
    "scrapy.core.downloader.handlers.http11",
    # where the aiohttp client's base class (tressless_crawler.http_client) says it
    "scrapy.core.downloader.handlers._base_streaming",
    "scrapy.downloadermiddlewares.httpcompression",
)


class _SizeLinesFilter(logging.Filter):
    """Drops Scrapy's line about a body past DOWNLOAD_MAXSIZE: the failure's line says it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        return not ("download max size" in message or "exceeded DOWNLOAD_MAXSIZE" in message)


class BodySizeWatch:
    """Marks a request whose unannounced body grew past DOWNLOAD_MAXSIZE (``too_big``).

    Only bodies without a Content-Length are counted (Scrapy refuses the others up front,
    saying why); the count of each lives as long as its request.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.maxsize = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        for name in SIZE_LOGGERS:  # the spiders log the one line (middlewares/failures.py)
            size_logger = logging.getLogger(name)
            if not any(isinstance(f, _SizeLinesFilter) for f in size_logger.filters):
                size_logger.addFilter(_SizeLinesFilter())
        self.received: WeakKeyDictionary[Request, int] = WeakKeyDictionary()
        crawler.signals.connect(self.headers_received, signal=signals.headers_received)
        crawler.signals.connect(self.bytes_received, signal=signals.bytes_received)

    def limit(self, request: Request) -> int:
        return int(request.meta.get("download_maxsize", self.maxsize) or 0)

    def headers_received(self, headers: Any, body_length: Any, request: Request, **_: Any) -> None:
        # None (aiohttp), or Twisted's UNKNOWN_LENGTH (a string), when no length was announced.
        unknown = not isinstance(body_length, int) or body_length < 0
        if unknown and self.limit(request):
            self.received[request] = 0

    def bytes_received(self, data: bytes, request: Request, **_: Any) -> None:
        count = self.received.get(request)
        if count is None:
            return
        count += len(data)
        self.received[request] = count
        if count > self.limit(request):
            request.meta[TOO_BIG_META] = count
            del self.received[request]
