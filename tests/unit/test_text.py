"""The text helpers on the formats the site prints."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tressless_crawler.parsers.text import (
    approx_date_from_age,
    clean_text,
    compact_int,
    month_year_at,
    month_year_iso,
    month_year_match,
    none_if_empty,
    parse_age,
    parse_counter,
    parse_journal,
    parse_month_year,
    parse_source_cta,
    strip_debris,
)

NOW = datetime(2025, 3, 31, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Case  of\n\tAlopecia \u00a0 ", "Case of Alopecia"),
        ("Tru\u0308eb", "Trüeb"),  # decomposed -> composed
        ("Vañó\u2010Galván", "Vañó\u2010Galván"),  # U+2010 is kept
        ("B\u0131\u0301ró", "B\u0131\u0301ró"),  # no composed form: kept as is
        ("İslamoğlu", "İslamoğlu"),
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("", ""),
        (None, ""),
    ],
)
def test_clean_text(raw: str | None, expected: str) -> None:
    assert clean_text(raw) == expected
    assert unicodedata.is_normalized("NFC", clean_text(raw))


def test_none_if_empty_and_debris() -> None:
    assert none_if_empty("   \n") is None
    assert none_if_empty(" x ") == "x"
    assert clean_text(strip_debris("[object Object]Title")) == "Title"
    assert clean_text(strip_debris("[object Object]")) == ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3 / 3 results", (3, 3, False)),
        ("6 / 1000+ results", (6, 1000, True)),
        ("6 / 404 results", (6, 404, False)),
        ("11 / results", (11, None, False)),
        ("14 / NoResults", (14, None, False)),
        ("6 / 1000+", (6, 1000, True)),
        ("Related Community Posts Join 6 / 1000+ results", (6, 1000, True)),
        ("Research cited in this study3 / 3 results", (3, 3, False)),
        ("1,204 / 2,000 results", (1204, 2000, False)),
        ("results", None),
        ("6 /", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_counter(raw: str | None, expected: tuple[int, int | None, bool] | None) -> None:
    assert parse_counter(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("November 2017", "2017-11"),
        ("May 2014 in “Naunyn-Schmiedeberg's Archives", "2014-05"),
        ("17 citations, January 1985", "1985-01"),
        ("December 2026", "2026-12"),
        ("March 2031", "2031-03"),
        ("June 2022in “Curēus", "2022-06"),
        ("Sept. 2020", "2020-09"),
        ("Smarch 2017", None),
        ("November 17", None),
        ("November 20171", None),
        ("November 1066", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_month_year(raw: str | None, expected: str | None) -> None:
    assert parse_month_year(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("934", 934), ("1,234", 1234), ("1.2k", 1200), ("2K", 2000), ("1.5m", 1_500_000), ("x", None)],
)
def test_compact_int(raw: str, expected: int | None) -> None:
    assert compact_int(raw) == expected


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        ("4 years ago", ("2021-03-31", "year")),
        ("a year ago", ("2024-03-31", "year")),
        ("1 month ago", ("2025-02-28", "month")),  # the day is clamped to February
        ("13 months ago", ("2024-02-29", "month")),
        ("3 days ago", ("2025-03-28", "day")),
        ("2 weeks ago", ("2025-03-17", "day")),
        ("an hour ago", ("2025-03-31", "day")),
        ("16 hours ago", ("2025-03-30", "day")),
        ("a few seconds ago", ("2025-03-31", "day")),
        ("just now", ("2025-03-31", "day")),
        ("yesterday", ("2025-03-30", "day")),
        ("in Chat 3 months ago", ("2024-12-31", "month")),
        ("I know", None),
        ("", None),
        (None, None),
    ],
)
def test_approx_date_from_age(age: str | None, expected: tuple[str, str] | None) -> None:
    assert approx_date_from_age(age, NOW) == expected


def test_parse_age_units() -> None:
    assert parse_age("8 years ago") == (8, "year")
    assert parse_age("an hour ago") == (1, "hour")
    assert parse_age("just now") == (0, "second")
    assert parse_age("someday") is None


def test_approx_date_accepts_naive_datetimes() -> None:
    assert approx_date_from_age("1 month ago", datetime(2024, 1, 15)) == ("2023-12-15", "month")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("“ The Journal of Dermatology", "The Journal of Dermatology"),
        (
            "“Naunyn-Schmiedeberg's Archives of Pharmacology”",
            "Naunyn-Schmiedeberg's Archives of Pharmacology",
        ),
        ('"Curēus"', "Curēus"),
        ("  Қазақстанның клиникалық медицинасы” ", "Қазақстанның клиникалық медицинасы"),
        ("“", None),
        ("“ ”", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_journal(raw: str | None, expected: str | None) -> None:
    assert parse_journal(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("View this study on doi.org →", "doi.org"),
        ("View this study on www.ncbi.nlm.nih.gov →", "www.ncbi.nlm.nih.gov"),
        ("View this study on →", ""),
        ("View this study on", ""),
        ("Discuss this study in the Community →", None),
        ("", None),
    ],
)
def test_parse_source_cta(raw: str, expected: str | None) -> None:
    assert parse_source_cta(raw) == expected


# The regular expressions clean_text stood for: its shortcuts must give the same text.
_INVISIBLE_RE = re.compile("[\u200b\u2060\ufeff]")
_WHITESPACE_RE = re.compile(r"\s+")


def _clean_text_by_regex(value: str) -> str:
    text = _WHITESPACE_RE.sub(" ", _INVISIBLE_RE.sub("", value)).strip()
    return unicodedata.normalize("NFC", text)


_BLANKS = [chr(c) for c in range(0x3001) if chr(c).isspace() or _WHITESPACE_RE.match(chr(c))]


@pytest.mark.parametrize("blank", _BLANKS, ids=lambda c: f"U+{ord(c):04X}")
def test_clean_text_collapses_what_backslash_s_matches(blank: str) -> None:
    for raw in (f"a{blank}b", f"{blank}a{blank}{blank}b{blank}", f"é{blank}\u200b{blank}e\u0301"):
        assert clean_text(raw) == _clean_text_by_regex(raw)


@given(
    st.text(
        alphabet=st.sampled_from(" \t\n\x0b\x1c\x85\xa0\u2028\u3000\u200b\u2060\ufeffaé\u0301ı")
    )
)
def test_clean_text_matches_the_regular_expressions(raw: str) -> None:
    assert clean_text(raw) == _clean_text_by_regex(raw)


@pytest.mark.parametrize(
    ("raw", "pos", "expected"),
    [
        ("May 2014 in “Journal", 0, "2014-05"),
        (", May 2014", 2, "2014-05"),
        ("17 citations, May 2014", 0, None),  # only at ``pos``
        ("Smarch 2017", 0, None),
        ("xMay 2014", 1, None),  # glued to a letter before ``pos``
        ("November 1066", 0, None),
    ],
)
def test_month_year_at(raw: str, pos: int, expected: str | None) -> None:
    match = month_year_at(raw, pos)
    assert (month_year_iso(match) if match else None) == expected
    first = month_year_match(raw)
    if expected is not None:
        assert first is not None and first.span() == match.span()
