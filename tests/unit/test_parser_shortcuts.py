"""The study parser's shortcuts give what the long way gives.

Each shortcut skips work that cannot change a result (a pattern that cannot match, a join
that gives its input back, a text that is already clean); here each is held against the long
way it replaces, on texts made to find the corners. ``benchmarks/parse_same.py`` compares
whole pages with a baseline revision.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.unit.test_study_parser import absolute_by_joining
from tressless_crawler.parsers import links, study_header, study_rules, study_values
from tressless_crawler.parsers import text as tx
from tressless_crawler.parsers.lines import parse_root
from tressless_crawler.parsers.visibility import hide_invisible

EXAMPLES = settings(max_examples=300, deadline=None)
# Characters that make cleaning, case folding and matching interesting.
TRICKY = (
    " \t\n\r\x0b\x0c\x1c\x85\xa0\u2000\u2028\u3000\u200b\u2060\ufeff\u00ad\u0301e\u00e9ſßK\u212a"
    "İı가\u1100\u1161aZ09,.:/-“”\"'()[]"
)
texts = st.text(alphabet=st.sampled_from(TRICKY), max_size=12) | st.text(max_size=12)


def clean_text_long_way(value: str | None) -> str:
    if not value:
        return ""
    if value.isascii():
        return " ".join(value.split())
    value = re.sub("[\u200b\u2060\ufeff]", "", value)
    return unicodedata.normalize("NFC", " ".join(value.split()))


@EXAMPLES
@given(texts)
def test_clean_text_keeps_a_clean_text_as_it_is_and_cleans_the_rest(value: str) -> None:
    assert tx.clean_text(value) == clean_text_long_way(value)


def test_clean_text_of_every_character() -> None:
    for code in range(0, 0x110000, 7):
        char = chr(code)
        for value in (char, f" {char} ", f"a{char}b", f"{char}\u0301"):
            assert tx.clean_text(value) == clean_text_long_way(value), hex(code)


@EXAMPLES
@given(texts, st.integers(1, 9))
def test_words_counted_up_to_a_limit(value: str, up_to: int) -> None:
    assert tx.word_count(value, up_to) == min(len(value.split()), up_to)


@EXAMPLES
@given(texts, st.integers(0, 4))
def test_a_date_is_tried_only_after_a_month_s_first_letters(head: str, pos: int) -> None:
    for value in (head, f"{head}May 2014", f"{head}sept. 1999", f"{head}Mayo 2014"):
        match = tx.MONTH_YEAR_RE.match(value, pos)
        long_way = match if match is not None and tx.month_year_iso(match) is not None else None
        found = tx.month_year_at(value, pos)
        assert (found and found.span()) == (long_way and long_way.span())


SEGMENTS = ["19895745", "", "..", ".", "a b", "x%2F", "~u", "+", "10.1000", "A_b-c", "?q", "#f"]
HOSTS = ["pubmed.ncbi.nlm.nih.gov", "doi.org", "a", "..", "h:80", "h:99999999", "h:", "H", "[::1]"]
BASES = [
    "https://tressless.com/research/x-Ab1",
    "http://127.0.0.1:8000/research/a-b12",
    "HTTP://Example.COM",
    "https://h:bad/x",
    "ftp://h/x",
    "http://[",
    "",
]
hrefs = st.builds(
    lambda start, host, path, end: start + host + "".join("/" + s for s in path) + end,
    st.sampled_from(["https://", "http://", "HTTP://", "//", "", "/"]),
    st.sampled_from(HOSTS),
    st.lists(st.sampled_from(SEGMENTS), max_size=3),
    st.sampled_from(["", "/", "//"]),
)


@EXAMPLES
@given(hrefs, st.sampled_from(BASES))
def test_plain_links_made_absolute_without_urljoin(href: str, base: str) -> None:
    assert links.absolute(href, base) == absolute_by_joining(href, base)


@EXAMPLES
@given(hrefs, st.sampled_from(BASES), st.booleans())
def test_list_links_put_on_the_page_s_origin_as_before(href: str, base: str, https: bool) -> None:
    def long_way() -> str | None:  # resolve before its origin was kept per page
        try:
            if links.PLAIN_PATH_RE.fullmatch(href):
                origin = urlsplit(base)
                if origin.scheme in links.WEB_SCHEMES and origin.netloc.isascii():
                    upgrade = https and origin.scheme == "http" and origin.port is None
                    scheme = "https" if upgrade else origin.scheme
                    return f"{scheme}://{origin.netloc.lower()}{href.rstrip('/') or '/'}"
            joined = links.canonical_url(href, base, https=https)
            return joined if urlsplit(joined).scheme in links.WEB_SCHEMES else None
        except ValueError:
            return None

    if href.strip() and not href.strip().startswith("#"):
        assert links.resolve(href, base, https=https) == long_way()


@EXAMPLES
@given(texts)
def test_a_line_starting_with_another_letter_has_no_entry_meta(tail: str) -> None:
    for first in "BbCcEeGgHhIKkLlPpQqRrTtUuVvWwXxYyZz":
        value = first + tail
        assert study_values.CITATIONS_PREFIX_RE.match(value) is None
        assert tx.month_year_at(value, len(value) - len(value.lstrip(" ,"))) is None
        assert study_values.JOURNAL_OPEN_RE.match(value) is None
        assert study_values.entry_meta(value) == (False, None, None, None, value.strip(" ,"))


@EXAMPLES
@given(texts)
def test_a_line_starting_with_another_character_is_no_section_label(tail: str) -> None:
    for first in "ABDEFGHIJKLMNOPQTUVWXYZabdefghijklmnopqtuvwxyz0123456789.,:([“":
        folded = tx.clean_text(first + tail.replace("/", "")).casefold()
        for label in study_rules.SECTION_LABELS:
            assert folded not in (label, f"{label} {study_rules.JOIN_LABEL}")


AGE_WORDS = ["2", "years", "ago", "AGO", "now", "today", "yeſterday", "just", "a", "few", "x", "5k"]


@EXAMPLES
@given(st.lists(st.sampled_from([*AGE_WORDS, "upvotes", "UPVOTE", " "]), max_size=6))
def test_card_lines_without_an_age_or_upvote_word_have_neither(words: list[str]) -> None:
    value = " ".join(words).strip()
    if any(m.end() == len(value) for m in tx.AGE_RE.finditer(value)):
        assert study_values.AGE_END_RE.search(value, max(0, len(value) - len("yesterday")))
    if study_values.UPVOTES_SUFFIX_RE.search(value):
        assert "upvote" in value.lower()


EVERY_CHARACTER = "".join(map(chr, range(0x110000)))


@pytest.mark.parametrize("letters", ["upvote", "tressless", "agonwtdyesr"])
def test_case_insensitive_letters_fold_as_the_shortcuts_fold_them(letters: str) -> None:
    for letter in set(letters):
        for match in re.finditer(letter, EVERY_CHARACTER, re.IGNORECASE):
            assert letter in match.group().casefold(), (hex(ord(match.group())), letter)
            if letters == "upvote":
                assert match.group().lower() == letter, hex(ord(match.group()))


@EXAMPLES
@given(
    st.lists(st.sampled_from(["Tressless", "TRESSLESS", "Treſſleſſ", "Treßleß", " - ", "|", "T"]))
)
def test_a_page_title_without_the_site_s_name_is_kept_whole(parts: list[str]) -> None:
    value = "".join(parts)
    long_way = tx.none_if_empty(study_header.SITE_AFFIX_RE.sub("", value)) if value else None
    assert study_header._without_site_name(value) == long_way


@EXAMPLES
@given(st.text(alphabet='”"ab ', max_size=8))
def test_the_first_closing_quote(value: str) -> None:
    long_way = min((value.find(q) for q in study_values.JOURNAL_CLOSE if q in value), default=-1)
    assert study_values._closing_quote(value) == long_way


ATTRIBUTES_XPATH = etree.XPath(
    "//@hidden | //@aria-modal | //@role | //@style | //@class[contains(., 'sr-only')"
    " or contains(., 'isually') or contains(., 'screen-reader')]"
)


@pytest.mark.parametrize(
    "page",
    [
        b'<p HIDDEN>a</p><p class="x sr-only">b</p><p Role="dialog">c</p><p class="y">d</p>',
        b'<div class="visually-hidden x" style="color:red">a</div><i aria-modal="true">b</i>',
        b"<html><body><p>x</p></body></html><link hidden rel=canonical href=/x><p hidden>y</p>",
        b"<!--c--><p style='display:none'>a</p></html><div role=navigation>b</div>",
        b"<style>.q{display:none}</style><p class='q'>a</p><p class='q r'>b</p>",
    ],
)
def test_hidden_elements_are_those_the_attribute_query_finds(page: bytes) -> None:
    found = parse_root(page)
    by_query = parse_root(page)
    hide_invisible(found)
    # The long way: the parents of the attributes of one XPath query, then the same rules.
    for attribute in ATTRIBUTES_XPATH(by_query):
        element = attribute.getparent()
        if element.tag not in ("html", "body") and _hidden_by_attribute(element):
            element.tag = "template"
    names = [style.text for style in by_query.iter("style")]
    if names:
        for element in by_query.iter():
            if isinstance(element.tag, str) and "q" in (element.get("class") or "").split():
                element.tag = "template"
    assert etree.tostring(found.getroottree()) == etree.tostring(by_query.getroottree())


def _hidden_by_attribute(element: etree._Element) -> bool:
    classes = (element.get("class") or "").split()
    return (
        element.get("hidden") is not None
        or (element.get("aria-modal") or "").lower() == "true"
        or (element.get("role") or "").lower() in ("navigation", "dialog")
        or "display:none" in (element.get("style") or "").replace(" ", "")
        or any(name in ("sr-only", "visually-hidden") for name in classes)
    )
