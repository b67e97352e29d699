"""Property tests over everything that reads a page: what comes out is storable or a named drop.

``test_parsers_property`` and ``test_thread_property`` show each parser survives random and
mutated input. These follow the result further, for every parser: an item must pass the
validate pipeline (study id, title, an http URL) or be dropped there with a counted reason —
so no page becomes an empty row — and a drop's reason must be a clean stat key. They also
feed random bodies, in any charset, through the charset repair and to the spiders' discovery
callbacks (robots.txt, sitemaps, listings), which must never raise and never yield anything
but http(s) requests on the site.
"""

from __future__ import annotations

import codecs
import gzip
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy import Request
from scrapy.exceptions import DropItem
from scrapy.http import HtmlResponse, Response, TextResponse, XmlResponse
from scrapy.utils.test import get_crawler

from tressless_crawler.items import Drop, StudyItem, ThreadItem
from tressless_crawler.middlewares.charset import CharsetRepairMiddleware
from tressless_crawler.parsers.study import parse_study
from tressless_crawler.parsers.thread_html import parse_thread_html
from tressless_crawler.parsers.thread_reddit import parse_thread_reddit
from tressless_crawler.pipelines.normalize import NormalizePipeline
from tressless_crawler.pipelines.validate import ValidatePipeline
from tressless_crawler.spiders.community import CommunitySpider
from tressless_crawler.spiders.studies import StudiesSpider, page_source

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PAGES = FIXTURES / "pages"
SITE = "http://127.0.0.1:8000"
PROPERTY = settings(
    max_examples=int(os.environ.get("PARSER_PROPERTY_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
REASON_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# (parser, a URL it expects, its fixture pages)
PARSERS: dict[str, tuple[Callable[[Any, str], Any], str, list[bytes]]] = {
    "study": (
        lambda body, url: parse_study(
            body.decode("utf-8", "replace") if isinstance(body, bytes) else body, url
        ),
        "https://tressless.com/research/alopecia-induced-by-sorafenib-mechanism-similar-to-aa-ZpoR",
        [p.read_bytes() for p in sorted((PAGES / "study").glob("*.html"))],
    ),
    "thread_html": (
        parse_thread_html,
        "https://tressless.com/community/some-title-k3j9xz",
        [p.read_bytes() for p in sorted((PAGES / "thread_html").glob("*.html"))],
    ),
    "thread_reddit": (
        parse_thread_reddit,
        "https://www.reddit.com/r/tressless/comments/k3j9xz/some_title/.json",
        [p.read_bytes() for p in sorted((PAGES / "thread_reddit").glob("*.json"))],
    ),
}
ENCODINGS = ["utf-8", "cp1252", "latin-1", "utf-16", "shift_jis", "koi8-r", "ascii"]


def mutated(pages: list[bytes]) -> st.SearchStrategy[bytes]:
    """A fixture page cut, spliced or sprinkled with random bytes."""

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        page = draw(st.sampled_from(pages))
        for _ in range(draw(st.integers(1, 4))):
            start = draw(st.integers(0, len(page)))
            end = draw(st.integers(start, min(len(page), start + 500)))
            action = draw(st.sampled_from(["cut", "delete", "duplicate", "noise"]))
            if action == "cut":
                page = page[:start]
            elif action == "delete":
                page = page[:start] + page[end:]
            elif action == "duplicate":
                page = page[:end] + page[start:end] + page[end:]
            else:
                page = page[:start] + draw(st.binary(max_size=40)) + page[start:]
        return page

    return build()


def bodies(pages: list[bytes]) -> st.SearchStrategy[bytes | str]:
    return st.one_of(st.binary(max_size=500), st.text(max_size=500), mutated(pages))


def crawler_stats():  # type: ignore[no-untyped-def]
    crawler = get_crawler()
    crawler.stats.open_spider()
    return crawler


def through_the_pipeline(result: Any) -> str:
    """ "stored" or the counted reason it was dropped for."""
    if isinstance(result, Drop):
        assert REASON_RE.match(result.reason), result
        assert result.reason != "parse_error", result  # the safety net is for bugs
        return f"parse/dropped/{result.reason}"
    assert isinstance(result, StudyItem | ThreadItem), type(result)
    crawler = crawler_stats()
    item = NormalizePipeline.from_crawler(crawler).process_item(result)
    try:
        ValidatePipeline.from_crawler(crawler).process_item(item)
    except DropItem:
        dropped = [k for k in crawler.stats.get_stats() if k.startswith("validate/dropped/")]
        assert len(dropped) == 1 and REASON_RE.match(dropped[0].rsplit("/", 1)[1]), dropped
        return dropped[0]
    key = item.study_id if isinstance(item, StudyItem) else item.post_id
    assert key and item.title and item.url and item.url.startswith(("http://", "https://"))
    return "stored"


@PROPERTY
@given(st.data())
def test_every_parser_gives_a_storable_item_or_a_named_drop(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(PARSERS)))
    parse, url, pages = PARSERS[name]
    body = data.draw(bodies(pages))
    through_the_pipeline(parse(body, url))


@PROPERTY
@given(st.sampled_from(sorted(PARSERS)), st.integers(0, 10_000))
def test_each_fixture_page_gives_a_storable_item_or_a_named_drop(name: str, pick: int) -> None:
    parse, url, pages = PARSERS[name]
    through_the_pipeline(parse(pages[pick % len(pages)], url))


@PROPERTY
@given(
    st.one_of(st.binary(max_size=400), mutated(PARSERS["study"][2])),
    st.sampled_from([None, *ENCODINGS, "x-unknown"]),
    st.booleans(),
    st.sampled_from([b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE]),
)
def test_any_bytes_in_any_declared_charset_decode_and_parse(
    body: bytes, charset: str | None, meta: bool, bom: bytes
) -> None:
    crawler = crawler_stats()
    if meta and charset:
        body = f'<meta charset="{charset}">'.encode() + body
    body = bom + body
    headers = {
        "Content-Type": f"text/html; charset={charset}" if charset and not meta else "text/html"
    }
    url = PARSERS["study"][1]
    response = HtmlResponse(url, body=body, headers=headers)
    repaired = CharsetRepairMiddleware.from_crawler(crawler).process_response(
        Request(url), response
    )
    assert isinstance(repaired, TextResponse)
    text = repaired.text
    assert isinstance(text, str)
    item = parse_study(text, url)
    # What the spider hands the parser (the body itself when it is UTF-8) reads the same.
    assert parse_study(page_source(repaired), url) == item
    through_the_pipeline(item)


# -- the spiders' discovery callbacks --------------------------------------------------------------

SITEMAPS = [p.read_bytes() for p in sorted((FIXTURES / "site" / "sitemaps").glob("*.xml"))] + [
    (FIXTURES / "site" / "sitemap.xml").read_bytes()
]
LISTINGS = [(FIXTURES / "site" / "index.html").read_bytes()] + [
    p.read_bytes() for p in sorted((FIXTURES / "site" / "search").rglob("index.html"))[:4]
]
ROBOTS = [(FIXTURES / "site" / "robots.txt").read_bytes()]
LINKS = st.sampled_from(
    [
        "ftp://127.0.0.1/research/x-Ab12",
        "javascript:alert(1)",
        "mailto:a@b.c",
        "data:text/html,x",
        "file:///research/x-Ab12",
        "//evil.example/research/x-Ab12",
        "http://evil.example/research/x-Ab12",
        "/research/x-Ab12",
        "/search/research/a/2",
        "http://[::1",
        "\x00",
    ]
)


def planted(page: bytes, link: str, kind: str) -> bytes:
    """A link or sitemap entry added to a page (templated URLs are filled in first)."""
    page = page.replace(b"{{SITE_URL}}", SITE.encode())
    if kind == "sitemap":
        return page.replace(b"</urlset>", f"<url><loc>{link}</loc></url></urlset>".encode())
    if kind == "robots":
        return page + f"\nSitemap: {link}\n".encode()
    return page.replace(b"</body>", f'<a href="{link}">x</a></body>'.encode())


def spider_for(cls: type, **kwargs: Any) -> Any:
    crawler = get_crawler(cls, {"SITE_URL": SITE})
    crawler.stats.open_spider()
    spider = cls.from_crawler(crawler, **kwargs)
    crawler.spider = spider
    return spider


def assert_only_site_requests(outputs: list[Any], hosts: tuple[str, ...] = ("127.0.0.1",)) -> None:
    for output in outputs:
        assert isinstance(output, Request), output
        parts = urlsplit(output.url)
        assert parts.scheme in ("http", "https") and parts.hostname in hosts, output.url


@PROPERTY
@given(st.data())
def test_discovery_callbacks_survive_any_body_and_only_ask_for_the_site(
    data: st.DataObject,
) -> None:
    kind = data.draw(
        st.sampled_from(["robots", "sitemap", "sitemap_gz", "listing", "community_listing"])
    )
    pages = {"robots": ROBOTS, "sitemap": SITEMAPS, "sitemap_gz": SITEMAPS}.get(kind, LISTINGS)
    body = data.draw(st.one_of(mutated(pages), st.binary(max_size=300)))
    if data.draw(st.booleans()):
        body = planted(body, data.draw(LINKS), kind.removesuffix("_gz"))
    if kind == "sitemap_gz":
        body = gzip.compress(body) if data.draw(st.booleans()) else b"\x1f\x8b" + body
    status = data.draw(st.sampled_from([200, 200, 404, 500]))
    if kind == "robots":
        spider = spider_for(StudiesSpider)
        outputs = list(
            spider.parse_robots(TextResponse(f"{SITE}/robots.txt", body=body, status=status))
        )
    elif kind.startswith("sitemap"):
        spider = spider_for(StudiesSpider)
        response_cls = data.draw(st.sampled_from([Response, XmlResponse]))
        outputs = list(
            spider.parse_sitemap(response_cls(f"{SITE}/sitemaps/research-1.xml", body=body))
        )
    elif kind == "listing":
        spider = spider_for(StudiesSpider)
        outputs = list(spider.parse_listing(HtmlResponse(f"{SITE}/search/research/a/1", body=body)))
    else:
        spider = spider_for(CommunitySpider)
        outputs = list(spider.parse_listing(HtmlResponse(f"{SITE}/community", body=body)))
    assert_only_site_requests(outputs)


@PROPERTY
@given(mutated(PARSERS["study"][2]), st.lists(LINKS, max_size=3), st.booleans())
def test_the_study_callback_survives_any_page_and_only_follows_allowed_links(
    body: bytes, links: list[str], community: bool
) -> None:
    for link in links:
        body = body.replace(b"</main>", f'<a href="{link}">Linked study</a></main>'.encode(), 1)
    spider = spider_for(StudiesSpider, follow_community="1" if community else "0")
    url = f"{SITE}/research/alopecia-induced-by-sorafenib-mechanism-similar-to-aa-ZpoR"
    outputs = list(spider.parse_study(HtmlResponse(url, body=body), follow=True))
    items = [o for o in outputs if not isinstance(o, Request)]
    assert all(isinstance(item, StudyItem) for item in items) and len(items) <= 1
    hosts = tuple(spider.allowed_domains)
    assert_only_site_requests([o for o in outputs if isinstance(o, Request)], hosts)
