"""The downloader middleware that hands every response, and its request, to the archive.

It sits next to the download handler (order 950, after Scrapy's cache at 900), so it
sees responses as they came over the wire: redirects, retried errors, 304s and
robots.txt included, bodies still content-encoded. The response record's id goes
into ``request.meta["warc_record_id"]``, which the spiders pass on to the ``pages``
row (``tressless_crawler.signals.send_page_fetched``).

Settings: ``ARCHIVE`` (``warc`` turns it on), ``ARCHIVE_DIR``, ``ARCHIVE_MAX_SIZE``,
``ARCHIVE_COMPRESS_LEVEL``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from tressless_crawler import defaults
from tressless_crawler.archive.writer import (
    COMPRESS_LEVEL,
    DEFAULT_MAX_SIZE,
    ArchiveWriter,
    Exchange,
    WarcFiles,
    new_record_id,
)
from tressless_crawler.stats import ARCHIVE_BYTES, ARCHIVE_FAILED, ARCHIVE_FILES, ARCHIVE_RECORDS

logger = logging.getLogger(__name__)

RECORD_ID_META = "warc_record_id"
FORMATS = ("warc",)


def archive_format(value: object) -> str | None:
    """The ARCHIVE setting: "warc", or off ("", 0, off, false, none)."""
    text = str(value or "").strip().lower()
    if text in ("", "0", "off", "false", "no", "none"):
        return None
    if text not in FORMATS:
        raise ValueError(f"ARCHIVE={value!r} is not an archive format (use warc, or leave it off)")
    return text


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def headers_list(headers: object) -> list[tuple[str, str]]:
    """Scrapy's Headers as (name, value) text pairs, every value of a repeated header kept."""
    pairs: list[tuple[str, str]] = []
    for name, values in headers.items():  # type: ignore[attr-defined]
        key = name.decode("latin-1")
        pairs.extend((key, value.decode("latin-1")) for value in values)
    return pairs


def exchange_of(request: Request, response: Response, fetched_at: datetime) -> Exchange:
    request_headers = headers_list(request.headers)
    if not any(name.lower() == "host" for name, _ in request_headers):
        request_headers.insert(0, ("Host", urlsplit(request.url).netloc))
    ip = getattr(response, "ip_address", None)
    return Exchange(
        record_id=new_record_id(),
        url=response.url,
        fetched_at=fetched_at,
        method=request.method,
        request_headers=request_headers,
        request_body=request.body or b"",
        status=response.status,
        reason=reason_phrase(response.status),
        protocol=response.protocol or "HTTP/1.1",
        response_headers=headers_list(response.headers),
        body=response.body,
        ip_address=str(ip) if ip is not None else None,
    )


class ArchiveMiddleware:
    def __init__(
        self, crawler: Crawler, directory: Path, max_size: int, level: int = COMPRESS_LEVEL
    ) -> None:
        self.crawler = crawler
        prefix = getattr(crawler.spidercls, "name", "") or "crawl"
        files = WarcFiles(directory, prefix=prefix, max_size=max_size, level=level)
        self.writer = ArchiveWriter(files)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveMiddleware:
        settings = crawler.settings
        try:
            off = archive_format(settings.get("ARCHIVE")) is None
        except ValueError as exc:
            logger.error("Crawl refused: %s", exc)  # the one line to read in the log
            raise
        if off:
            raise NotConfigured  # no reason: Scrapy logs one as a WARNING, in every crawl
        directory = Path(defaults.get(settings, "ARCHIVE_DIR"))
        max_size = settings.getint("ARCHIVE_MAX_SIZE", DEFAULT_MAX_SIZE)
        level = min(9, max(1, settings.getint("ARCHIVE_COMPRESS_LEVEL", COMPRESS_LEVEL)))
        middleware = cls(crawler, directory, max_size, level)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        logger.info("Archiving every response as WARC under %s", directory)
        return middleware

    def process_response(self, request: Request, response: Response) -> Response:
        if "cached" in response.flags:  # from HTTPCACHE: not fetched by this crawl
            return response
        exchange = exchange_of(request, response, datetime.now(UTC))
        stats = self.crawler.stats
        if self.writer.put(exchange):
            request.meta[RECORD_ID_META] = exchange.record_id
            if stats is not None:
                stats.inc_value(ARCHIVE_RECORDS)
                stats.inc_value(ARCHIVE_BYTES, len(response.body))
        elif stats is not None:
            stats.inc_value(ARCHIVE_FAILED)
        return response

    def spider_closed(self) -> None:
        self.writer.close()
        stats = self.crawler.stats
        if stats is not None:
            stats.set_value(ARCHIVE_FILES, len(self.writer.files.files))
