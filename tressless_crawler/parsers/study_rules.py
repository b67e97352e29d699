"""The words that tie the study parser to the site: which label, heading, line start, call to
action or image text names which field of a ``StudyItem``, how its value is read, and what a
line of a study page is (a label, a list entry, a counter, ...)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tressless_crawler.parsers import text as tx
from tressless_crawler.parsers.lines import UNSET, Chunk
from tressless_crawler.parsers.links import study_id, thread_id
from tressless_crawler.parsers.study_values import (
    JOURNAL_OPEN_RE,
    Fields,
    read_date,
    read_journal,
    read_names,
    text_of,
)

__all__ = ["RULES", "Rule", "field_label", "section_head", "tldr_rest"]

Counter = tuple[int, int | None, bool]  # shown, total, total is a lower bound
Head = tuple[str | None, Counter | None]  # section kind, counter

# Where a rule's words stand.
LABEL = "label"  # its own piece of text: alone on its line, a label cell, a <dt>, a bold "Label:"
LINE_START = "line start"  # the start of a line, its value after it
SECTION = "section"  # a line over a list: "Related research"
CALL = "call to action"  # a line or a link's text: "View this study on pubmed →"
IMAGE = "image"  # an image's alt text

TLDR_RE = re.compile(r"^TL;?\s?DR\b\s*[:.\-\u2013\u2014]?\s*", re.IGNORECASE)
DISCUSS_RE = re.compile(r"^\s*Discuss\s+this\s+study\s+in\s+the\s+Community\b", re.IGNORECASE)
IMAGE_ALT_RE = re.compile(r"^\s*image\s+of\s+(?:the\s+)?study\b", re.IGNORECASE)


@dataclass(frozen=True)
class Rule:
    """Which words name a field, and how the field's value is read."""

    name: str
    where: str  # LABEL, LINE_START, SECTION, CALL or IMAGE
    labels: tuple[str, ...] = ()  # the texts it matches, case-folded, without a colon
    pattern: re.Pattern[str] | None = None  # or the pattern the text starts with
    field: str | None = None  # the field it fills; None: the value is read and left out
    read: Callable[[str], Fields] | None = None  # the value's text -> fields
    evidence: bool = False  # a value read is a sign of a study page
    opens_body: bool = False  # the header's next paragraph is the summary


# fmt: off
RULES: tuple[Rule, ...] = (
    Rule("title", LABEL, ("title",), field="title", read=text_of("title")),
    Rule("published", LABEL, ("published", "date"), field="published", read=read_date,
         evidence=True),
    Rule("journal", LABEL, ("journal", "published in"), field="journal", read=read_journal,
         evidence=True),
    Rule("authors", LABEL, ("authors", "author"), field="authors", read=read_names,
         evidence=True),
    Rule("summary", LABEL, ("summary", "abstract"), field="summary", read=text_of("summary"),
         opens_body=True),
    Rule("source", LABEL, ("source",)),
    Rule("tldr", LINE_START, pattern=TLDR_RE, field="tldr", read=text_of("tldr"), evidence=True,
         opens_body=True),
    Rule("source link", CALL, pattern=tx.SOURCE_CTA_RE, field="source_url", evidence=True),
    Rule("discuss", CALL, pattern=DISCUSS_RE, evidence=True),
    Rule("study image", IMAGE, pattern=IMAGE_ALT_RE, field="image_url", evidence=True),
    Rule("cited", SECTION, ("research cited in this study", "cited in this study"),
         field="cited"),
    Rule("related", SECTION, ("related research", "similar research", "related"),
         field="related"),
    Rule("community", SECTION, ("related community posts",), field="community_posts"),
)
# fmt: on
FIELD_LABELS = {label: rule for rule in RULES if rule.where == LABEL for label in rule.labels}
MAX_LABEL_LENGTH = max(map(len, FIELD_LABELS)) + 1  # with a colon
SECTIONS = [rule for rule in RULES if rule.where == SECTION]
SECTION_LABELS = {label: rule.name for rule in SECTIONS for label in rule.labels}
SECTION_FIELDS = {rule.name: str(rule.field) for rule in SECTIONS}
SECTION_INITIALS = "".join(
    sorted({c for label in SECTION_LABELS for c in label[0] + label[0].upper()})
)
JOIN_LABEL = "join"  # printed next to "Related Community Posts"
CARD_LABEL = "community"  # printed at the top of each community card
CTA_INITIALS = "VvDd"  # the first letters of the calls to action
MAX_NAV_WORDS = 3
MIN_TITLE_WORDS = 2  # a bold line taken as the title when nothing better exists


def apply(rule: Rule, item: Any, value: str) -> bool:
    """Fill the rule's field of ``item`` from ``value`` unless it is filled already, and the
    other fields the value holds where they are empty; True when that is evidence."""
    if rule.field is None or rule.read is None or getattr(item, rule.field):
        return False
    fields = rule.read(value)
    if not fields.get(rule.field):
        return False
    for name, found in fields.items():
        if not getattr(item, name):
            setattr(item, name, found)
    return rule.evidence


# -- what a line is ---------------------------------------------------------------------------


def field_label(chunk: Chunk) -> tuple[Rule, str] | None:
    """(rule, the text after the label) for a line led by a field label, else None.

    The label must stand apart: alone on its line, or its own piece of text (a bold
    "Authors:", a label cell) ending the piece or followed by a colon.
    """
    first = chunk.pieces[0] if chunk.pieces else ""
    if not first or len(first) > MAX_LABEL_LENGTH or chunk.link is not None:
        return None
    rule = FIELD_LABELS.get(first.rstrip(":").rstrip().casefold())
    if rule is None or not (first == chunk.text or first.endswith(":") or len(chunk.pieces) > 1):
        return None
    rest = chunk.text[len(first) :] if chunk.text.startswith(first) else ""
    return rule, tx.clean_text(rest.lstrip(" :"))


