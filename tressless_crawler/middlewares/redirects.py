"""Scrapy's redirect middlewares, for a crawl that sends no Referer header.

``REFERER_ENABLED`` is off (settings.py: no page of the site needs a Referer, and Scrapy's
referer middleware costs CPU on every request). Scrapy 2.19's redirect middlewares then look for
it when the engine starts and log a WARNING in every crawl that they found none. Without it they
drop the Referer of a redirected request, which is what this crawl wants: these subclasses do
just that and do not look. With ``REFERER_ENABLED`` on they are Scrapy's, unchanged.
Settings read: ``REFERER_ENABLED`` (and Scrapy's ``REDIRECT_*``).
"""

from __future__ import annotations

from typing import Self

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.redirect import BaseRedirectMiddleware
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware as ScrapyRedirectMiddleware
from scrapy.http import Request, Response


class WithoutReferer(BaseRedirectMiddleware):
    """A redirect middleware that drops the Referer of a redirect and never looks for
    Scrapy's referer middleware, unless ``REFERER_ENABLED`` is on."""

    without_referer = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if crawler.settings.getbool("REFERER_ENABLED"):
            return super().from_crawler(crawler)
        middleware = cls(crawler.settings)
        middleware.crawler = crawler
        middleware.without_referer = True
        return middleware

    def handle_referer(self, request: Request, response: Response) -> None:
        if self.without_referer:
            request.headers.pop("Referer", None)
        else:
            super().handle_referer(request, response)


class RedirectMiddleware(WithoutReferer, ScrapyRedirectMiddleware):
    """Scrapy's 3xx redirects (``REDIRECT_ENABLED``), without the referer lookup."""
