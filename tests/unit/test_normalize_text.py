"""The normalise pipeline's whitespace rule, checked against its regular-expression form."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from tressless_crawler.pipelines.normalize import clean_line

WS_RE = re.compile(r"\s+")
WHITESPACE = (
    " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2007\u200a\u2028\u2029\u202f\u205f\u3000"
)


def by_regex(value: str) -> str | None:
    return WS_RE.sub(" ", unicodedata.normalize("NFC", value)).strip() or None


@given(st.text(alphabet=st.sampled_from(WHITESPACE) | st.characters(), max_size=80))
def test_clean_line_collapses_exactly_what_the_regex_does(value: str) -> None:
    assert clean_line(value) == by_regex(value)


def test_clean_line_examples() -> None:
    assert clean_line("  Cafe\u0301\u00a0 au\n\tlait  ") == "Café au lait"
    assert clean_line(" \u3000\n") is None
    assert clean_line(None) is None


@given(st.text(alphabet=st.sampled_from(WHITESPACE) | st.characters(), max_size=80))
def test_clean_line_keeps_clean_text_and_cleans_the_rest(value: str) -> None:
    """A string that is clean already comes back as it is (the very object when it is
    printable: the shortcut); any other is cleaned."""
    cleaned = by_regex(value)
    if cleaned is not None:
        assert clean_line(cleaned) == cleaned
    if cleaned == value and value.isprintable():
        assert clean_line(value) is value


def test_clean_line_text_that_looks_clean_but_is_not() -> None:
    assert clean_line("Cafe\u0301") == "Café"  # printable, single spaces, not NFC
    assert clean_line("a\u00a0b") == "a b"  # a no-break space is not printable
    assert clean_line("a\u2028b") == "a b"
    assert clean_line("a\x1fb") == "a b"  # ASCII, whitespace to str.split
    assert clean_line("a\u200bb") == "a\u200bb"  # invisible, not whitespace: kept, as before
