"""The study parser against saved pages: ``<name>.html`` next to the expected ``<name>.json``.

Adding a page means adding those two files. The page's URL is read from the browser's
``<!-- saved from url=... -->`` comment at the top of the HTML. A JSON of ``{"drop": reason}``
means the parser must return a ``Drop`` with that reason.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from scrapy.http import HtmlResponse

from tressless_crawler.items import Drop, StudyItem
from tressless_crawler.parsers import links
from tressless_crawler.parsers.lines import CONTROL_RE, document_bytes, linearise, parse_root
from tressless_crawler.parsers.study import parse_study
from tressless_crawler.spiders.studies import page_source
from tressless_crawler.urls import canonical_url

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages" / "study"
SAVED_FROM_RE = re.compile(r"<!--\s*saved from url=(?:\(\d+\))?(\S+)\s*-->")
DEFAULT_URL = "https://tressless.com/research/{name}-Fx1"


def _cases() -> list[Path]:
    return sorted(PAGES.glob("*.html"))


def _url_of(html: str, name: str) -> str:
    match = SAVED_FROM_RE.search(html[:1000])
    return match.group(1) if match else DEFAULT_URL.format(name=name)


def test_fixture_folder_is_populated() -> None:
    pages = _cases()
    assert len([p for p in pages if not p.stem.startswith("drop_")]) >= 14
    for page in pages:
        assert page.with_suffix(".json").exists(), f"{page.name} has no expected .json"


@pytest.mark.parametrize("page", _cases(), ids=lambda p: p.stem)
def test_study_page(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    expected = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
    result = parse_study(html, _url_of(html, page.stem))
    if "drop" in expected:
        assert isinstance(result, Drop), f"expected a drop, got {result!r}"
        assert result.reason == expected["drop"]
        return
    assert isinstance(result, StudyItem), f"expected an item, got {result!r}"
    assert dataclasses.asdict(result) == expected


@pytest.mark.parametrize("page", _cases(), ids=lambda p: p.stem)
def test_the_body_of_a_utf8_page_reads_as_its_text(page: Path) -> None:
    """The spider hands over a UTF-8 page's body as it is: the same item must come out."""
    body = page.read_bytes()
    url = _url_of(body.decode("utf-8"), page.stem)
    assert parse_study(body, url) == parse_study(body.decode("utf-8"), url)


SORAFENIB = PAGES / "sorafenib_cards_full.html"


@pytest.mark.parametrize(
    "url",
    [
        "https://tressless.com/learn/alopecia-areata",
        "https://tressless.com/search/research/childbirth/1",
        "https://tressless.com/research/",
        "http://[/research/x-ZpoR",
        "",
    ],
)
def test_urls_that_are_not_study_urls_are_dropped(url: str) -> None:
    result = parse_study(SORAFENIB.read_text(encoding="utf-8"), url)
    assert result == Drop("not_a_study_url", detail=url)


@pytest.mark.parametrize("html", ["", "   \n\t", "\x00\x00"])
def test_empty_pages_are_dropped(html: str) -> None:
    result = parse_study(html, "https://tressless.com/research/x-ZpoR")
    assert isinstance(result, Drop)
    assert result.reason == "empty_page"


def test_a_malformed_link_costs_the_link_not_the_page() -> None:
    html = SORAFENIB.read_text(encoding="utf-8").replace(
        'href="/research/dermatologic-adverse-events-of-sorafenib-Tr4"', 'href="http://[::1"'
    )
    result = parse_study(html, _url_of(html, SORAFENIB.stem))
    assert isinstance(result, StudyItem)
    assert [ref.study_id for ref in result.cited] == ["Qk8s", None, "aA2x"]
    broken = result.cited[1]
    assert broken.url is None
    assert (broken.title, broken.citations) == (
        "Dermatologic Adverse Events Associated With Sorafenib",
        1,
    )


# -- shortcuts: each must give what the general code gives -------------------------------------

