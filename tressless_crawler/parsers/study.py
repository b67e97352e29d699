"""Parse a study page (``/research/<slug>-<id>``) into a ``StudyItem``.

The site's markup is generated (class names change between builds and templates), so this
parser never looks at classes or ids. ``tressless_crawler.parsers.lines`` turns the visible part of
the
page into a list of text lines ("chunks") in document order, each remembering its enclosing
block element, link and ``h1``; this module reads the fields off that list by their labels
("TLDR", "Research cited in this study", "<N> / <M> results", ...), by link patterns
(``/research/<slug>-<id>``, thread URLs) and by their order (the title, then the
date/journal line, the authors, ...). The same rules read every family of markup in
``tests.support.sitegen.families`` (docs/parsing.md): the title comes from the best evidence (a
heading, a labelled or bold line, ``og:title``/``<title>``), labelled fields are read from
label cells, ``<dt>`` or bold labels, and the lines after the block that holds the study
are the site's chrome.

``parse_study`` is a pure function of ``(page, url)`` and never raises: pages that cannot be
a study (no study signal) come back as a ``Drop`` with a short reason.
"""

from __future__ import annotations

import logging
import re
import string
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urljoin, urlsplit

from lxml import etree

from tressless_crawler.items import PARSE_ERROR, CommunityCard, Drop, ResearchRef, StudyItem
from tressless_crawler.parsers import text as tx
from tressless_crawler.parsers.lines import (
    UNSET,
    Blocks,
    Chunk,
    document_bytes,
    linearise,
    page_titles,
    parse_root,
)
from tressless_crawler.urls import (
    canonical_url,
    study_id_from_url,
    study_slug_from_url,
    thread_id_from_url,
)

logger = logging.getLogger(__name__)

__all__ = ["parse_study", "read_study"]

# ---------------------------------------------------------------------------------------------
# Everything that ties this parser to the page: labels, link rules and the elements read.
# (Which elements show no text and which start a line is HTML's: see
# tressless_crawler.parsers.lines.)
# ---------------------------------------------------------------------------------------------

# <link rel="canonical" href>: the word in rel in any ASCII case, between XML blanks; what the
# XPath //link[contains(concat(' ', translate(normalize-space(@rel), <A-Z>, <a-z>), ' '),
# ' canonical ')]/@href selects.
CANONICAL_REL = "canonical"
REL_FOLD = str.maketrans(string.ascii_uppercase + "\t\n\r", string.ascii_lowercase + "   ")
IMAGE_ALT_RE = re.compile(r"^\s*image\s+of\s+(?:the\s+)?study\b", re.IGNORECASE)
TLDR_RE = re.compile(r"^TL;?\s?DR\b\s*[:.\-\u2013\u2014]?\s*", re.IGNORECASE)
DISCUSS_RE = re.compile(r"^\s*Discuss\s+this\s+study\s+in\s+the\s+Community\b", re.IGNORECASE)
# The first letters of "View this study on" (tx.SOURCE_CTA_RE) and of DISCUSS_RE.
CTA_INITIALS = "VvDd"
SECTION_LABELS = {
    "research cited in this study": "cited",
    "cited in this study": "cited",
    "related research": "related",
    "similar research": "related",
    "related": "related",
    "related community posts": "community",
}
JOIN_LABEL = "join"  # printed next to "Related Community Posts"
CARD_LABEL = "community"  # printed at the top of each community card
# The site prints "in" in lower case; a sentence starting with "In “...”" is not a journal.
JOURNAL_OPEN_RE = re.compile(r"^\s*,?\s*in\s*[“\"]\s*")
JOURNAL_CLOSE = '”"'
CITATIONS_PREFIX_RE = re.compile(r"^\s*(?P<n>\d[\d,]*)\s*citations?\b\s*,?\s*", re.IGNORECASE)
UPVOTES_SUFFIX_RE = re.compile(r"(?P<n>\d+(?:[.,]\d+)*\s*[kKmM]?)\s*upvotes?\s*$", re.IGNORECASE)
# A site-relative link of plain path segments: nothing in it for urljoin to resolve (dot or
# empty segments) or for urlsplit to split off or remove (";", "?", "#", ":", whitespace).
PLAIN_PATH_RE = re.compile(r"/|(?:/(?!\.\.?(?:/|$))[A-Za-z0-9_.~%+-]+)+/?")
CATEGORY_RE = re.compile(r"^in\s+(?P<category>\S.*?)\s*$")
NOT_FOUND_RE = re.compile(
    r"^(?:404\b|page\s+not\s+found|not\s+found|page\s+missing)", re.IGNORECASE
)
MAX_AUTHORS = 60
MAX_CATEGORY_WORDS = 3
# The site's name, as <title> and og:title append or prepend it to a page's title.
SITE_NAME = "Tressless"
SITE_AFFIX_RE = re.compile(
    rf"^\s*{SITE_NAME}\s*[-|\u2013\u2014:\u00b7]\s*|\s*[-|\u2013\u2014:\u00b7]\s*{SITE_NAME}\s*$"
    rf"|^\s*{SITE_NAME}\s*$",
    re.IGNORECASE,
)
# Labels some layouts print before a header field (a table's label cell, a <dt>, a bold
# "Authors:"), folded, to the field they name. The TLDR label has its own rule (TLDR_RE).
FIELD_LABELS = {
    "title": "title",
    "published": "published",
    "date": "published",
    "journal": "journal",
    "published in": "journal",
    "authors": "authors",
    "author": "authors",
    "summary": "summary",
    "abstract": "summary",
    "source": "source",
}
MAX_LABEL_LENGTH = max(map(len, FIELD_LABELS)) + 1  # with a colon
MIN_TITLE_WORDS = 2  # a bold line taken as the title when nothing better exists
MAX_NAV_WORDS = 3
# A news byline ("By Jane Doe, Health Reporter"): the site prints its authors bare.
BYLINE_RE = re.compile(r"^(?:by|von|par|por)\s", re.IGNORECASE)

