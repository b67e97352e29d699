"""Where a study sits on its page (its title, the lines that are the study's) and how its
header is read: the date/journal line, labelled fields, authors, image, TLDR, summary and
calls to action."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tressless_crawler.items import StudyItem
from tressless_crawler.parsers import text as tx
from tressless_crawler.parsers.lines import Blocks, Chunk
from tressless_crawler.parsers.links import absolute
from tressless_crawler.parsers.study_rules import (
    DISCUSS_RE,
    Rule,
    apply,
    entry_kind,
    field_label,
    is_card_label,
    is_cta,
    is_date_line,
    is_list_line,
    is_meta_start,
    is_nav_link,
    is_plain,
    is_prominent,
    is_study_image,
    section_head,
    tldr_rest,
)
from tressless_crawler.parsers.study_values import (
    JOURNAL_CLOSE,
    JOURNAL_OPEN_RE,
    journal_from_lines,
    read_names,
)

__all__ = ["clip", "content_start", "header_end", "read_header", "title"]

# The site's name, as <title> and og:title append or prepend it to a page's title.
SITE_NAME = "Tressless"
SITE_AFFIX_RE = re.compile(
    rf"^\s*{SITE_NAME}\s*[-|\u2013\u2014:\u00b7]\s*|\s*[-|\u2013\u2014:\u00b7]\s*{SITE_NAME}\s*$"
    rf"|^\s*{SITE_NAME}\s*$",
    re.IGNORECASE,
)
SITE_WORD = SITE_NAME.casefold()
MAX_AUTHORS = 60
# A news byline ("By Jane Doe, Health Reporter"): the site prints its authors bare.
BYLINE_RE = re.compile(r"^(?:by|von|par|por)\s", re.IGNORECASE)
NOT_A_NAME = frozenset('?!:;“”"()[]|·•©')
INITIAL_RE = re.compile(r"(?:^|\s)(?:\w|Jr|Sr)\.$")
META_LINES = 3  # the date/journal line is among the header's first lines
# Where the header's reading is: before the image and TLDR, after them, after the calls.
TOP, BODY, CALLS = "top", "body", "calls"

# -- the title --------------------------------------------------------------------------------


def title(
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
        at, visible = _line_showing(chunks, named)
    if visible is None:
        at, visible = _bold_line_above_content(chunks)
    if visible is None and named is None:
        found = next((i for i, c in enumerate(chunks) if is_prominent(c)), None)
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
        label = field_label(chunk)
        if label is None or label[0].field != "title":
            continue
        if label[1]:
            return [i], label[1]
        if i + 1 < len(chunks) and is_plain(chunks[i + 1]):
            return [i, i + 1], chunks[i + 1].text
    return [], None


def _line_showing(chunks: list[Chunk], named: str) -> tuple[list[int], str | None]:
    folded = named.casefold()
    found = next((i for i, c in enumerate(chunks) if c.text.casefold() == folded), None)
    return ([found], chunks[found].text) if found is not None else ([], None)


def _bold_line_above_content(chunks: list[Chunk]) -> tuple[list[int], str | None]:
    """A bold line right above the study's first lines (its date, authors, TLDR...)."""
    first = content_start(chunks)
    if first > 0 and is_prominent(chunks[first - 1]):
        return [first - 1], chunks[first - 1].text
    return [], None


def _without_site_name(text: str | None) -> str | None:
    """A page title less the site's name before or after it; None when nothing is left."""
    if not text:
        return None
    if SITE_WORD not in text.casefold():  # folds as the pattern matches: "ſ" is an "s"
        return tx.none_if_empty(text)
    return tx.none_if_empty(SITE_AFFIX_RE.sub("", text))


# -- the study's lines ------------------------------------------------------------------------


def content_start(chunks: list[Chunk]) -> int:
    """Where the study's own lines start when no title line was seen: at its date line
    (a bold "TLDR Weekly" in the site's banner is labelled too, and comes first), else at its
    first labelled line."""
    for i, chunk in enumerate(chunks):
        if is_date_line(chunk):
            return i
    for i, chunk in enumerate(chunks):
        if not is_plain(chunk):
            return i
    return 0


