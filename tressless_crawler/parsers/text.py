"""Text helpers shared by the page parsers and the normalise pipeline: the formats the site
prints (month-year dates, results counters, compact numbers, relative ages, journals in
quotes, the source link's text), read from strings already taken off a page."""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date, datetime, timedelta
from functools import lru_cache

__all__ = [
    "AGE_RE",
    "COUNTER_RE",
    "DEBRIS",
    "MONTH_YEAR_RE",
    "approx_date_from_age",
    "clean_text",
    "compact_int",
    "month_year_at",
    "month_year_iso",
    "month_year_match",
    "none_if_empty",
    "parse_age",
    "parse_counter",
    "parse_journal",
    "parse_month_year",
    "parse_source_cta",
    "strip_debris",
    "word_count",
]

# What a React app prints when it renders an object instead of a string.
DEBRIS = "[object Object]"

# Characters that take no room on screen and only break comparisons.
_INVISIBLE_RE = re.compile("[\u200b\u2060\ufeff]")

MONTH_NAMES = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
MONTH_NAMES.update(
    {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}
)
MONTH_NAMES["sept"] = 9
MONTH_PREFIXES = frozenset(name[:3] for name in MONTH_NAMES)
MIN_YEAR, MAX_YEAR = 1900, 2099

# A month name and a four-digit year, not glued to other letters or digits.
MONTH_YEAR_RE = re.compile(
    r"(?<![^\W\d_])(?P<month>[A-Za-z]{3,9})\.?\s+(?P<year>\d{4})(?!\d)",
)

# "6 / 1000+ results", "11 / results", "14 / NoResults", "6 / 1000+".
COUNTER_RE = re.compile(
    r"(?<!\d)(?P<shown>\d[\d,]*)\s*/\s*"
    r"(?:(?P<total>\d[\d,]*)\s*(?P<plus>\+)?|(?P<none>No\s*Results))?"
    r"\s*(?P<word>results?)?",
    re.IGNORECASE,
)
COMPACT_INT_RE = re.compile(r"^\s*(?P<n>\d+(?:[.,]\d+)*)\s*(?P<mult>[kKmM])?\s*$")

# Relative ages as printed by moment.js-style helpers.
AGE_UNITS = {
    "second": "second",
    "sec": "second",
    "s": "second",
    "minute": "minute",
    "min": "minute",
    "m": "minute",
    "hour": "hour",
    "hr": "hour",
    "h": "hour",
    "day": "day",
    "d": "day",
    "week": "week",
    "wk": "week",
    "w": "week",
    "month": "month",
    "mo": "month",
    "year": "year",
    "yr": "year",
    "y": "year",
}
AGE_RE = re.compile(
    r"(?<!\w)(?:"
    r"(?P<count>\d+|an?|one|a\s+few|few)\s*"
    r"(?P<unit>seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|wks?|months?|mos?|"
    r"years?|yrs?|[smhdwy])\s+ago"
    r"|(?P<now>just\s+now|right\s+now|now|today|yesterday|moments?\s+ago)"
    r")(?!\w)",
    re.IGNORECASE,
)
PRECISION = {
    "second": "day",
    "minute": "day",
    "hour": "day",
    "day": "day",
    "week": "day",
    "month": "month",
    "year": "year",
}

SOURCE_CTA_RE = re.compile(
    r"^\s*View\s+this\s+study\s+on\b\s*(?P<host>.*?)\s*[\u2192\u203a>]*\s*$", re.IGNORECASE
)
JOURNAL_QUOTES = '“”"„‟«»'


def clean_text(value: str | None) -> str:
    """Collapse whitespace, drop invisible characters and normalise to NFC.

    NFC keeps composed letters (``Trüeb``) as one code point and leaves sequences that have no
    composed form (a dotless i followed by a combining acute accent, as in one author's name)
    as they are, so text compares equal however the page encoded it.

    ``str.split()`` splits on exactly the characters ``\\s`` matches in a ``str`` pattern
    (``str.isspace``), so splitting and joining collapses whitespace like ``\\s+`` would; this
    runs on every text node of every page, hence no regular expression on the common path.
    """
    if not value:
        return ""
    text = value.strip()
    # Most texts are one run of words between blanks (a paragraph indented in the markup):
    # a printable text holds no whitespace but the space, and no invisible (format)
    # character; without two spaces in a row there is then nothing to collapse.
    if text.isprintable() and "  " not in text:
        return text if text.isascii() else unicodedata.normalize("NFC", text)
    if value.isascii():  # no invisible characters, nothing to normalise
        return " ".join(value.split())
    if "\u200b" in value or "\u2060" in value or "\ufeff" in value:
        value = _INVISIBLE_RE.sub("", value)
    return unicodedata.normalize("NFC", " ".join(value.split()))


def word_count(text: str, up_to: int) -> int:
    """How many words ``text`` has, counted up to ``up_to``: enough to compare with a limit
    without splitting a whole paragraph."""
    return len(text.split(maxsplit=up_to - 1)) if up_to > 0 else 0


def none_if_empty(value: str | None) -> str | None:
    """The cleaned text, or None when nothing is left."""
    text = clean_text(value)
    return text or None


def strip_debris(value: str) -> str:
    """Remove ``[object Object]`` renderings, which are never content."""
    return value.replace(DEBRIS, " ") if DEBRIS in value else value