# ---------------------------------------------------------------------------------------------

_Counter = tuple[int, int | None, bool]  # shown, total, total is a lower bound
_Head = tuple[str | None, _Counter | None]  # section kind, counter


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
    study_id = _study_id(url)
    if study_id is None:
        return Drop("not_a_study_url", detail=str(url)[:200])
    body = document_bytes(page)
    if not body:
        return Drop("empty_page")
    root = parse_root(body)
    chunks, link_elements, blocks = linearise(root)
    page_url = _page_url(link_elements, url, study_id)
    title_at, title = _title(chunks, page_titles(root), notes)
    start = title_at[-1] + 1 if title_at else _content_start(chunks)
    chunks = _clip(chunks, blocks, title_at[0] if title_at else start)
    end = _header_end(chunks, start)
    item = StudyItem(
        study_id=_study_id(page_url),
        url=page_url,
        slug=study_slug_from_url(page_url),
        title=title,
    )
    title_block = chunks[title_at[-1]].block if title_at else None
    header_signal = _read_header(item, chunks[start:end], page_url, title_block)
    section_signal = _read_sections(item, chunks[end:], page_url, blocks, end)
    if not (header_signal or (section_signal and not NOT_FOUND_RE.match(title or ""))):
        return Drop("not_a_study_page", detail=(title or "")[:200])
    return item


# -- urls -------------------------------------------------------------------------------------


def _page_url(link_elements: list[etree._Element], url: str, study_id: str) -> str:
    """The canonical link when it names this study (same id, same site), else ``url``."""
    fetched = canonical_url(url)
    for href in _canonical_hrefs(link_elements):
        candidate = _resolve(href, fetched)
        if candidate and _study_id(candidate) == study_id and _site(candidate) == _site(fetched):
            return candidate
    return fetched


def _canonical_hrefs(link_elements: list[etree._Element]) -> list[str]:
    """The hrefs of the ``rel="canonical"`` ones among the page's ``<link>`` elements."""
    hrefs = []
    for element in link_elements:
        rel = (element.get("rel") or "").translate(REL_FOLD)
        href = element.get("href")
        if href is not None and CANONICAL_REL in rel.split(" "):
            hrefs.append(href)
    return hrefs


def _study_id(url: str | None) -> str | None:
    """The study id of a URL; None for other and malformed URLs (``http://[``)."""
    try:
        return study_id_from_url(url or "")
    except ValueError:
        return None


def _thread_id(url: str | None) -> str | None:
    try:
        return thread_id_from_url(url or "")
    except ValueError:
        return None


