"""What may be fetched: http(s) only, and redirects never leave the allowed hosts.

Scrapy's OffsiteMiddleware checks a redirect's target when it is scheduled, but
lets a request with ``dont_filter`` through, and every retried request has
``dont_filter`` set: a page that answered 503 once and then redirected to
another host would be followed there. It also drops what it filters silently
(a DEBUG line), as the duplicate filter silently ends a redirect loop. The two
middlewares here make those cases explicit failures (``failures/<reason>`` via
the spiders' errbacks) whatever the request's flags:

* :class:`RequestGuardMiddleware` (before robots.txt and offsite, order 40):
  any request that is not http(s) is refused (``bad_scheme``) — including the
  robots.txt fetch it would trigger — and a redirected request (3xx or meta
  refresh) off the allowed hosts is refused (``offsite_redirect``).
* :class:`RedirectGuardMiddleware` (just outside RedirectMiddleware, order 610):
  sees a 3xx before it is followed and refuses a target off the allowed hosts
  (``offsite_redirect``), on another scheme (``bad_scheme``) or already in the
  redirect chain (``redirect_loop``).

Allowed hosts are the spider's ``allowed_domains`` (and their subdomains, as
Scrapy has it); ``meta["allow_offsite"]`` opts a request out, as in Scrapy.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached
from w3lib.url import canonicalize_url, safe_url_string

from crawler.failures import RefusedRequest

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

    def allowed_domains(self) -> list[str] | None:
        return getattr(self.crawler.spider, "allowed_domains", None)

    def refuse(self, request: Request, reason: str, message: str) -> RefusedRequest:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"guard/{reason}")
        logger.debug("Refused %s: %s", request.url, message)
        return RefusedRequest(message, reason)


class RequestGuardMiddleware(_Guard):
    """Refuses non-http(s) requests and redirected requests off the allowed hosts."""

    def process_request(self, request: Request) -> None:
        parsed = urlparse_cached(request)
        if parsed.scheme.lower() not in HTTP_SCHEMES:
            raise self.refuse(request, "bad_scheme", f"not an http(s) URL: {request.url[:200]}")
        redirected = request.meta.get("redirect_urls") and not request.meta.get("allow_offsite")
        if redirected and not host_allowed(parsed.hostname or "", self.allowed_domains()):
            raise self.refuse(
                request, "offsite_redirect", f"redirected off the allowed hosts to {request.url}"
            )


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
        if not request.meta.get("allow_offsite") and not host_allowed(
            parsed.hostname or "", self.allowed_domains()
        ):
            raise self.refuse(
                request, "offsite_redirect", f"redirect off the allowed hosts to {target}"
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