def compact_int(value: str | None) -> int | None:
    """ "934" -> 934, "1,234" -> 1234, "1.2k" -> 1200, "2M" -> 2000000; else None."""
    match = COMPACT_INT_RE.match(value or "")
    if not match:
        return None
    return _compact_number(match.group("n"), match.group("mult"))


def _compact_number(number: str, mult: str | None) -> int | None:
    if mult:
        # With a multiplier the separator is a decimal point ("1.2k", "1,2k").
        try:
            base = float(number.replace(",", "."))
        except ValueError:
            return None
        return round(base * (1_000 if mult.lower() == "k" else 1_000_000))
    digits = number.replace(",", "").replace(".", "")
    return int(digits) if digits.isdigit() else None


def parse_counter(text: str | None) -> tuple[int, int | None, bool] | None:
    """``"6 / 1000+ results"`` -> ``(6, 1000, True)``: shown, total, total is a lower bound.

    ``"11 / results"`` and ``"14 / NoResults"`` give a total of None. Returns None when the
    text holds no counter (a bare ``"3 / 4"`` without a total marker still counts).
    """
    if not text or "/" not in text:  # the one character every counter has
        return None
    for match in COUNTER_RE.finditer(text):
        has_total = match.group("total") is not None
        if not (has_total or match.group("none") or match.group("word")):
            continue
        shown = int(match.group("shown").replace(",", ""))
        if not has_total:
            return shown, None, False
        total = int(match.group("total").replace(",", ""))
        return shown, total, bool(match.group("plus"))
    return None


def month_year_match(text: str | None) -> re.Match[str] | None:
    """The first valid ``<Month> <YYYY>`` in ``text`` (the match, for its span)."""
    for match in MONTH_YEAR_RE.finditer(text or ""):
        if month_year_iso(match) is not None:
            return match
    return None


def month_year_at(text: str, pos: int = 0) -> re.Match[str] | None:
    """The valid ``<Month> <YYYY>`` starting exactly at ``pos``, else None.

    For callers that only take a date at the start of a line (after separators):
    ``month_year_match`` would scan the whole line for one. A valid month's name starts with
    the first three letters of one, in any case: the pattern is tried on those only.
    """
    if text[pos : pos + 3].lower() not in MONTH_PREFIXES:
        return None
    match = MONTH_YEAR_RE.match(text, pos)
    return match if match is not None and month_year_iso(match) is not None else None


def month_year_iso(match: re.Match[str]) -> str | None:
    """ "YYYY-MM" of a ``MONTH_YEAR_RE`` match; None for an unknown month or a year out of range."""
    return _month_year_iso(*match.group("month", "year"))


@lru_cache(maxsize=1024)  # a few hundred months and years, on every list entry of every page
def _month_year_iso(month_name: str, year_text: str) -> str | None:
    month = MONTH_NAMES.get(month_name.lower())
    year = int(year_text)
    if month is None or not MIN_YEAR <= year <= MAX_YEAR:
        return None
    return f"{year:04d}-{month:02d}"


def parse_month_year(text: str | None) -> str | None:
    """ "November 2017" -> "2017-11"; None when there is no valid month and year."""
    match = month_year_match(text)
    return month_year_iso(match) if match else None


def parse_age(text: str | None) -> tuple[int, str] | None:
    """ "4 years ago" -> (4, "year"), "an hour ago" -> (1, "hour"), "just now" -> (0, "second")."""
    match = AGE_RE.search(text or "")
    if not match:
        return None
    if match.group("now"):
        word = match.group("now").lower()
        return (1, "day") if word == "yesterday" else (0, "second")
    count_text = match.group("count").lower()
    # "a", "an", "one" are one; "a few" is taken as three.
    count = int(count_text) if count_text.isdigit() else 3 if "few" in count_text else 1
    unit_text = match.group("unit").lower()
    unit = AGE_UNITS.get(unit_text) or AGE_UNITS.get(unit_text.rstrip("s"))
    return (count, unit) if unit else None


def approx_date_from_age(age_text: str | None, now: datetime) -> tuple[str, str] | None:
    """When something shown as ``age_text`` ("4 years ago") was posted, seen at ``now``.

    Returns ``(iso_date, precision)``; precision is "day" for ages in seconds to weeks,
    "month" for months and "year" for years, because the site rounds ages to one unit and the
    date is only good to that unit. The date is ``now`` minus the age (calendar months and
    years, the day clamped to the month's length). None when the text is not an age.
    """
    parsed = parse_age(age_text)
    if parsed is None:
        return None
    count, unit = parsed
    today = now.date()
    if unit == "year":
        posted = _minus_months(today, 12 * count)
    elif unit == "month":
        posted = _minus_months(today, count)
    else:
        seconds = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}[unit]
        posted = (now - timedelta(seconds=seconds * count)).date()
    return posted.isoformat(), PRECISION[unit]


def _minus_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(index, 12)
    year = max(year, 1)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def parse_journal(text: str | None) -> str | None:
    """A journal name without its curly/straight quotes and outer whitespace; None if empty."""
    cleaned = clean_text(text).strip(JOURNAL_QUOTES + " ")
    return clean_text(cleaned) or None


def parse_source_cta(text: str | None) -> str | None:
    """The host of ``View this study on <host> →`` ("" when printed without one), else None."""
    match = SOURCE_CTA_RE.match(clean_text(text))
    return match.group("host") if match else None
