"""How the study parser reads a value off its text: dates, journals, names, the meta line of
a list entry or a community card."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tressless_crawler.parsers import text as tx

Fields = dict[str, Any]

# The site prints "in" in lower case; a sentence starting with "In “...”" is not a journal.
JOURNAL_OPEN_RE = re.compile(r"^\s*,?\s*in\s*[“\"]\s*")
JOURNAL_CLOSE = '”"'
CITATIONS_PREFIX_RE = re.compile(r"^\s*(?P<n>\d[\d,]*)\s*citations?\b\s*,?\s*", re.IGNORECASE)
UPVOTES_SUFFIX_RE = re.compile(r"(?P<n>\d+(?:[.,]\d+)*\s*[kKmM]?)\s*upvotes?\s*$", re.IGNORECASE)
CATEGORY_RE = re.compile(r"^in\s+(?P<category>\S.*?)\s*$")
MAX_CATEGORY_WORDS = 3
# The words every age of tx.AGE_RE ends with, matched alike: no line ends with an age without.
AGE_END_RE = re.compile(r"(?:ago|now|today|yesterday)\Z", re.IGNORECASE)
# The letters an entry's meta line can start with: a month's (any case), or the "i" of "in".
META_INITIALS = "".join(sorted({c for m in tx.MONTH_NAMES for c in m[0] + m[0].upper()})) + "i"


def text_of(field: str) -> Callable[[str], Fields]:
    """A reader of a value that is plain text."""

    def read(value: str) -> Fields:
        return {field: tx.none_if_empty(value)}

    read.__name__ = f"read_{field}"
    return read


def read_date(value: str) -> Fields:
    """``May 2014`` and what may follow it, `` in “Journal”``; nothing without a date."""
    date = tx.month_year_at(value, len(value) - len(value.lstrip()))
    if date is None:
        return {}
    journal = journal_from_lines([value[date.end() :].strip()])
    return {"published": tx.month_year_iso(date), "journal": journal}


def read_journal(value: str) -> Fields:
    """``in “Journal”``, or the journal's name alone."""
    return {"journal": journal_from_lines([value]) or tx.parse_journal(value)}


def read_names(value: str) -> Fields:
    """Comma-separated names."""
    return {"authors": [n for n in (tx.clean_text(part) for part in value.split(",")) if n]}


def journal_from_lines(lines: list[str]) -> str | None:
    """The journal after ``in “``: on the same line, or alone on the next one."""
    if not lines:
        return None
    opening = JOURNAL_OPEN_RE.match(lines[0])
    if not opening:
        return None
    rest = lines[0][opening.end() :]
    if not rest.strip() and len(lines) > 1 and lines[1].strip() not in JOURNAL_CLOSE:
        rest = lines[1]
    closing = _closing_quote(rest)
    if closing >= 0:
        rest = rest[:closing]
    return tx.parse_journal(rest)


def _closing_quote(text: str) -> int:
    """Where the first closing quote of a journal's name is in ``text``; -1 without one."""
    curly, straight = text.find(JOURNAL_CLOSE[0]), text.find(JOURNAL_CLOSE[1])
    return curly if straight < 0 or 0 <= curly < straight else straight


def entry_meta(spaced: str) -> tuple[bool, int | None, str | None, str | None, str]:
    """Split ``17 citations, May 2014 in “Journal” TLDR...`` into its optional parts."""
    if spaced[:1].isascii() and spaced[:1].isalpha() and spaced[0] not in META_INITIALS:
        # A line starting with a letter no month name or "in" starts with (most TLDRs and
        # titles): no count, date or journal.
        return False, None, None, None, spaced.strip(" ,")
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
        closing = _closing_quote(rest)
        journal_text, rest = (rest[:closing], rest[closing + 1 :]) if closing >= 0 else (rest, "")
        journal = tx.parse_journal(journal_text)
        found = True
    else:
        found = citations is not None or published is not None
    return found, citations, published, journal, rest.strip(" ,")


def card_meta(
    spaced: str, *, allow_category: bool
) -> tuple[str | None, int | None, str | None] | None:
    """Split ``in Treatment 2 upvotes 4 years ago`` (each part optional); None if not that."""
    rest = spaced.strip()
    age = upvotes = category = None
    ages = []
    if AGE_END_RE.search(rest, max(0, len(rest) - len("yesterday"))):  # else no age ends it
        ages = [m for m in tx.AGE_RE.finditer(rest) if m.end() == len(rest)]
    if ages:
        age = tx.clean_text(ages[-1].group(0))
        rest = rest[: ages[-1].start()].strip()
    # "upvote" has no letter that matches another one ignoring case, as "s" matches "ſ".
    up = UPVOTES_SUFFIX_RE.search(rest) if "upvote" in rest.lower() else None
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
        if tx.word_count(category, MAX_CATEGORY_WORDS + 1) > MAX_CATEGORY_WORDS:
            return None
    return category, upvotes, age


def once(text: str) -> str:
    """A title printed twice on one line, once."""
    text = tx.clean_text(text)
    half, odd = divmod(len(text), 2)
    if half and not odd and text[:half] == text[half:]:
        return text[:half]
    if half and odd and text[half] == " " and text[:half] == text[half + 1 :]:
        return text[:half]
    return text
