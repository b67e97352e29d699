"""Parse a study page (``/research/<slug>-<id>``) into a ``StudyItem``.

The site's markup is generated (class names change between builds and templates), so this
parser never looks at classes or ids. ``crawler.parsers.lines`` turns the visible part of the
page into a list of text lines ("chunks") in document order, each remembering its enclosing
block element, link and ``h1``; this module reads the fields off that list by their labels
("TLDR", "Research cited in this study", "<N> / <M> results", ...), by link patterns
(``/research/<slug>-<id>``, thread URLs) and by their order (the ``h1`` title, then the
date/journal line, the authors, ...).

``parse_study`` is a pure function of ``(page, url)`` and never raises: pages that cannot be
a study come back as a ``Drop`` with a short reason.
"""

from __future__ import annotations

import logging
import re
import string
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urljoin, urlsplit

from lxml import etree

from crawler.items import CommunityCard, Drop, ResearchRef, StudyItem
from crawler.parsers import text as tx
from crawler.parsers.lines import UNSET, Chunk, document_bytes, linearise, parse_root
from crawler.urls import canonical_url, study_id_from_url, study_slug_from_url, thread_id_from_url

logger = logging.getLogger(__name__)

__all__ = ["parse_study"]

# ---------------------------------------------------------------------------------------------
# Everything that ties this parser to the page: labels, link rules and the elements read.
# (Which elements show no text and which start a line is HTML's: see crawler.parsers.lines.)
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

# ---------------------------------------------------------------------------------------------

_Counter = tuple[int, int | None, bool]  # shown, total, total is a lower bound
_Head = tuple[str | None, _Counter | None]  # section kind, counter


def parse_study(page: str | bytes, url: str) -> StudyItem | Drop:
    """A ``StudyItem`` read from a study page, or a ``Drop`` saying why there is none.

    ``page`` is the page's text, or its body when that is UTF-8 (the same item comes out;
    the body spares decoding the page only to encode it again for lxml).
    """
    try:
        return _parse(page, url)
    except Exception as exc:  # a parser bug must cost one page, never the crawl
        logger.warning("study parser failed on %s: %r", url, exc, exc_info=True)
        return Drop("parse_error", detail=repr(exc)[:200])


def _parse(page: str | bytes, url: str) -> StudyItem | Drop:
    study_id = _study_id(url)
    if study_id is None:
        return Drop("not_a_study_url", detail=str(url)[:200])
    body = document_bytes(page)
    if not body:
        return Drop("empty_page")
    root = parse_root(body)
    chunks, link_elements = linearise(root)
    page_url = _page_url(link_elements, url, study_id)
    title_at, title = _title(chunks)
    start = title_at[-1] + 1 if title_at else 0
    end = _header_end(chunks, start)
    item = StudyItem(
        study_id=_study_id(page_url),
        url=page_url,
        slug=study_slug_from_url(page_url),
        title=title,
    )
    header_signal = _read_header(item, chunks[start:end], page_url)
    section_signal = _read_sections(item, chunks[end:], page_url)
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


def _title(chunks: list[Chunk]) -> tuple[list[int], str | None]:
    """Positions of the first h1's lines and its text."""
    first = next((c.h1 for c in chunks if c.h1 is not None), None)
    if first is None:
        return [], None
    at = [i for i, c in enumerate(chunks) if c.h1 == first]
    return at, tx.none_if_empty(" ".join(chunks[i].text for i in at))


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


def _read_header(item: StudyItem, chunks: list[Chunk], page_url: str) -> bool:
    """Fill the header fields; True when something only a study page has was seen."""
    i = _read_meta(item, chunks)
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
        group, i = _group(chunks, i - 1)
        text = tx.clean_text(" ".join(c.text for c in group))
        if stage == "top":
            if pending_summary is None and _looks_like_authors(text):
                item.authors = _split_authors(group)
            elif pending_summary is None:
                pending_summary = text
        elif stage == "body" and item.summary is None:
            item.summary = tx.none_if_empty(text)
    if item.summary is None:
        item.summary = tx.none_if_empty(pending_summary)
    return signal


def _read_meta(item: StudyItem, chunks: list[Chunk]) -> int:
    """Read the date/journal line(s) near the top of the header; the index after them."""
    at = next((i for i in range(min(3, len(chunks))) if _is_meta_start(chunks[i])), None)
    if at is None or not all(_is_plain(c) for c in chunks[:at]):
        return 0
    first = chunks[at]
    end = _block_end(chunks, at)
    # The journal may sit in its own block right after the date (wrapped lines).
    if end < len(chunks) and JOURNAL_OPEN_RE.match(chunks[end].spaced) and _is_plain(chunks[end]):
        end = _block_end(chunks, end)
    lines = [c.spaced for c in chunks[at:end]]
    date = tx.month_year_at(first.spaced)
    if date is not None:
        item.published = tx.month_year_iso(date)
        lines[0] = lines[0][date.end() :].strip()
    item.journal = _journal_from_lines([line for line in lines if line])
    return end


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


def _group(chunks: list[Chunk], i: int) -> tuple[list[Chunk], int]:
    """The plain lines sharing the block of ``chunks[i]``; the index after them."""
    end = _block_end(chunks, i)
    return chunks[i:end], end


def _is_plain(chunk: Chunk) -> bool:
    """A line of text that carries no label of its own."""
    return not (chunk.is_image or _is_cta(chunk) or _after_tldr_label(chunk) is not None)


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
    if not names or len(names) > MAX_AUTHORS:
        return False
    for name in names:
        if len(name) > 80 or len(name.split()) > 7 or any(ch in name for ch in '?!:;“”"()[]'):
            return False
        if any(ch.isdigit() for ch in name):
            return False
    last = names[-1]
    return not last.endswith(".") or bool(re.search(r"(?:^|\s)(?:\w|Jr|Sr)\.$", last))


def _split_authors(group: list[Chunk]) -> list[str]:
    names = ",".join(c.text for c in group).split(",")
    return [name for name in (tx.clean_text(n) for n in names) if name]


# -- sections: cited, related and community lists --------------------------------------------


@dataclass
class _Section:
    kind: str
    counter: tuple[int, int | None, bool] | None = None
    entries: list[ResearchRef] = field(default_factory=list)
    cards: list[CommunityCard] = field(default_factory=list)


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


def _read_sections(item: StudyItem, chunks: list[Chunk], page_url: str) -> bool:
    """Fill the cited/related/community lists; True when a label or counter was seen."""
    sections: list[_Section] = []
    cursor = _Cursor()
    signal = False
    for chunk in chunks:
        label, counter = _section_head(chunk)
        if label or counter:
            signal = True
            _on_head(label, counter, cursor, sections)
            continue
        if chunk.is_image or _is_cta(chunk) or _is_join_label(chunk):
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
    return signal


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
        cursor.section = _Section(label, counter=counter)
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
    return any(v is not None for v in vars(entry).values())


def _card_has_content(card: CommunityCard) -> bool:
    return any(v is not None for v in vars(card).values())
