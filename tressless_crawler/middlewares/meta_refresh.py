"""Scrapy's meta-refresh redirects, without decoding every page to find none.

Scrapy's ``MetaRefreshMiddleware`` looks for ``<meta http-equiv="refresh">`` in the first 4,096
characters of ``response.text``, which decodes the whole body of every HTML page; the crawler's
parsers read the bytes, so nothing else needs that text. w3lib's ``get_meta_refresh`` (2.5)
can rule a refresh out on the bytes of an ASCII-compatible page. When it finds none in the
first 16 KiB (at most four bytes a character: the 4,096 characters Scrapy reads, and more) the
page is passed on untouched; otherwise Scrapy's own middleware decides, exactly as before.
Like the 3xx redirects it drops a redirect's Referer without looking for Scrapy's referer
middleware (``tressless_crawler.middlewares.redirects``).

Settings: Scrapy's ``METAREFRESH_ENABLED``, ``METAREFRESH_IGNORE_TAGS``, ``METAREFRESH_MAXDELAY``.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse, Response
from scrapy.settings import BaseSettings
from w3lib.html import get_meta_refresh

from tressless_crawler.middlewares.redirects import WithoutReferer

# Scrapy reads 4,096 characters; no encoding w3lib scans as bytes takes more than 4 bytes each.
SCANNED_BYTES = 4 * 4096


class BodyMetaRefreshMiddleware(WithoutReferer, MetaRefreshMiddleware):
    """``MetaRefreshMiddleware`` that skips pages whose bytes hold no refresh tag."""

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.ignore_tags: list[str] = settings.getlist("METAREFRESH_IGNORE_TAGS")

    def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        if isinstance(response, HtmlResponse) and not self.may_refresh(response):
            return response
        return super().process_response(request, response)

    def may_refresh(self, response: HtmlResponse) -> bool:
        """False when the page's first bytes certainly hold no refresh tag."""
        try:
            found = get_meta_refresh(
                response.body,
                "",
                response.encoding,
                ignore_tags=self.ignore_tags,
                max_scan=SCANNED_BYTES,
            )
        except (UnicodeDecodeError, LookupError):
            return True  # the bytes could not rule it out: Scrapy's own check decides
        return found != (None, None)
