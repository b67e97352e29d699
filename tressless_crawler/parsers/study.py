"""The study page reader: a study page (``/research/<slug>-<id>``) into a ``StudyItem``, or a
``Drop`` saying why it is none.

``lines`` walks the page into visible lines, ``study_rules`` says what each line is,
``study_header`` and ``study_lists`` read the fields; this module puts them together.
"""

from __future__ import annotations

import logging
import re

from tressless_crawler.items import PARSE_ERROR, Drop, StudyItem
from tressless_crawler.parsers.lines import document_bytes, linearise, page_titles, parse_root
from tressless_crawler.parsers.links import page_url, study_id
from tressless_crawler.parsers.study_header import (
    clip,
    content_start,
    header_end,
    read_header,
    title,
)
from tressless_crawler.parsers.study_lists import read_lists
from tressless_crawler.urls import study_slug_from_url

logger = logging.getLogger(__name__)

__all__ = ["parse_study", "read_study"]

NOT_FOUND_RE = re.compile(
    r"^(?:404\b|page\s+not\s+found|not\s+found|page\s+missing)", re.IGNORECASE
)


def parse_study(page: str | bytes, url: str) -> StudyItem | Drop:
    """A ``StudyItem`` read from a study page, or a ``Drop`` saying why there is none.

    ``page`` is the page's text, or its body when that is UTF-8 (the same item comes out;
    the body spares decoding the page only to encode it again for lxml).
    """
    return read_study(page, url)[0]


def read_study(page: str | bytes, url: str) -> tuple[StudyItem | Drop, tuple[str, ...]]:
    """``parse_study``'s result and notes on how it was read, for the crawl stats.

    A note is a stat-safe word: ``title_disagrees`` when the visible title and the one in
    ``og:title``/``<title>`` differ (the visible one is kept).
    """
    notes: list[str] = []
    try:
        return _parse(page, url, notes), tuple(notes)
    except Exception as exc:  # a parser bug must cost one page, never the crawl
        logger.warning("study parser failed on %s: %r", url, exc, exc_info=True)
        return Drop(PARSE_ERROR, detail=repr(exc)[:200]), ()


def _parse(page: str | bytes, url: str, notes: list[str]) -> StudyItem | Drop:
    study = study_id(url)
    if study is None:
        return Drop("not_a_study_url", detail=str(url)[:200])
    body = document_bytes(page)
    if not body:
        return Drop("empty_page")
    root = parse_root(body)
    chunks, link_elements, blocks = linearise(root)
    at = page_url(link_elements, url, study)
    title_at, text = title(chunks, page_titles(root), notes)
    start = title_at[-1] + 1 if title_at else content_start(chunks)
    chunks = clip(
        chunks, blocks, title_at[0] if title_at else start, title_at[-1] if title_at else None
    )
    end = header_end(chunks, start)
    item = StudyItem(study_id=study_id(at), url=at, slug=study_slug_from_url(at), title=text)
    title_block = chunks[title_at[-1]].block if title_at else None
    in_header = read_header(item, chunks[start:end], at, title_block)
    in_lists = read_lists(item, chunks[end:], at, blocks, end)
    if not (in_header or (in_lists and not NOT_FOUND_RE.match(text or ""))):
        return Drop("not_a_study_page", detail=(text or "")[:200])
    return item
