"""Property tests: the study parser survives any input and never leaks junk into items.

Whatever the page (random text, random markup built from the site's labels, saved pages cut
short, stripped of elements or with sections repeated), ``parse_study`` returns a
``StudyItem`` or a ``Drop`` and every text it returns is clean.
"""

from __future__ import annotations

import dataclasses
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from lxml import html as lxml_html

from tressless_crawler.items import Drop, StudyItem
from tressless_crawler.parsers import text as tx
from tressless_crawler.parsers.study import parse_study

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages" / "study"
FIXTURES = {path.stem: path.read_text(encoding="utf-8") for path in sorted(PAGES.glob("*.html"))}
URL = "https://tressless.com/research/alopecia-induced-by-sorafenib-mechanism-similar-to-aa-ZpoR"
# Modest by default so the suite stays fast; raise it for a longer fuzzing run.
PROPERTY_SETTINGS = settings(
    max_examples=int(os.environ.get("PARSER_PROPERTY_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

LABELS = [
    "TLDR",
    "Research cited in this study",
    "Cited in this study",
    "Related Research",
    "Similar Research",
    "Related",
    "Related Community Posts",
    "Join",
    "community",
    "View this study on doi.org →",
    "View this study on →",
    "Discuss this study in the Community →",
    "Image of study",
    "6 / 1000+ results",
    "3 / 3 results",
    "11 / results",
    "14 / NoResults",
    "6 / 1000+",
    "November 2017",
    "in “",
    "”",
    "in “ The Journal of Dermatology",
    "Curēus",
    "17 citations, May 2014 in “Naunyn-Schmiedeberg's Archives of Pharmacology”",
    "3 citations\n ,",
    "in Treatment  2 upvotes 4 years ago",
    "in Chat 3 months ago",
    "1.2k upvotes",
    "[object Object]",
    "Va\u00f1\u00f3\u2010Galv\u00e1n, P. Assouly, A. M. Rossi",
    "B\u0131\u0301r\u00f3",
    " ",
    "\n",
    "\u00a0",
    "\u200b",
    "&amp;",
    "&",
    "<",
    ">",
    "\x00",
    "\ud800",
]
TAGS = [
    "div",
    "span",
    "p",
    "a",
    "h1",
    "h2",
    "h3",
    "section",
    "article",
    "main",
    "li",
    "ul",
    "b",
    "sub",
    "img",
    "br",
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "button",
    "time",
    "figure",
    "table",
    "td",
]
HREFS = [
    "/research/some-study-Ab12",
    "/research/x-ZpoR",
    "http://tressless.com/research/y-9Kx/",
    "/community/a-post-abc12",
    "/r/tressless/comments/k3x9bq/slug/",
    "https://doi.org/10.1/x",
    "/community",
    "",
    "#",
    "javascript:void(0)",
    "mailto:a@b.c",
    "//cdn.example/i.png",
    "\x01",
    "http://[",
    "http://[::1/research/x-Ab12",
    "https://tressless.com:99999/research/y-Cd3",
]


def assert_clean(result: StudyItem | Drop) -> None:
    """The result is an item or a drop, and every text in it is clean."""
    assert isinstance(result, (StudyItem, Drop))
    if isinstance(result, Drop):
        # "parse_error" is the safety net for bugs: reaching it is a failure here.
        assert result.reason in ("not_a_study_url", "not_a_study_page", "empty_page"), result
        return
    for value in _leaves(dataclasses.asdict(result)):
        if isinstance(value, str):
            assert value, "empty strings must be None"
            assert value == value.strip()
            assert "[object Object]" not in value
            assert "\x00" not in value
            assert value == tx.clean_text(value) or "://" in value
        else:
            assert value is None or isinstance(value, (bool, int))
    for ref in result.cited + result.related:
        assert ref.url is None or ref.url.startswith("https://")
    for card in result.community_posts:
        assert card.url is None or card.url.startswith(("http://", "https://"))


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


# -- random input ------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(st.text())
def test_random_text(page: str) -> None:
    assert_clean(parse_study(page, URL))


@PROPERTY_SETTINGS
@given(st.binary(max_size=2000))
def test_binary_junk_decoded_as_text(data: bytes) -> None:
    assert_clean(parse_study(data.decode("latin-1"), URL))
    assert_clean(parse_study(data.decode("utf-8", errors="surrogateescape"), URL))


@PROPERTY_SETTINGS
@given(st.binary(max_size=2000), st.sampled_from(sorted(FIXTURES)), st.integers(0, 3))
def test_a_body_reads_as_scrapy_decodes_it(junk: bytes, name: str, where: int) -> None:
    """A UTF-8 body with junk anywhere gives the item of its text decoded as Scrapy does."""
    page = FIXTURES[name].encode("utf-8")
    at = (0, len(page) // 3, len(page) // 2, len(page))[where]
    body = page[:at] + junk + page[at:]
    text = body.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace")
    assert parse_study(body, URL) == parse_study(text, URL)
    assert parse_study(junk, URL) == parse_study(
        junk.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace"), URL
    )


@PROPERTY_SETTINGS
@given(st.text(max_size=200), st.sampled_from(list(FIXTURES.values())))
def test_random_urls(url: str, page: str) -> None:
    assert_clean(parse_study(page, url))


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda tag, href, alt, body: (
            f'<{tag} href="{href}" alt="{alt}" src="{href}">{"".join(body)}</{tag}>'
        ),
        st.sampled_from(TAGS),
        st.sampled_from(HREFS),
        st.sampled_from(["Image of study", "", "logo"]),
        st.lists(children, max_size=5),
    )


MARKUP = st.recursive(
    st.sampled_from(LABELS) | st.text(max_size=30),
    _element,
    max_leaves=40,
)


@PROPERTY_SETTINGS
@given(st.lists(MARKUP, max_size=12))
def test_random_markup_from_site_labels(parts: list[str]) -> None:
    page = "<html><body><main>" + "".join(parts) + "</main></body></html>"
    assert_clean(parse_study(page, URL))


# -- mutations of the saved pages ---------------------------------------------------------------


@PROPERTY_SETTINGS
@given(st.sampled_from(sorted(FIXTURES)), st.floats(min_value=0, max_value=1))
def test_truncated_fixture(name: str, fraction: float) -> None:
    page = FIXTURES[name]
    assert_clean(parse_study(page[: int(len(page) * fraction)], URL))


def _mutate(page: str, picks: list[int], duplicate: bool) -> str:
    """Delete (or duplicate) the elements at the picked positions of the page's tree."""
    root = lxml_html.document_fromstring(page.encode("utf-8"))
    for pick in picks:
        elements = [e for e in root.iter() if e.getparent() is not None]
        if not elements:
            break
        element = elements[pick % len(elements)]
        parent = element.getparent()
        if duplicate:
            parent.insert(parent.index(element), lxml_html.fromstring(etree.tostring(element)))
        else:
            element.drop_tree()
    return etree.tostring(root, encoding="unicode", method="html")


@PROPERTY_SETTINGS
@given(
    st.sampled_from(sorted(k for k in FIXTURES if not k.startswith("drop_pdf"))),
    st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=6),
    st.booleans(),
)
def test_mutated_fixture(name: str, picks: list[int], duplicate: bool) -> None:
    assert_clean(parse_study(_mutate(FIXTURES[name], picks, duplicate), URL))


@PROPERTY_SETTINGS
@given(st.sampled_from(sorted(k for k in FIXTURES if not k.startswith("drop_"))), st.data())
def test_repeated_sections_keep_their_entries(name: str, data: st.DataObject) -> None:
    """Repeating a whole section never loses the entries read from the first copy."""
    page = FIXTURES[name]
    root = lxml_html.document_fromstring(page.encode("utf-8"))
    sections = root.xpath("//section | //ul")
    before = parse_study(page, URL)
    assert isinstance(before, StudyItem)
    if sections:
        section = data.draw(st.sampled_from(sections))
        section.addnext(lxml_html.fromstring(etree.tostring(section)))
    after = parse_study(etree.tostring(root, encoding="unicode", method="html"), URL)
    assert_clean(after)
    assert isinstance(after, StudyItem)
    for kind in ("cited", "related", "community_posts"):
        assert len(getattr(after, kind)) >= len(getattr(before, kind))


# -- the text helpers -----------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(st.text())
def test_text_helpers_never_raise(value: str) -> None:
    cleaned = tx.clean_text(value)
    assert tx.clean_text(cleaned) == cleaned
    assert cleaned == cleaned.strip()
    counter = tx.parse_counter(value)
    assert counter is None or (counter[0] >= 0 and (counter[1] is None or counter[1] >= 0))
    month = tx.parse_month_year(value)
    assert month is None or (len(month) == 7 and month[4] == "-")
    number = tx.compact_int(value)
    assert number is None or number >= 0
    journal = tx.parse_journal(value)
    assert journal is None or (journal == journal.strip() and journal[0] not in '“”"')
    tx.parse_source_cta(value)
    approx = tx.approx_date_from_age(value, datetime(2025, 1, 1))
    assert approx is None or approx[1] in ("day", "month", "year")