def _site(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _resolve(href: str | None, base: str, *, https: bool = True) -> str | None:
    """An absolute canonical http(s) URL for ``href``, or None for empty/script/anchor links."""
    href = (href or "").strip()
    if not href or href.startswith("#"):
        return None
    try:
        if PLAIN_PATH_RE.fullmatch(href):
            origin = urlsplit(base)
            if origin.scheme in ("http", "https") and origin.netloc.isascii():
                return _on_origin(origin, href, https=https)
        absolute = canonical_url(href, base, https=https)
        return absolute if urlsplit(absolute).scheme in ("http", "https") else None
    except ValueError:  # a malformed link costs the link, not the page
        return None


def _on_origin(origin: SplitResult, path: str, *, https: bool) -> str:
    """``canonical_url(path, base)`` for a PLAIN_PATH_RE path and an http(s) base.

    What ``urljoin`` and ``urlsplit`` come to for such a path, the usual link: it replaces
    the base's path, query and fragment, and nothing in it is resolved or removed. The base's
    host has been checked by ``urlsplit`` already (an ASCII host needs no more checks).
    A base that names its port keeps its scheme, as ``canonical_url`` has it.
    """
    upgrade = https and origin.scheme == "http" and origin.port is None
    scheme = "https" if upgrade else origin.scheme
    return f"{scheme}://{origin.netloc.lower()}{path.rstrip('/') or '/'}"


def _absolute(href: str | None, base: str) -> str | None:
    """``href`` made absolute, query kept (image URLs need it)."""
    href = (href or "").strip()
    if not href or href.startswith(("#", "data:", "javascript:")):
        return None
    try:
        if PLAIN_PATH_RE.fullmatch(href):
            origin = urlsplit(base)
            if origin.scheme in ("http", "https"):
                return f"{origin.scheme}://{origin.netloc}{href}"  # what urljoin makes of it
        absolute = urljoin(base, href)
        return absolute if urlsplit(absolute).scheme in ("http", "https") else None
    except ValueError:
        return None


# -- header: title, date line, authors, image, TLDR, summary, calls to action -----------------


def _title(
    chunks: list[Chunk], meta: tuple[str | None, str | None], notes: list[str]
) -> tuple[list[int], str | None]:
    """Positions of the title's lines and its text, from the best evidence on the page.

    A heading (the first ``h1``), else a line labelled "Title", else the line showing the
    ``og:title``/``<title>`` (less the site's name), else a bold line right above the study's
    first lines, else the ``og:title``/``<title>`` text alone, else the first bold line.
    When the page's own title differs from the visible one, the visible one wins and a
    ``title_disagrees`` note is left.
    """
    tag_title, og_title = meta
    named = _without_site_name(og_title) or _without_site_name(tag_title)
    at, visible = _heading(chunks)
    if visible is None:
        at, visible = _labelled_title(chunks)
    if visible is None and named is not None:
        folded = named.casefold()
        found = next((i for i, c in enumerate(chunks) if c.text.casefold() == folded), None)
        if found is not None:
            at, visible = [found], chunks[found].text
    if visible is None:
        # A bold line right above the study's first lines (its date, authors, TLDR...).
        first = _content_start(chunks)
        if first > 0 and _is_prominent(chunks[first - 1]):
            at, visible = [first - 1], chunks[first - 1].text
    if visible is None and named is None:
        found = next((i for i, c in enumerate(chunks) if _is_prominent(c)), None)
        if found is not None:
            at, visible = [found], chunks[found].text
    if visible is not None and named is not None and visible.casefold() != named.casefold():
        notes.append("title_disagrees")
    return at, visible or named


def _heading(chunks: list[Chunk]) -> tuple[list[int], str | None]:
    first = next((c.h1 for c in chunks if c.h1 is not None), None)
    if first is None:
        return [], None
    at = [i for i, c in enumerate(chunks) if c.h1 == first]
    return at, tx.none_if_empty(" ".join(chunks[i].text for i in at))


def _labelled_title(chunks: list[Chunk]) -> tuple[list[int], str | None]:
    for i, chunk in enumerate(chunks):
        label = _field_label(chunk)
        if label is None or label[0] != "title":
            continue
        if label[1]:
            return [i], label[1]
        if i + 1 < len(chunks) and _is_plain(chunks[i + 1]):
            return [i, i + 1], chunks[i + 1].text
    return [], None


def _without_site_name(title: str | None) -> str | None:
    """A page title less the site's name before or after it; None when nothing is left."""
    if not title:
        return None
    return tx.none_if_empty(SITE_AFFIX_RE.sub("", title))


def _is_prominent(chunk: Chunk) -> bool:
    """A bold line of a few words that is no label, link or counter: a title's look."""
    return (
        chunk.bold
        and chunk.link is None
        and len(chunk.text.split()) >= MIN_TITLE_WORDS
        and _is_plain(chunk)
        and _section_head(chunk) == (None, None)
    )


def _content_start(chunks: list[Chunk]) -> int:
    """Where the study's own lines start when no title line was seen: at its date line,
    else at its first labelled line."""
    for i, chunk in enumerate(chunks):
        if _is_meta_start(chunk):
            return i
    for i, chunk in enumerate(chunks):
        if not _is_plain(chunk):
            return i
    return 0


def _is_list_line(chunk: Chunk) -> bool:
    """A line of the study's lists: a link to a study or thread, a card label, a counter."""
    return bool(_entry_kind(chunk) or _is_card_label(chunk) or _section_head(chunk)[1] is not None)


def _clip(chunks: list[Chunk], blocks: Blocks, first: int) -> list[Chunk]:
    """The study's lines: up to the end of the block holding the title (line ``first``)
    and the last line of its lists, or without lists, the line after the title; or of the
    outermost ``main``/``article``/``section`` holding that block.

    What follows that block (a footer, a cookie banner, a newsletter box) is the site's,
    whatever labels it holds.
    """
    last = None
    for i in range(len(chunks) - 1, first, -1):
        if _is_list_line(chunks[i]):
            last = i
            break
    if last is None:
        last = first + 1 if first + 1 < len(chunks) else None
    if last is None:
        return chunks
    block = blocks.outermost_content(blocks.around(chunks[last].block, first))
    if not block:
        return chunks
    return chunks[: blocks.end.get(block, len(chunks))]


def _header_end(chunks: list[Chunk], start: int) -> int:
    """Where the header stops: at the first section label, counter or list entry."""
    for i in range(start, len(chunks)):
        chunk = chunks[i]
        if _is_cta(chunk) or chunk.is_image:
            continue
        label, counter = _section_head(chunk)
        # A line that is only a link to a study or thread is a list entry; a paragraph that
        # merely starts with such a link (the summary) is not.
        is_entry = _entry_kind(chunk) is not None and chunk.link_text == chunk.text
        if label or counter or _is_card_label(chunk) or is_entry:
            return i
    return len(chunks)


def _read_header(
    item: StudyItem, chunks: list[Chunk], page_url: str, title_block: int | None = None
) -> bool:
    """Fill the header fields; True when something only a study page has was seen."""
    i = _read_meta(item, chunks, title_block)
    signal = item.journal is not None or (item.title is not None and item.published is not None)
    labelled = [c for c in chunks if c.is_image and IMAGE_ALT_RE.match(c.img_alt or "")]
    pending_summary: str | None = None  # a paragraph before any TLDR: the summary if none follows
    stage = "top"  # "top": before image/TLDR, "body": after them, "cta": after the calls
    while i < len(chunks):
        chunk = chunks[i]
        i += 1
        if chunk.is_image:
            # The "Image of study"; without that alt text, an image where it stands (before
            # the TLDR), never an icon further down.
            chosen = chunk is labelled[0] if labelled else stage == "top"
            if chosen and item.image_url is None:
                item.image_url = _absolute(chunk.img_src, page_url)
                signal = signal or bool(labelled)
                stage = "body" if stage == "top" else stage
            continue
        if _is_cta(chunk):
            signal = True
            if item.source_url is None:
                item.source_url = _source_url(chunk, page_url)
            stage = "cta"
            continue
        rest = _after_tldr_label(chunk)
        if rest is not None and item.tldr is None:
            signal = True
            if not rest and i < len(chunks) and _is_plain(chunks[i]):
                rest, i = chunks[i].text, i + 1
            item.tldr = tx.none_if_empty(rest)
            pending_summary = None  # the summary follows the TLDR
            stage = "body"
            continue
        label = _field_label(chunk)
        if label is not None:
            name, value = label
            if not value and i < len(chunks) and _is_plain(chunks[i]):
                value, i = chunks[i].spaced, i + 1
            signal = _read_labelled(item, name, value) or signal
            if name == "summary":
                pending_summary = None
                stage = "body"
            continue
        if _is_nav_link(chunk):
            continue
        text = chunk.text
        if stage == "top":
            if pending_summary is None and not item.authors and _looks_like_authors(text):
                item.authors = _split_authors(chunk)
                signal = signal or len(item.authors) > 1
            elif pending_summary is None:
                pending_summary = text
        elif stage == "body" and item.summary is None:
            item.summary = tx.none_if_empty(text)
    if item.summary is None:
        item.summary = tx.none_if_empty(pending_summary)
    return signal


def _read_labelled(item: StudyItem, name: str, value: str) -> bool:
    """Read a labelled header field; True when it is one only study pages have."""
    if name == "published":
        date = tx.month_year_at(value, len(value) - len(value.lstrip()))
        if date is not None and item.published is None:
            item.published = tx.month_year_iso(date)
            item.journal = item.journal or _journal_from_lines([value[date.end() :].strip()])
            return True
        return False
    if name == "journal" and item.journal is None:
        item.journal = _journal_from_lines([value]) or tx.parse_journal(value)
        return item.journal is not None
    if name == "authors" and not item.authors:
        item.authors = [n for n in (tx.clean_text(part) for part in value.split(",")) if n]
        return bool(item.authors)
    if name == "summary" and item.summary is None:
        item.summary = tx.none_if_empty(value)
    return False


def _field_label(chunk: Chunk) -> tuple[str, str] | None:
    """(field, the text after the label) for a line led by a field label, else None.

    The label must stand apart: alone on its line, or its own piece of text (a bold
    "Authors:", a label cell) ending the piece or followed by a colon.
    """
    first = chunk.pieces[0] if chunk.pieces else ""
    if not first or len(first) > MAX_LABEL_LENGTH or chunk.link is not None:
        return None
    name = FIELD_LABELS.get(first.rstrip(":").rstrip().casefold())
    if name is None or not (first == chunk.text or first.endswith(":") or len(chunk.pieces) > 1):
        return None
    rest = chunk.text[len(first) :] if chunk.text.startswith(first) else ""
    return name, tx.clean_text(rest.lstrip(" :"))


def _is_nav_link(chunk: Chunk) -> bool:
    """A line that is one short link to a page that is not a study, a thread or a source.

    Navigation says where to go in a word or three ("Home", "Privacy policy"); a link to a
    study that merely failed to parse has a title's length.
    """
    return (
        chunk.link is not None
        and chunk.link_text == chunk.text
        and len(chunk.text.split()) <= MAX_NAV_WORDS
        and _entry_kind(chunk) is None
        and not _is_cta(chunk)
        and not _is_card_label(chunk)
    )


def _read_meta(item: StudyItem, chunks: list[Chunk], title_block: int | None = None) -> int:
    """Read the date/journal line(s) near the top of the header; the index after them.

    ``<Month> <YYYY>`` and ``in “Journal”`` share a line, or stand on lines of their own
    (the month, ``in “``, the journal, ``”``). Further lines in the block of the date, when
    that is not the title's block, are keywords: skipped.
    """
    at = next((i for i in range(min(3, len(chunks))) if _is_meta_start(chunks[i])), None)
    if at is None or not all(_is_plain(c) for c in chunks[:at]):
        return 0
    first = chunks[at]
    n = len(chunks)
    rest = first.spaced
    date = tx.month_year_at(rest)
    if date is not None:
        item.published = tx.month_year_iso(date)
        rest = rest[date.end() :].strip()
    j = at + 1
    if not rest and j < n and _is_meta_start(chunks[j]) and JOURNAL_OPEN_RE.match(chunks[j].spaced):
        rest, j = chunks[j].spaced, j + 1
    opening = JOURNAL_OPEN_RE.match(rest)
    if opening:
        lines = [rest]
        # The journal alone on the next line of the same block, then maybe a closing quote.
        if (
            not rest[opening.end() :].strip()
            and j < n
            and _same_block_plain(chunks, j - 1, j)
            and chunks[j].spaced.strip() not in JOURNAL_CLOSE
        ):
            lines.append(chunks[j].spaced)
            j += 1
        if (
            j < n
            and chunks[j].spaced.strip() in JOURNAL_CLOSE
            and _same_block_plain(chunks, j - 1, j)
        ):
            j += 1
        item.journal = _journal_from_lines(lines)
    if title_block is not None and first.block != title_block:
        while j < n and _same_block_plain(chunks, at, j):
            j += 1  # keywords
    return j


def _same_block_plain(chunks: list[Chunk], i: int, j: int) -> bool:
    return chunks[j].block == chunks[i].block and _is_plain(chunks[j]) and chunks[j].link is None


def _is_meta_start(chunk: Chunk) -> bool:
    """A line starting with ``<Month> <YYYY>`` or ``in “``."""
    if not _is_plain(chunk) or chunk.link is not None:
        return False
    return tx.month_year_at(chunk.spaced) is not None or bool(JOURNAL_OPEN_RE.match(chunk.spaced))


def _block_end(chunks: list[Chunk], i: int) -> int:
    """The index after the plain lines sharing the block of ``chunks[i]``."""
    j = i + 1
    while j < len(chunks) and chunks[j].block == chunks[i].block and _is_plain(chunks[j]):
        j += 1
    return j


def _journal_from_lines(lines: list[str]) -> str | None:
    """The journal after ``in “``: on the same line, or alone on the next one."""
    if not lines:
        return None
    opening = JOURNAL_OPEN_RE.match(lines[0])
    if not opening:
        return None
    rest = lines[0][opening.end() :]
    if not rest.strip() and len(lines) > 1 and lines[1].strip() not in JOURNAL_CLOSE:
        rest = lines[1]
    closing = min((rest.find(q) for q in JOURNAL_CLOSE if q in rest), default=-1)
    if closing >= 0:
        rest = rest[:closing]
    return tx.parse_journal(rest)


def _is_plain(chunk: Chunk) -> bool:
    """A line of text that carries no label of its own."""
    return not (
        chunk.is_image
        or _is_cta(chunk)
        or _after_tldr_label(chunk) is not None
        or _field_label(chunk) is not None
    )


def _after_tldr_label(chunk: Chunk) -> str | None:
    """The text after a leading TLDR label ("" when alone), None without the label."""
    rest = chunk.tldr_rest
    if rest is UNSET:
        rest = chunk.tldr_rest = _tldr_rest(chunk)
    return rest  # type: ignore[return-value]


def _tldr_rest(chunk: Chunk) -> str | None:
    match = TLDR_RE.match(chunk.text)
    if match:
        return chunk.text[match.end() :]
    first = chunk.pieces[0] if chunk.pieces else ""
    if TLDR_RE.fullmatch(first) and chunk.text.startswith(first):
        return tx.clean_text(chunk.text[len(first) :])
    return None


def _is_cta(chunk: Chunk) -> bool:
    """A "View this study on" or "Discuss this study" line (both may share one line)."""
    cta = chunk.cta
    if cta is None:
        cta = chunk.cta = _has_cta(chunk)
    return cta


def _has_cta(chunk: Chunk) -> bool:
    return _is_cta_text(chunk.spaced) or any(_is_cta_text(text) for _, text in chunk.links)


def _is_cta_text(text: str) -> bool:
    return _may_be_cta(text) and (
        tx.parse_source_cta(text) is not None or DISCUSS_RE.match(text) is not None
    )


def _may_be_cta(text: str) -> bool:
    """False when ``text`` starts with an ASCII character that no call to action starts with.

    Cleaning only removes blanks and (non-ASCII) invisible characters, and no other letter
    matches V or D, even ignoring case, so such a text cannot match either pattern.
    """
    first = text[:1]
    return not first.isascii() or first.isspace() or first in CTA_INITIALS


def _source_url(chunk: Chunk, page_url: str) -> str | None:
    """The href of the "View this study on <host> →" link; None when it has none."""
    for href, text in chunk.links:
        if tx.parse_source_cta(text) is not None:
            return _absolute(href, page_url)
    if tx.parse_source_cta(chunk.spaced) is None:
        return None
    # Only the host is linked: "View this study on <a>doi.org</a> →".
    hosts = [href for href, text in chunk.links if not DISCUSS_RE.match(text)]
    return _absolute(hosts[0], page_url) if hosts else None


def _looks_like_authors(text: str) -> bool:
    """A comma-separated list of names (not a sentence): short parts, no sentence ending."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names or len(names) > MAX_AUTHORS or BYLINE_RE.match(names[0]):
        return False
    for name in names:
        if len(name) > 80 or len(name.split()) > 7 or any(ch in name for ch in '?!:;“”"()[]|·•©'):
            return False
        if any(ch.isdigit() for ch in name):
            return False
    last = names[-1]
    return not last.endswith(".") or bool(re.search(r"(?:^|\s)(?:\w|Jr|Sr)\.$", last))


def _split_authors(chunk: Chunk) -> list[str]:
    names = chunk.text.split(",")
    return [name for name in (tx.clean_text(n) for n in names) if name]


# -- sections: cited, related and community lists --------------------------------------------


@dataclass
class _Section:
    kind: str
    counter: tuple[int, int | None, bool] | None = None
    entries: list[ResearchRef] = field(default_factory=list)
    cards: list[CommunityCard] = field(default_factory=list)
    labelled: bool = False


@dataclass
class _Cursor:
    """The open section and the open entry while walking the lists."""

    section: _Section | None = None
    entry: ResearchRef | None = None
    entry_link: int | None = None
    entry_has_tldr: bool = False
    card: CommunityCard | None = None
    card_link: int | None = None
    card_has_meta: bool = False
    card_summary_block: int | None = None
    pending_counter: tuple[int, int | None, bool] | None = None
    blocks: Blocks = field(default_factory=Blocks)
    container: int = 0  # the block holding the open entry or card
    at: int = 0  # the page line being read

    def opened(self, chunk: Chunk, at: int) -> None:
        """An entry or card starts at ``chunk``, line ``at`` of the page: its block is the
        largest one starting with that line, or the one around the line's own block."""
        block, parent, start = chunk.block, self.blocks.parent, self.blocks.start
        while parent.get(block, 0) and start.get(parent[block]) == at:
            block = parent[block]
        self.container = parent.get(block, 0) if block == chunk.block else block

    def holds(self, chunk: Chunk) -> bool:
        """Whether ``chunk`` is inside the open entry's or card's block."""
        block, container, parent = chunk.block, self.container, self.blocks.parent
        while block and block != container:
            block = parent.get(block, 0)
        return block == container


def _read_sections(
    item: StudyItem,
    chunks: list[Chunk],
    page_url: str,
    blocks: Blocks | None = None,
    offset: int = 0,
) -> bool:
    """Fill the cited/related/community lists; True when they look like a study's.

    That is: a results counter, or a section label over links to studies or threads (a
    "Related" heading alone is on many a page).
    """
    sections: list[_Section] = []
    cursor = _Cursor(blocks=blocks or Blocks())
    signal = False
    for at, chunk in enumerate(chunks, offset):
        cursor.at = at
        label, counter = _section_head(chunk)
        if label or counter:
            signal = signal or counter is not None
            _on_head(label, counter, cursor, sections)
            continue
        if chunk.is_image or _is_cta(chunk) or _is_join_label(chunk) or _is_nav_link(chunk):
            continue
        kind = "community" if _is_card_label(chunk) else _entry_kind(chunk)
        if kind or cursor.section is None:
            _ensure_section(kind or "research", cursor, sections)
        assert cursor.section is not None
        if cursor.section.kind == "community":
            _on_card_line(chunk, cursor, page_url)
        else:
            _on_entry_line(chunk, cursor, page_url)
    _store_sections(item, sections)
    return signal or any(
        section.labelled
        and (any(e.study_id for e in section.entries) or any(c.post_id for c in section.cards))
        for section in sections
    )


def _section_head(chunk: Chunk) -> _Head:
    """(section kind, counter) when the line is a section label and/or a results counter."""
    head = chunk.head
    if head is None:
        head = chunk.head = _head_of(chunk)
    return head


def _head_of(chunk: Chunk) -> _Head:
    if chunk.is_image or _entry_kind(chunk):
        return None, None
    spaced = chunk.spaced
    counter = tx.parse_counter(spaced)
    rest = tx.COUNTER_RE.sub(" ", spaced) if counter else spaced
    rest = tx.clean_text(rest)
    folded = rest.casefold()
    if folded.endswith(" " + JOIN_LABEL):
        rest = rest[: -len(JOIN_LABEL)].strip()
        folded = rest.casefold()
    label = SECTION_LABELS.get(folded)
    if label:
        return label, counter
    if counter and (not rest or folded == JOIN_LABEL):
        return None, counter
    return None, None


def _on_head(
    label: str | None,
    counter: tuple[int, int | None, bool] | None,
    cursor: _Cursor,
    sections: list[_Section],
) -> None:
    _close_entries(cursor)
    if label:
        cursor.section = _Section(label, counter=counter, labelled=True)
        sections.append(cursor.section)
        cursor.pending_counter = None
        return
    section = cursor.section
    if section is not None and section.counter is None and not (section.entries or section.cards):
        section.counter = counter
    else:
        cursor.section = None  # a counter without its label: the next entries tell the kind
        cursor.pending_counter = counter


def _ensure_section(kind: str, cursor: _Cursor, sections: list[_Section]) -> None:
    """Open a section for content whose kind differs from the open one (a label is missing)."""
    section = cursor.section
    if section is not None and (section.kind == "community") == (kind == "community"):
        return
    _close_entries(cursor)
    if kind != "community":
        # Pages list cited research, then community posts, then related research.
        seen = {s.kind for s in sections}
        kind = "related" if seen & {"cited", "community", "related"} else "cited"
    cursor.section = _Section(kind, counter=cursor.pending_counter)
    cursor.pending_counter = None
    sections.append(cursor.section)


def _close_entries(cursor: _Cursor) -> None:
    cursor.entry = None
    cursor.entry_link = None
    cursor.entry_has_tldr = False
    cursor.card = None
    cursor.card_link = None
    cursor.card_has_meta = False
    cursor.card_summary_block = None


def _entry_kind(chunk: Chunk) -> str | None:
    """ "research" for a line starting a link to a study, "community" for a thread link."""
    kind = chunk.kind
    if kind is None:
        kind = chunk.kind = _kind_of(chunk) or ""
    return kind or None


def _kind_of(chunk: Chunk) -> str | None:
    if chunk.link is None or not chunk.href:
        return None
    href = chunk.href.strip()
    if _study_id(href) is not None:
        return "research"
    if _thread_id(href) is not None:
        return "community"
    return None


def _is_join_label(chunk: Chunk) -> bool:
    return len(chunk.text) <= len(JOIN_LABEL) and chunk.text.casefold() == JOIN_LABEL


def _is_card_label(chunk: Chunk) -> bool:
    # casefold() never shortens a text: a longer one cannot be the label.
    first = chunk.pieces[0] if chunk.pieces else ""
    return 0 < len(first) <= len(CARD_LABEL) and first.casefold() == CARD_LABEL


# research entries


def _on_entry_line(chunk: Chunk, cursor: _Cursor, page_url: str) -> None:
    section = cursor.section
    assert section is not None
    if _is_punctuation(chunk.text):
        return  # e.g. the comma of "3 citations ," set on a line of its own
    linked = _entry_kind(chunk) == "research"
    if cursor.entry is not None and not cursor.holds(chunk):
        _close_entries(cursor)  # past the entry's block: the site's text or a new entry
    if cursor.entry is None or (linked and chunk.link != cursor.entry_link):
        _open_entry(chunk, cursor, section, page_url, linked=linked)
    elif chunk.link is not None and chunk.link == cursor.entry_link:
        _fill_entry(cursor, chunk.spaced, chunk.text)  # more lines of a whole-card link
    elif cursor.entry_has_tldr:
        _open_entry(chunk, cursor, section, page_url, linked=False)  # an unlinked title
    else:
        _fill_entry(cursor, chunk.spaced, chunk.text)


def _open_entry(
    chunk: Chunk, cursor: _Cursor, section: _Section, page_url: str, *, linked: bool
) -> None:
    entry = ResearchRef()
    if linked:
        entry.url = _resolve(chunk.href, page_url)
        entry.study_id = _study_id(entry.url)
    section.entries.append(entry)
    cursor.entry, cursor.entry_link, cursor.entry_has_tldr = entry, chunk.link, False
    cursor.opened(chunk, cursor.at)
    if _entry_meta(chunk.spaced)[0]:
        _fill_entry(cursor, chunk.spaced, chunk.text)  # the title is missing
        return
    entry.title = tx.none_if_empty(chunk.link_text if linked else chunk.text)
    if linked and chunk.rest:
        _fill_entry(cursor, chunk.rest, chunk.rest)


def _fill_entry(cursor: _Cursor, spaced: str, text: str) -> None:
    """Read a line under an entry title: the citations/date/journal line and/or the TLDR."""
    entry = cursor.entry
    assert entry is not None
    found, citations, published, journal, rest = _entry_meta(spaced)
    if found and not cursor.entry_has_tldr:
        entry.citations = entry.citations if entry.citations is not None else citations
        entry.published = entry.published or published
        entry.journal = entry.journal or journal
    else:
        rest = text
    tldr = tx.none_if_empty(rest)
    if tldr and not _is_punctuation(tldr) and entry.tldr is None:
        entry.tldr = tldr
        cursor.entry_has_tldr = True


def _entry_meta(spaced: str) -> tuple[bool, int | None, str | None, str | None, str]:
    """Split ``17 citations, May 2014 in “Journal” TLDR...`` into its optional parts."""
    rest = spaced
    citations = published = journal = None
    match = CITATIONS_PREFIX_RE.match(rest)
    if match:
        citations = int(match.group("n").replace(",", ""))
        rest = rest[match.end() :]
    date = tx.month_year_at(rest, len(rest) - len(rest.lstrip(" ,")))
    if date is not None:
        published = tx.month_year_iso(date)
        rest = rest[date.end() :]
    opening = JOURNAL_OPEN_RE.match(rest)
    if opening and (citations is not None or published is not None or opening.end() < len(rest)):
        rest = rest[opening.end() :]
        closing = min((rest.find(q) for q in JOURNAL_CLOSE if q in rest), default=-1)
        journal_text, rest = (rest[:closing], rest[closing + 1 :]) if closing >= 0 else (rest, "")
        journal = tx.parse_journal(journal_text)
        found = True
    else:
        found = citations is not None or published is not None
    return found, citations, published, journal, rest.strip(" ,")


def _is_punctuation(text: str) -> bool:
    return bool(text) and not any(ch.isalnum() for ch in text)


# community cards


def _on_card_line(chunk: Chunk, cursor: _Cursor, page_url: str) -> None:
    card_label = _is_card_label(chunk)
    new_link = chunk.link is not None and _entry_kind(chunk) == "community"
    if cursor.card is not None and not cursor.holds(chunk):
        _close_entries(cursor)  # past the card's block
    if cursor.card is None and not (card_label or new_link):
        return  # a card starts with its label or its link; other text is the site's
    if (
        cursor.card is None
        or card_label
        or (new_link and chunk.link != cursor.card_link and cursor.card_link is not None)
        or (
            new_link
            and cursor.card_link is None
            and cursor.card.title is not None
            and _once(_card_text(chunk)) != cursor.card.title
        )
    ):
        _open_card(cursor)
        cursor.opened(chunk, cursor.at)
    card = cursor.card
    assert card is not None
    if new_link and card.url is None:
        card.url = _resolve(chunk.href, page_url, https=False)
        card.post_id = _thread_id(card.url)
        cursor.card_link = chunk.link
    text = _card_text(chunk)
    if text:
        _fill_card(cursor, chunk, text)


def _open_card(cursor: _Cursor) -> None:
    assert cursor.section is not None
    cursor.card = CommunityCard()
    cursor.card_link = None
    cursor.card_has_meta = False
    cursor.card_summary_block = None
    cursor.section.cards.append(cursor.card)


def _card_text(chunk: Chunk) -> str:
    """The line without a leading ``community`` label."""
    if _is_card_label(chunk):
        return tx.clean_text(" ".join(chunk.pieces[1:]))
    return chunk.text


def _fill_card(cursor: _Cursor, chunk: Chunk, text: str) -> None:
    card = cursor.card
    assert card is not None
    spaced = chunk.spaced if not _is_card_label(chunk) else text
    allow_category = card.title is not None and not cursor.card_has_meta and card.summary is None
    meta = _card_meta(spaced, allow_category=allow_category)
    if card.title is None and meta is None and card.summary is None:
        card.title = _once(text)
    elif card.title is not None and _once(text) == card.title and card.summary is None:
        return  # the title printed a second time
    elif meta is not None and card.summary is None:
        category, upvotes, age = meta
        card.category = card.category or category
        card.upvotes = card.upvotes if card.upvotes is not None else upvotes
        card.age = card.age or age
        cursor.card_has_meta = True
    elif card.summary is None:
        card.summary = tx.none_if_empty(text)
        cursor.card_summary_block = chunk.block
    elif chunk.block == cursor.card_summary_block:
        card.summary = tx.none_if_empty(f"{card.summary} {text}")


def _card_meta(
    spaced: str, *, allow_category: bool
) -> tuple[str | None, int | None, str | None] | None:
    """Split ``in Treatment 2 upvotes 4 years ago`` (each part optional); None if not that."""
    rest = spaced.strip()
    age = upvotes = category = None
    ages = [m for m in tx.AGE_RE.finditer(rest) if m.end() == len(rest)]
    if ages:
        age = tx.clean_text(ages[-1].group(0))
        rest = rest[: ages[-1].start()].strip()
    up = UPVOTES_SUFFIX_RE.search(rest)
    if up and (up.start() == 0 or rest[up.start() - 1].isspace()):
        upvotes = tx.compact_int(up.group("n"))
        rest = rest[: up.start()].strip()
    cat = CATEGORY_RE.match(rest)
    if cat:
        category = tx.clean_text(cat.group("category"))
        rest = ""
    if rest:
        return None
    if age is None and upvotes is None:
        if category is None or not allow_category:
            return None
        if len(category.split()) > MAX_CATEGORY_WORDS:
            return None
    return category, upvotes, age


def _once(text: str) -> str:
    """A title printed twice on one line, once."""
    text = tx.clean_text(text)
    half, odd = divmod(len(text), 2)
    if half and not odd and text[:half] == text[half:]:
        return text[:half]
    if half and odd and text[half] == " " and text[:half] == text[half + 1 :]:
        return text[:half]
    return text


# -- assembling -------------------------------------------------------------------------------


def _store_sections(item: StudyItem, sections: list[_Section]) -> None:
    """Copy the sections into the item; a kind seen twice keeps all entries, its first counter."""
    counted: set[str] = set()
    for section in sections:
        _extend(item, section)
        if section.counter is not None and section.kind not in counted:
            counted.add(section.kind)
            _, total, lower = section.counter
            setattr(item, f"{section.kind}_total", total)
            setattr(item, f"{section.kind}_total_is_lower_bound", lower and total is not None)


def _extend(item: StudyItem, section: _Section) -> None:
    if section.kind == "community":
        item.community_posts.extend(c for c in section.cards if _card_has_content(c))
    elif section.kind == "cited":
        item.cited.extend(e for e in section.entries if _entry_has_content(e))
    else:
        item.related.extend(e for e in section.entries if _entry_has_content(e))


def _entry_has_content(entry: ResearchRef) -> bool:
    """A linked entry, or an unlinked one with a citations, date or journal line.

    An unlinked line with nothing of an entry's look is the site's text, not research.
    """
    if entry.url is not None or entry.study_id is not None:
        return True
    return any(v is not None for v in (entry.citations, entry.published, entry.journal))


def _card_has_content(card: CommunityCard) -> bool:
    return any(v is not None for v in vars(card).values())
