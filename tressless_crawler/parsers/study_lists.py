"""How a study's lists are read: cited and related research entries, community cards, their
labels and results counters."""

from __future__ import annotations

from dataclasses import dataclass, field

from tressless_crawler.items import CommunityCard, ResearchRef, StudyItem
from tressless_crawler.parsers import text as tx
from tressless_crawler.parsers.lines import Blocks, Chunk
from tressless_crawler.parsers.links import resolve, study_id, thread_id
from tressless_crawler.parsers.study_rules import (
    SECTION_FIELDS,
    Counter,
    entry_kind,
    is_card_label,
    is_cta,
    is_join_label,
    is_nav_link,
    is_punctuation,
    section_head,
)
from tressless_crawler.parsers.study_values import card_meta, entry_meta, once

__all__ = ["read_lists"]


@dataclass(slots=True)
class _Section:
    kind: str
    counter: Counter | None = None
    entries: list[ResearchRef] = field(default_factory=list)
    cards: list[CommunityCard] = field(default_factory=list)
    labelled: bool = False


@dataclass(slots=True)
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
    pending_counter: Counter | None = None
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


def read_lists(
    item: StudyItem,
    chunks: list[Chunk],
    page_url: str,
    blocks: Blocks | None = None,
    offset: int = 0,
) -> bool:
    """Fill the cited/related/community lists from the lines after the header (line
    ``offset`` of the page on); True when they look like a study's.

    That is: a results counter, or a section label over links to studies or threads (a
    "Related" heading alone is on many a page).
    """
    sections: list[_Section] = []
    cursor = _Cursor(blocks=blocks or Blocks())
    counted = False
    for at, chunk in enumerate(chunks, offset):
        cursor.at = at
        counted = _read_line(chunk, cursor, sections, page_url) or counted
    _store_sections(item, sections)
    return counted or any(_links_under_label(section) for section in sections)


def _read_line(chunk: Chunk, cursor: _Cursor, sections: list[_Section], page_url: str) -> bool:
    """Read one line of the lists; True when it is a results counter."""
    label, counter = section_head(chunk)
    if label or counter:
        _on_head(label, counter, cursor, sections)
        return counter is not None
    if chunk.is_image or is_cta(chunk) or is_join_label(chunk) or is_nav_link(chunk):
        return False
    kind = "community" if is_card_label(chunk) else entry_kind(chunk)
    if kind or cursor.section is None:
        _ensure_section(kind or "research", cursor, sections)
    assert cursor.section is not None
    if cursor.section.kind == "community":
        _on_card_line(chunk, cursor, page_url)
    else:
        _on_entry_line(chunk, cursor, page_url)
    return False


def _links_under_label(section: _Section) -> bool:
    return section.labelled and (
        any(e.study_id for e in section.entries) or any(c.post_id for c in section.cards)
    )


def _on_head(
    label: str | None,
    counter: Counter | None,
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


# research entries


def _on_entry_line(chunk: Chunk, cursor: _Cursor, page_url: str) -> None:
    section = cursor.section
    assert section is not None
    if is_punctuation(chunk.text):
        return  # e.g. the comma of "3 citations ," set on a line of its own
    linked = entry_kind(chunk) == "research"
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
        entry.url = resolve(chunk.href, page_url)
        entry.study_id = study_id(entry.url)
    section.entries.append(entry)
    cursor.entry, cursor.entry_link, cursor.entry_has_tldr = entry, chunk.link, False
    cursor.opened(chunk, cursor.at)
    if entry_meta(chunk.spaced)[0]:
        _fill_entry(cursor, chunk.spaced, chunk.text)  # the title is missing
        return
    entry.title = tx.none_if_empty(chunk.link_text if linked else chunk.text)
    if linked and chunk.rest:
        _fill_entry(cursor, chunk.rest, chunk.rest)


def _fill_entry(cursor: _Cursor, spaced: str, text: str) -> None:
    """Read a line under an entry title: the citations/date/journal line and/or the TLDR."""
    entry = cursor.entry
    assert entry is not None
    found, citations, published, journal, rest = entry_meta(spaced)
    if found and not cursor.entry_has_tldr:
        entry.citations = entry.citations if entry.citations is not None else citations
        entry.published = entry.published or published
        entry.journal = entry.journal or journal
    else:
        rest = text
    tldr = tx.none_if_empty(rest)
    if tldr and not is_punctuation(tldr) and entry.tldr is None:
        entry.tldr = tldr
        cursor.entry_has_tldr = True


# community cards


def _on_card_line(chunk: Chunk, cursor: _Cursor, page_url: str) -> None:
    card_label = is_card_label(chunk)
    new_link = chunk.link is not None and entry_kind(chunk) == "community"
    if cursor.card is not None and not cursor.holds(chunk):
        _close_entries(cursor)  # past the card's block
    if cursor.card is None and not (card_label or new_link):
        return  # a card starts with its label or its link; other text is the site's
    if cursor.card is None or card_label or (new_link and _links_another_card(chunk, cursor)):
        _open_card(cursor)
        cursor.opened(chunk, cursor.at)
    card = cursor.card
    assert card is not None
    if new_link and card.url is None:
        card.url = resolve(chunk.href, page_url, https=False)
        card.post_id = thread_id(card.url)
        cursor.card_link = chunk.link
    text = _card_text(chunk)
    if text:
        _fill_card(cursor, chunk, text)


def _links_another_card(chunk: Chunk, cursor: _Cursor) -> bool:
    """Whether a thread link starts a card other than the open one: another link than the
    card's, or, on a card without a link yet, a title other than the card's."""
    card = cursor.card
    assert card is not None
    if cursor.card_link is not None:
        return chunk.link != cursor.card_link
    return card.title is not None and once(_card_text(chunk)) != card.title


def _open_card(cursor: _Cursor) -> None:
    assert cursor.section is not None
    cursor.card = CommunityCard()
    cursor.card_link = None
    cursor.card_has_meta = False
    cursor.card_summary_block = None
    cursor.section.cards.append(cursor.card)


def _card_text(chunk: Chunk) -> str:
    """The line without a leading ``community`` label."""
    if is_card_label(chunk):
        return tx.clean_text(" ".join(chunk.pieces[1:]))
    return chunk.text


def _fill_card(cursor: _Cursor, chunk: Chunk, text: str) -> None:
    card = cursor.card
    assert card is not None
    spaced = chunk.spaced if not is_card_label(chunk) else text
    allow_category = card.title is not None and not cursor.card_has_meta and card.summary is None
    meta = card_meta(spaced, allow_category=allow_category)
    if card.title is None and meta is None and card.summary is None:
        card.title = once(text)
    elif card.title is not None and once(text) == card.title and card.summary is None:
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
    found: list[ResearchRef] | list[CommunityCard]
    if section.kind == "community":
        found = [c for c in section.cards if _card_has_content(c)]
    else:
        found = [e for e in section.entries if _entry_has_content(e)]
    getattr(item, SECTION_FIELDS[section.kind]).extend(found)


def _entry_has_content(entry: ResearchRef) -> bool:
    """A linked entry, or an unlinked one with a citations, date or journal line.

    An unlinked line with nothing of an entry's look is the site's text, not research.
    """
    if entry.url is not None or entry.study_id is not None:
        return True
    return any(v is not None for v in (entry.citations, entry.published, entry.journal))


def _card_has_content(card: CommunityCard) -> bool:
    return any(v is not None for v in vars(card).values())
