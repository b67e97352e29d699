"""Normalises item text: Unicode NFC, whitespace, journal quotes, dates, card ages.

Parsers already return clean text; this pass makes every item that reaches the
database follow the same rules whatever produced it (a parser, an older page
template, the Reddit JSON form), and derives approximate dates from card ages.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import fields
from datetime import datetime
from typing import Any

from scrapy.crawler import Crawler

from tressless_crawler.db.runs import utcnow
from tressless_crawler.items import CommentItem, CommunityCard, ResearchRef, StudyItem, ThreadItem
from tressless_crawler.parsers.text import approx_date_from_age, parse_month_year
from tressless_crawler.stats import NORMALIZE_AGE_UNPARSED, NORMALIZE_PUBLISHED_UNPARSED

logger = logging.getLogger(__name__)

QUOTES = "“”„‟\"'«»"
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
# Post and comment bodies: Markdown, kept as written (see clean_markdown).
MARKDOWN = {"body"}
LEADING_BLANK_LINES_RE = re.compile(r"\A(?:[ \t]*\n)+")
MARKDOWN_BLANK = " \t\n"  # a no-break space is text to Markdown, not blank


def clean_line(value: str | None) -> str | None:
    """NFC, whitespace collapsed to single spaces, stripped; empty becomes None.

    ``str.split()`` splits on exactly what ``\\s`` matches (``str.isspace``), in C: the same
    result as ``re.sub(r"\\s+", " ", text).strip()`` at a third of the cost, which matters because
    every string of every item passes here.

    Most strings arrive clean already (the parsers clean their text the same way), so a string
    that visibly is (printable, hence no whitespace but the plain space; no space doubled,
    leading or trailing; NFC) is returned as it is: checking costs a third of cleaning a
    summary again.
    """
    if value is None:
        return None
    if (
        value.isprintable()
        and value
        and value[0] != " "
        and value[-1] != " "
        and "  " not in value
        and (value.isascii() or unicodedata.is_normalized("NFC", value))
    ):
        return value
    text = " ".join(unicodedata.normalize("NFC", value).split())
    return text or None


def clean_markdown(value: str | None) -> str | None:
    """A post or comment body as written, with only the changes Markdown cannot see.

    Bodies are Markdown: two trailing spaces are a hard line break, spaces and blank lines
    inside code are code, a leading indent makes a code block, and even NFC can turn ``>``
    and a combining mark into another character. So the text is kept as it is, except:
    line endings become ``\n`` and NUL becomes U+FFFD (CommonMark reads them so), and
    blank lines before the first text are dropped (a document's leading blank lines render
    to nothing). Blank bodies become None. tests/unit/test_markdown_bodies.py renders
    source and result with markdown-it-py and compares the HTML.
    """
    if value is None:
        return None
    text = value.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")
    if not text.strip(MARKDOWN_BLANK):
        return None
    return LEADING_BLANK_LINES_RE.sub("", text)


def clean_journal(value: str | None) -> str | None:
    text = clean_line(value)
    return (text.strip(QUOTES + " ") or None) if text else None


def clean_month(value: str | None) -> str | None:
    """ "YYYY-MM" kept; "November 2017" converted; anything else becomes None."""
    text = clean_line(value)
    if text is None or MONTH_RE.match(text):
        return text
    return parse_month_year(text)


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


def clean_strings(obj: Any) -> None:
    """Clean every str field of a dataclass in place (not recursing into lists)."""
    for name in _field_names(type(obj)):
        value = getattr(obj, name)
        if isinstance(value, str):
            clean = clean_markdown(value) if name in MARKDOWN else clean_line(value)
            if clean is not value:  # most are clean already: no write
                setattr(obj, name, clean)


class NormalizePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.crawl_time: datetime = utcnow()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.crawl_time = utcnow()

    def process_item(self, item: Any) -> Any:
        if isinstance(item, StudyItem):
            self.normalize_study(item)
        elif isinstance(item, ThreadItem):
            self.normalize_thread(item)
        return item

    def normalize_study(self, item: StudyItem) -> None:
        raw_published = item.published
        clean_strings(item)
        item.journal = clean_journal(item.journal)
        item.published = clean_month(item.published)
        if raw_published and item.published is None:
            self._inc(NORMALIZE_PUBLISHED_UNPARSED)
            logger.warning("Unparsed date %r on %s", raw_published, item.url)
        item.authors = [name for name in (clean_line(a) for a in item.authors) if name]
        for ref in [*item.cited, *item.related]:
            self.normalize_ref(ref)
        for card in item.community_posts:
            self.normalize_card(card)

    def normalize_ref(self, ref: ResearchRef) -> None:
        clean_strings(ref)
        ref.journal = clean_journal(ref.journal)
        ref.published = clean_month(ref.published)

    def normalize_card(self, card: CommunityCard) -> None:
        clean_strings(card)
        if card.age and not card.posted_approx:
            approx = approx_date_from_age(card.age, self.crawl_time)
            if approx:
                card.posted_approx, card.posted_precision = approx
            else:
                self._inc(NORMALIZE_AGE_UNPARSED)

    def normalize_thread(self, item: ThreadItem) -> None:
        clean_strings(item)
        for comment in item.comments:
            self.normalize_comment(comment)

    @staticmethod
    def normalize_comment(comment: CommentItem) -> None:
        clean_strings(comment)

    def _inc(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)