def clip(chunks: list[Chunk], blocks: Blocks, first: int, keep: int | None = None) -> list[Chunk]:
    """The study's lines: up to the end of the block holding the title (line ``first``)
    and the last line of its lists, or without lists, the line after the title; or of the
    outermost ``main``/``article``/``section`` holding that block. Never before line ``keep``
    (the title's last line, when it runs over several blocks).

    What follows that block (a footer, a cookie banner, a newsletter box) is the site's,
    whatever labels it holds.
    """
    last = next((i for i in range(len(chunks) - 1, first, -1) if is_list_line(chunks[i])), None)
    if last is None:
        last = first + 1 if first + 1 < len(chunks) else None
    if last is None:
        return chunks
    block = blocks.outermost_content(blocks.around(chunks[last].block, first))
    if not block:
        return chunks
    end = blocks.end.get(block, len(chunks))
    return chunks[: end if keep is None else max(end, keep + 1)]


def header_end(chunks: list[Chunk], start: int) -> int:
    """Where the header stops: at the first section label, counter or list entry."""
    for i in range(start, len(chunks)):
        chunk = chunks[i]
        if is_cta(chunk) or chunk.is_image:
            continue
        label, counter = section_head(chunk)
        # A line that is only a link to a study or thread is a list entry; a paragraph that
        # merely starts with such a link (the summary) is not.
        is_entry = entry_kind(chunk) is not None and chunk.link_text == chunk.text
        if label or counter or is_card_label(chunk) or is_entry:
            return i
    return len(chunks)


# -- the header -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Header:
    """The header being read."""

    item: StudyItem
    chunks: list[Chunk]
    page_url: str
    at: int = 0  # the next line
    signal: bool = False  # something only a study page has was seen
    study_image: Chunk | None = None  # the image labelled as the study's, if any
    pending_summary: str | None = None  # a paragraph before any TLDR
    stage: str = TOP

    def next_plain(self) -> Chunk | None:
        """The next line, taken, when it is plain: a value on the line after its label."""
        if self.at < len(self.chunks) and is_plain(self.chunks[self.at]):
            self.at += 1
            return self.chunks[self.at - 1]
        return None


def read_header(
    item: StudyItem, chunks: list[Chunk], page_url: str, title_block: int | None = None
) -> bool:
    """Fill the header fields; True when something only a study page has was seen."""
    header = _Header(item, chunks, page_url)
    header.at = _read_meta(item, chunks, title_block)
    header.signal = item.journal is not None or (
        item.title is not None and item.published is not None
    )
    header.study_image = next((c for c in chunks if is_study_image(c)), None)
    while header.at < len(chunks):
        header.at += 1
        _read_line(header, chunks[header.at - 1])
    if item.summary is None:
        item.summary = tx.none_if_empty(header.pending_summary)
    return header.signal


def _read_line(header: _Header, chunk: Chunk) -> None:
    if chunk.is_image:
        _on_image(header, chunk)
    elif is_cta(chunk):
        header.signal = True
        if header.item.source_url is None:
            header.item.source_url = _source_url(chunk, header.page_url)
        header.stage = CALLS
    elif header.item.tldr is None and tldr_rest(chunk) is not None:
        _on_tldr(header, tldr_rest(chunk) or "")
    elif (label := field_label(chunk)) is not None:
        _on_label(header, *label)
    elif not is_nav_link(chunk):
        _on_text(header, chunk.text)


def _on_image(header: _Header, chunk: Chunk) -> None:
    """The study's image: the one labelled so, else an image before the TLDR (not an icon
    further down)."""
    labelled = header.study_image is not None
    chosen = chunk is header.study_image if labelled else header.stage == TOP
    if chosen and header.item.image_url is None:
        header.item.image_url = absolute(chunk.img_src, header.page_url)
        header.signal = header.signal or labelled
        header.stage = BODY if header.stage == TOP else header.stage


def _on_tldr(header: _Header, rest: str) -> None:
    header.signal = True
    if not rest:
        value = header.next_plain()
        rest = value.text if value is not None else rest
    header.item.tldr = tx.none_if_empty(rest)
    header.pending_summary = None  # the summary follows the TLDR
    header.stage = BODY


def _on_label(header: _Header, rule: Rule, value: str) -> None:
    if not value:
        line = header.next_plain()
        value = line.spaced if line is not None else value
    header.signal = apply(rule, header.item, value) or header.signal
    if rule.opens_body:
        header.pending_summary = None
        header.stage = BODY


