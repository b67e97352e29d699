"""The crawler's HTTP client: aiohttp, through the download handler Scrapy's developers publish.

``scrapy-download-handlers-incubator`` (by Scrapy's developers, one release per Scrapy minor,
like this project's pin) runs every http(s) request through aiohttp on the crawl's asyncio
loop. Against Scrapy's default Twisted client it takes about a tenth off the crawl's CPU per
page (docs/http-client.md) with the same behaviour where the crawler relies on it: Scrapy's
own download exceptions (retried and counted as before), ``DOWNLOAD_MAXSIZE``,
``DOWNLOAD_TIMEOUT``, the ``dataloss`` flag, the ``headers_received``/``bytes_received``
signals the guard listens to, proxies, no redirects, cookies or decompression of its own.

The incubator labels its handlers experimental and logs a warning saying so at every start;
this crawler chose this one knowingly (its fault tests run through it), so the subclass below
says it once at INFO instead. Switching back: ``DOWNLOAD_HANDLERS`` with
``scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler`` for http and https.
"""

from __future__ import annotations

import logging
from importlib.metadata import version
from typing import TYPE_CHECKING, ClassVar

from scrapy_download_handlers_incubator import AiohttpDownloadHandler

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class AiohttpClient(AiohttpDownloadHandler):
    """The incubator's aiohttp handler, announced once at INFO rather than as a warning."""

    experimental: ClassVar[bool] = False

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        logger.info(
            "HTTP client: aiohttp %s (scrapy-download-handlers-incubator %s)",
            version("aiohttp"),
            version("scrapy-download-handlers-incubator"),
        )
