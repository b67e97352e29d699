"""Correct text from pages whose declared charset is wrong.

Scrapy decodes a page with the charset of its Content-Type header, else its
``<meta charset>``, else a statistical guess. A header that lies wins: a
Windows-1252 page sent as ``charset=utf-8`` comes out with U+FFFD where its
“smart quotes” and é were, and a UTF-8 page sent as ``charset=iso-8859-1`` comes
out as mojibake (``â€œ``). The guess, for a page that declares nothing, may pick
a neighbour of Windows-1252 (Windows-1250 reads "naïve" as "naďve"). Either way
the damage would be stored as the study's text.

The bytes say which it is: non-ASCII text that decodes as UTF-8 is UTF-8 (it
almost never happens by chance), and text that does not decode under its
declared multi-byte charset is in some other one: the page's own ``<meta>`` if
that decodes, else ``CHARSET_FALLBACK`` (Windows-1252, what browsers assume for
an English page that declares nothing — the same rule replaces the guess). The
response is then re-decoded with that charset, counted as ``charset/repaired``.
"""

from __future__ import annotations

import codecs
import logging

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

logger = logging.getLogger(__name__)

FALLBACK = "cp1252"
UTF8 = "utf-8"


def _canonical(encoding: str | None) -> str | None:
    try:
        return codecs.lookup(encoding).name if encoding else None
    except LookupError:
        return None


def _decodes(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _single_byte(encoding: str) -> bool:
    try:
        return len("é€".encode(encoding, errors="replace")) <= 2
    except LookupError:
        return False


def declared_encoding(body: bytes, content_type: str | None) -> str | None:
    """The charset the response declares (BOM, Content-Type, then ``<meta>``), if any."""
    return (
        read_bom(body)[0]
        or http_content_type_encoding(content_type or "")
        or html_body_declared_encoding(body)
    )


def better_encoding(
    body: bytes, used: str | None, declared: bool = True, fallback: str = FALLBACK
) -> str | None:
    """The charset ``body`` is really in when ``used`` is evidently wrong, else None.

    ``declared`` says whether ``used`` was declared by the response (else it was guessed).
    """
    used = _canonical(used)
    fallback = _canonical(fallback) or FALLBACK
    if used is None or body.isascii():
        return None
    if not declared:
        choice = next((enc for enc in (UTF8, fallback) if _decodes(body, enc)), None)
        return choice if choice not in (None, used) else None
    if used not in (UTF8, "ascii") and _single_byte(used):
        return UTF8 if _decodes(body, UTF8) else None
    if _decodes(body, used):
        return None
    in_body = _canonical(html_body_declared_encoding(body))
    for candidate in (in_body, UTF8, fallback):
        if candidate and candidate != used and _decodes(body, candidate):
            return candidate
    return "latin-1"  # decodes any bytes; nothing better is known


class CharsetRepairMiddleware:
    """Re-decodes a text response whose bytes contradict the charset it was decoded with."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.fallback = crawler.settings.get("CHARSET_FALLBACK") or FALLBACK

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CharsetRepairMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, TextResponse) or not response.body:
            return response
        used = response.encoding
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        declared = declared_encoding(response.body, content_type) is not None
        better = better_encoding(response.body, used, declared, self.fallback)
        if better is None:
            return response
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("charset/repaired")
            self.crawler.stats.inc_value(f"charset/repaired/{better}")
        logger.info(
            "%s: decoded as %s (the %s charset %s does not fit its bytes)",
            response.url,
            better,
            "declared" if declared else "guessed",
            used,
        )
        return response.replace(encoding=better)