BASES = [
    "https://tressless.com/research/x-ZpoR",
    "http://127.0.0.1:8000/research/x-ZpoR?q=1#f",
    "https://TRESSLESS.com",
    "http:///research/x-ZpoR",
    "https://tréssless.com/research/x-ZpoR",
    "ftp://tressless.com/x",
    "http://[::1]:8000/a",
    "http://[/research/x-ZpoR",
    "",
]
HREFS = [
    "/",
    "/research/some-study-Ab12",
    "/research/some-study-Ab12/",
    "/community/valproic-acid-side-effects-il3c1l",
    "/images/studies/Lvqj.jpg",
    "/a/./b",
    "/a/../b",
    "/a/..",
    "/a//b",
    "//evil.example/x",
    "/a;p",
    "/a?q=1",
    "/a#f",
    "/a b",
    "/\t/x",
    "/é",
    "research/x-Ab12",
    "https://pubmed.ncbi.nlm.nih.gov/19895745/",
    "javascript:void(0)",
    "#top",
]


def _resolve_by_joining(href: str, base: str, *, https: bool) -> str | None:
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    try:
        absolute = canonical_url(href, base, https=https)
        return absolute if urlsplit(absolute).scheme in ("http", "https") else None
    except ValueError:
        return None


def absolute_by_joining(href: str, base: str) -> str | None:
    """What ``links.absolute`` gives, the long way: ``urljoin`` and a scheme check."""
    href = href.strip()
    if not href or href.startswith(("#", "data:", "javascript:")):
        return None
    try:
        absolute = urljoin(base, href)
        return absolute if urlsplit(absolute).scheme in ("http", "https") else None
    except ValueError:
        return None


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("href", HREFS)
def test_links_resolve_as_joining_them_would(href: str, base: str) -> None:
    for https in (True, False):
        assert links.resolve(href, base, https=https) == _resolve_by_joining(
            href, base, https=https
        )
    assert links.absolute(href, base) == absolute_by_joining(href, base)


CANONICAL_XPATH = (
    "//link[contains(concat(' ', translate(normalize-space(@rel),"
    " 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), ' '), ' canonical ')]/@href"
)


@pytest.mark.parametrize(
    "markup",
    [
        '<html><head><link rel="canonical" href="/a"></head><body><p>x</p></body></html>',
        '<html><head><link rel="icon" href="/i"></head><body><p><link rel="Canonical" href="/b">'
        "</p><svg><link rel=canonical href=/c></svg></body></html>",
        '<html><body><h1>T</h1></body></html><link rel="canonical" href="/after">',
        '<link rel="x\tCANONICAL\n" href="/before"><html><body>x</body></html>',
        '<html><head><link rel="canonical\xa0" href="/nbsp"><link rel="canonical"></head></html>',
        '<html><head><!-- <link rel="canonical" href="/comment"> --></head></html>',
    ],
)
def test_canonical_links_are_the_ones_the_xpath_selects(markup: str) -> None:
    root = parse_root(markup.encode("utf-8"))
    _, link_elements, _ = linearise(root)
    assert links.canonical_hrefs(link_elements) == [str(h) for h in root.xpath(CANONICAL_XPATH)]


@pytest.mark.parametrize(
    "junk", ["\x00", "\x01\x1f", "\x7f", "\ud800", "\udfff\ud800", "\ufffe", "\uffff", "\x0c"]
)
def test_control_characters_are_removed_before_parsing(junk: str) -> None:
    page = SORAFENIB.read_text(encoding="utf-8")
    url = _url_of(page, SORAFENIB.stem)
    at = page.index("<h1")
    dirty = f"{junk} {page[:at]}<h{junk}1{page[at + 3 :]}{junk}"
    clean = CONTROL_RE.sub("", dirty).strip()
    assert parse_study(dirty, url) == parse_study(clean, url)
    assert isinstance(parse_study(clean, url), StudyItem)
    encodable = dirty.encode("utf-8", errors="replace")  # lone surrogates become "?"
    assert parse_study(encodable, url) == parse_study(encodable.decode("utf-8"), url)