def _on_text(header: _Header, text: str) -> None:
    """An unlabelled paragraph: the authors or the summary, by where it stands."""
    item = header.item
    if header.stage == TOP and header.pending_summary is None:
        if not item.authors and _looks_like_authors(text):
            item.authors = read_names(text)["authors"]
            header.signal = header.signal or len(item.authors) > 1
        else:
            header.pending_summary = text
    elif header.stage == BODY and item.summary is None:
        item.summary = tx.none_if_empty(text)


def _read_meta(item: StudyItem, chunks: list[Chunk], title_block: int | None = None) -> int:
    """Read the date/journal line(s) near the top of the header; the index after them.

    ``<Month> <YYYY>`` and ``in “Journal”`` share a line, or stand on lines of their own
    (the month, ``in “``, the journal, ``”``). Further lines in the block of the date, when
    that is not the title's block, are keywords: skipped.
    """
    at = next((i for i in range(min(META_LINES, len(chunks))) if is_meta_start(chunks[i])), None)
    if at is None or not all(is_plain(c) for c in chunks[:at]):
        return 0
    rest = chunks[at].spaced
    date = tx.month_year_at(rest)
    if date is not None:
        item.published = tx.month_year_iso(date)
        rest = rest[date.end() :].strip()
    j = at + 1
    if not rest and _opens_journal(chunks, j):
        rest, j = chunks[j].spaced, j + 1
    if JOURNAL_OPEN_RE.match(rest):
        lines, j = _journal_lines(chunks, rest, j)
        item.journal = journal_from_lines(lines)
    if title_block is not None and chunks[at].block != title_block:
        while j < len(chunks) and _same_block_plain(chunks, at, j):
            j += 1  # keywords
    return j


def _opens_journal(chunks: list[Chunk], j: int) -> bool:
    """Whether line ``j`` starts with ``in “`` (a journal on a line of its own)."""
    return (
        j < len(chunks)
        and is_meta_start(chunks[j])
        and JOURNAL_OPEN_RE.match(chunks[j].spaced) is not None
    )


def _journal_lines(chunks: list[Chunk], opening: str, j: int) -> tuple[list[str], int]:
    """The lines of ``in “Journal”`` from ``opening``: the journal may be alone on the next
    line of the same block, and a closing quote on the one after; the index after them."""
    lines = [opening]
    match = JOURNAL_OPEN_RE.match(opening)
    alone = match is not None and not opening[match.end() :].strip()
    if alone and _continues(chunks, j) and chunks[j].spaced.strip() not in JOURNAL_CLOSE:
        lines.append(chunks[j].spaced)
        j += 1
    if _continues(chunks, j) and chunks[j].spaced.strip() in JOURNAL_CLOSE:
        j += 1
    return lines, j


def _continues(chunks: list[Chunk], j: int) -> bool:
    """Whether line ``j`` is a plain line of the previous line's block."""
    return j < len(chunks) and _same_block_plain(chunks, j - 1, j)


def _same_block_plain(chunks: list[Chunk], i: int, j: int) -> bool:
    return chunks[j].block == chunks[i].block and is_plain(chunks[j]) and chunks[j].link is None


def _source_url(chunk: Chunk, page_url: str) -> str | None:
    """The href of the "View this study on <host> →" link; None when it has none."""
    for href, text in chunk.links:
        if tx.parse_source_cta(text) is not None:
            return absolute(href, page_url)
    if tx.parse_source_cta(chunk.spaced) is None:
        return None
    # Only the host is linked: "View this study on <a>doi.org</a> →".
    hosts = [href for href, text in chunk.links if not DISCUSS_RE.match(text)]
    return absolute(hosts[0], page_url) if hosts else None


def _looks_like_authors(text: str) -> bool:
    """A comma-separated list of names (not a sentence): short parts, no sentence ending."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names or len(names) > MAX_AUTHORS or BYLINE_RE.match(names[0]):
        return False
    if not all(_may_be_a_name(name) for name in names):
        return False
    last = names[-1]
    return not last.endswith(".") or bool(INITIAL_RE.search(last))


def _may_be_a_name(name: str) -> bool:
    return (
        len(name) <= 80
        and tx.word_count(name, 8) <= 7
        and NOT_A_NAME.isdisjoint(name)
        and not any(map(str.isdigit, name))
    )
