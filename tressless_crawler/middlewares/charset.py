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

A UTF-8 page with a few invalid bytes is still a UTF-8 page: when its valid
multi-byte sequences are at least as many as its invalid ones (more, where UTF-8
was not declared), or it starts with a UTF-8 byte-order mark, it is read as
UTF-8 and each invalid byte costs one character (U+FFFD, counted as
``charset/invalid_bytes``), where re-decoding it as Windows-1252 would garble
every other non-ASCII character of the page.

``DECODER_VERSION`` is recorded with each crawl run (``crawl_runs.settings``):
pages last read by an older decoder that re-decoded pages it should not have are
refetched in full by the next crawl (``tressless_crawler.incremental.known``).
"""

from __future__ import annotations

import codecs
import logging
import re

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

from tressless_crawler.defaults import DEFAULTS
from tressless_crawler.stats import (
    CHARSET_INVALID_BYTES,
    CHARSET_PAGES_WITH_INVALID_BYTES,
    CHARSET_REPAIRED,
    CHARSET_REPAIRED_AS,
)

logger = logging.getLogger(__name__)

FALLBACK = DEFAULTS["CHARSET_FALLBACK"]
UTF8 = "utf-8"
# 1: a page declaring UTF-8 with one invalid byte was re-decoded as Windows-1252.
# 2: such a page is read as UTF-8, the invalid bytes replaced.
DECODER_VERSION = 2
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")
_REPLACEMENT = "\ufffd"
_ENCODED_REPLACEMENT = _REPLACEMENT.encode()


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


def utf8_counts(body: bytes) -> tuple[int, int]:
    """(valid multi-byte characters, invalid sequences) of ``body`` read as UTF-8."""
    text = body.decode(UTF8, errors="replace")
    invalid = text.count(_REPLACEMENT) - body.count(_ENCODED_REPLACEMENT)
    return len(_NON_ASCII_RE.findall(text)) - invalid, invalid


def mostly_utf8(body: bytes, declared_utf8: bool = False) -> bool:
    """``body`` is UTF-8 with a few invalid bytes (ties go to UTF-8 when it was declared)."""
    if body.startswith(codecs.BOM_UTF8):
        return True
    valid, invalid = utf8_counts(body)
    return valid > 0 and (valid >= invalid if declared_utf8 else valid > invalid)


def declared_encoding(body: bytes, content_type: str | None) -> str | None:
    """The charset the response declares (BOM, Content-Type, then ``<meta>``), if any."""
    return (
        read_bom(body)[0]
        or http_content_type_encoding(content_type or "")
        or html_body_declared_encoding(body)
    )


def fits_plainly(body: bytes, used: str | None) -> bool:
    """The usual page, settled without looking further: ASCII, or valid UTF-8 read as UTF-8.

    ``better_encoding`` finds nothing better for such a page and it has no invalid bytes to
    count; the check costs one decode of the body instead of several.
    """
    return body.isascii() or (_canonical(used) == UTF8 and _decodes(body, UTF8))


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
        if not _decodes(body, UTF8) and mostly_utf8(body):
            return UTF8 if used != UTF8 else None
        choice = next((enc for enc in (UTF8, fallback) if _decodes(body, enc)), None)
        return choice if choice not in (None, used) else None
    if used not in (UTF8, "ascii") and _single_byte(used):
        return UTF8 if _decodes(body, UTF8) or mostly_utf8(body) else None
    if _decodes(body, used):
        return None
    if used == UTF8 and mostly_utf8(body, declared_utf8=True):
        return None  # UTF-8 with invalid bytes: each becomes U+FFFD
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

    def count_invalid(self, response: Response) -> None:
        """A page read as UTF-8 with invalid bytes: counted, and said once per page."""
        if _decodes(response.body, UTF8):
            return
        _valid, invalid = utf8_counts(response.body)
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(CHARSET_INVALID_BYTES, invalid)
            self.crawler.stats.inc_value(CHARSET_PAGES_WITH_INVALID_BYTES)
        logger.info("%s: %d invalid UTF-8 sequence(s) read as U+FFFD", response.url, invalid)

    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, TextResponse) or not response.body:
            return response
        used = response.encoding
        if fits_plainly(response.body, used):
            return response
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        declared = declared_encoding(response.body, content_type) is not None
        better = better_encoding(response.body, used, declared, self.fallback)
        if (better or _canonical(used)) == UTF8 and not response.body.isascii():
            self.count_invalid(response)
        if better is None:
            return response
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(CHARSET_REPAIRED)
            self.crawler.stats.inc_value(CHARSET_REPAIRED_AS.key(better))
        logger.info(
            "%s: decoded as %s (the %s charset %s does not fit its bytes)",
            response.url,
            better,
            "declared" if declared else "guessed",
            used,
        )
        return response.replace(encoding=better)