@pytest.mark.parametrize(
    ("edge", "expected_body"),
    [
        (b"", b"<h1>x</h1>"),
        (b"\xef\xbb\xbf", b"<h1>x</h1>"),  # a UTF-8 byte-order mark, as Scrapy drops it
        (b"\xef\xbb\xbf \n", b"<h1>x</h1>"),
        (b" \t\r\n\x0b", b"<h1>x</h1>"),
        (b"\xc2\xa0", b"<h1>x</h1>"),  # a no-break space: str.strip() removes it, bytes.strip() not
        (b"\xe3\x80\x80\x1f", b"<h1>x</h1>"),  # an ideographic space, a control character
        (b"\xef\xbf\xbe", b"<h1>x</h1>"),  # U+FFFE, never text
        (b"\xef\xbc\xa1", b"\xef\xbc\xa1<h1>x</h1>\xef\xbc\xa1"),  # a fullwidth A is text
        (b"\xff", b"\xef\xbf\xbd<h1>x</h1>\xef\xbf\xbd"),  # invalid UTF-8: U+FFFD, as Scrapy
    ],
)
def test_document_bytes_of_a_body_are_those_of_its_text(edge: bytes, expected_body: bytes) -> None:
    body = edge + b"<h1>x</h1>" + edge.removeprefix(b"\xef\xbb\xbf")
    text = body.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace")
    assert document_bytes(body) == document_bytes(text) == expected_body


@pytest.mark.parametrize(
    ("content_type", "prefix", "given"),
    [
        ("text/html; charset=utf-8", b"", bytes),
        ("text/html; charset=UTF8", b"\xef\xbb\xbf", bytes),
        ("text/html", b'<meta charset="utf-8">', bytes),
        ("text/html; charset=windows-1252", b"", str),
        ("text/html; charset=utf-8", b"\xff\xfe", str),  # the byte-order mark decides: UTF-16
    ],
)
def test_the_spider_hands_over_the_body_of_utf8_pages_only(
    content_type: str, prefix: bytes, given: type
) -> None:
    body = prefix + SORAFENIB.read_bytes()
    url = _url_of(SORAFENIB.read_text(encoding="utf-8"), SORAFENIB.stem)
    response = HtmlResponse(url, body=body, headers={"Content-Type": content_type})
    source = page_source(response)
    assert isinstance(source, given)
    assert parse_study(source, url) == parse_study(response.text, url)


def test_a_title_running_over_several_blocks_is_never_clipped_off() -> None:
    """A mangled copy of a fixture study whose title is read from bold lines in two blocks,
    the second beyond the block the clip keeps: the parser read past the end of the lines
    (a parse_error drop); it now keeps the title's lines and judges the page."""
    page = PAGES.parent / "not_study" / "mangled_study_title_over_blocks.html"
    result = parse_study(
        page.read_text(encoding="utf-8"), "https://tressless.com/research/a-b-Xy12"
    )
    assert isinstance(result, Drop)
    assert result.reason == "not_a_study_page"


def test_without_a_title_the_study_starts_at_its_labelled_date_line() -> None:
    """A page with no title line: a banner's bold "TLDR Weekly" comes before the study's
    "Published:" line, and is the site's, not the study's TLDR."""
    page = (
        "<html><head><title>Tressless</title></head><body>"
        '<div><a href="/">Tressless</a> <a href="/research">Research</a></div>'
        "<div><b>TLDR Weekly</b></div><p>tressless.com · Reader view · Research</p>"
        "<p><b>Published:</b> March 2015 in “Dermatologic Surgery”</p>"
        "<p><b>TLDR:</b> Round scars are hard to see.</p>"
        "<p><b>Summary:</b> Scars compared in 40 patients.</p>"
        "<h2>Similar Research</h2><p>1 / 1 results</p>"
        '<a href="/research/fue-versus-strip-Fu3">FUE Versus Strip</a>'
        "</body></html>"
    )
    item = parse_study(page, "https://tressless.com/research/fue-scars-Fue1")
    assert isinstance(item, StudyItem), item
    assert (item.published, item.tldr, item.summary) == (
        "2015-03",
        "Round scars are hard to see.",
        "Scars compared in 40 patients.",
    )