def tldr_rest(chunk: Chunk) -> str | None:
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


def is_plain(chunk: Chunk) -> bool:
    """A line of text that carries no label of its own."""
    return not (
        chunk.is_image
        or is_cta(chunk)
        or tldr_rest(chunk) is not None
        or field_label(chunk) is not None
    )


def is_cta(chunk: Chunk) -> bool:
    """A "View this study on" or "Discuss this study" line (both may share one line)."""
    cta = chunk.cta
    if cta is None:
        cta = _is_cta_text(chunk.spaced)
        for _, text in chunk.links:
            if cta:
                break
            cta = text != chunk.spaced and _is_cta_text(text)  # the line's text: answered
        chunk.cta = cta
    return cta


def _is_cta_text(text: str) -> bool:
    # No call to action starts with an ASCII character other than CTA_INITIALS: cleaning
    # only removes blanks and (non-ASCII) invisible characters.
    first = text[:1]
    if first.isascii() and not first.isspace() and first not in CTA_INITIALS:
        return False
    return tx.parse_source_cta(text) is not None or DISCUSS_RE.match(text) is not None


def is_study_image(chunk: Chunk) -> bool:
    return chunk.is_image and IMAGE_ALT_RE.match(chunk.img_alt or "") is not None


def section_head(chunk: Chunk) -> Head:
    """(section kind, counter) when the line is a section label and/or a results counter."""
    head = chunk.head
    if head is None:
        head = chunk.head = _head_of(chunk)
    return head  # type: ignore[no-any-return]


def _head_of(chunk: Chunk) -> Head:
    spaced = chunk.spaced
    # Without a "/" there is no counter, and every section label starts with one of
    # SECTION_INITIALS: a line starting with another printed ASCII character is no head
    # (cleaning and case-folding leave a leading ASCII character other than a blank as it is).
    first = spaced[:1]
    if (
        "/" not in spaced
        and first.isascii()
        and not first.isspace()
        and first not in SECTION_INITIALS
    ):
        return None, None
    if chunk.is_image or entry_kind(chunk):
        return None, None
    counter = tx.parse_counter(spaced)
    rest = tx.clean_text(tx.COUNTER_RE.sub(" ", spaced) if counter else spaced)
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


def entry_kind(chunk: Chunk) -> str | None:
    """ "research" for a line starting a link to a study, "community" for a thread link."""
    kind = chunk.kind
    if kind is None:
        kind = chunk.kind = _kind_of(chunk) or ""
    return kind or None


def _kind_of(chunk: Chunk) -> str | None:
    if chunk.link is None or not chunk.href:
        return None
    href = chunk.href.strip()
    if study_id(href) is not None:
        return "research"
    if thread_id(href) is not None:
        return "community"
    return None


def is_join_label(chunk: Chunk) -> bool:
    return len(chunk.text) <= len(JOIN_LABEL) and chunk.text.casefold() == JOIN_LABEL


def is_card_label(chunk: Chunk) -> bool:
    # casefold() never shortens a text: a longer one cannot be the label.
    first = chunk.pieces[0] if chunk.pieces else ""
    return 0 < len(first) <= len(CARD_LABEL) and first.casefold() == CARD_LABEL


def is_list_line(chunk: Chunk) -> bool:
    """A line of the study's lists: a link to a study or thread, a card label, a counter."""
    return bool(entry_kind(chunk) or is_card_label(chunk) or section_head(chunk)[1] is not None)


def is_nav_link(chunk: Chunk) -> bool:
    """A line that is one short link to a page that is not a study, a thread or a source.

    Navigation says where to go in a word or three ("Home", "Privacy policy"); a link to a
    study that merely failed to parse has a title's length.
    """
    return (
        chunk.link is not None
        and chunk.link_text == chunk.text
        and entry_kind(chunk) is None  # known for every list line: asked first
        and tx.word_count(chunk.text, MAX_NAV_WORDS + 1) <= MAX_NAV_WORDS
        and not is_cta(chunk)
        and not is_card_label(chunk)
    )


def is_meta_start(chunk: Chunk) -> bool:
    """A line starting with ``<Month> <YYYY>`` or ``in “``."""
    if not is_plain(chunk) or chunk.link is not None:
        return False
    return tx.month_year_at(chunk.spaced) is not None or bool(JOURNAL_OPEN_RE.match(chunk.spaced))


def is_date_line(chunk: Chunk) -> bool:
    """The study's date line: ``<Month> <YYYY> in “…”`` as it is, or behind its own label
    ("Published: March 2015 in …")."""
    if is_meta_start(chunk):
        return True
    labelled = field_label(chunk)
    return labelled is not None and labelled[0].field == "published"


def is_prominent(chunk: Chunk) -> bool:
    """A bold line of a few words that is no label, link or counter: a title's look."""
    return (
        chunk.bold
        and chunk.link is None
        and tx.word_count(chunk.text, MIN_TITLE_WORDS) >= MIN_TITLE_WORDS
        and is_plain(chunk)
        and section_head(chunk) == (None, None)
    )


def is_punctuation(text: str) -> bool:
    if not text or text[0].isalnum():  # the usual answer, from the first character
        return False
    return not any(ch.isalnum() for ch in text)
