"""The meta-refresh middleware decides as Scrapy's does, without decoding pages that have none."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from tressless_crawler.middlewares.meta_refresh import SCANNED_BYTES, BodyMetaRefreshMiddleware
from tressless_crawler.spiders.studies import StudiesSpider

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
URL = "http://127.0.0.1:8000/research/a-study-1"
REFRESH = b'<meta http-equiv="Refresh" content="0; url=/research/b-study-2">'


def middlewares() -> tuple[BodyMetaRefreshMiddleware, MetaRefreshMiddleware]:
    crawler = get_crawler(StudiesSpider, {"SITE_URL": "http://127.0.0.1:8000"})
    return (
        BodyMetaRefreshMiddleware.from_crawler(crawler),
        MetaRefreshMiddleware.from_crawler(crawler),
    )


def page(body: bytes, encoding: str | None = None) -> HtmlResponse:
    headers = {"Content-Type": f"text/html; charset={encoding}"} if encoding else {}
    return HtmlResponse(URL, body=body, headers=headers, request=Request(URL))


def decision(result: Request | Response) -> str | None:
    """The URL a result redirects to, None when the page is passed on."""
    return result.url if isinstance(result, Request) else None


EDGE_CASES = {
    "refresh in head": b"<html><head>" + REFRESH + b"</head><body>x</body></html>",
    "upper-case attribute": b"<html><head>" + REFRESH.upper() + b"</head></html>",
    "content first": b'<meta content="2;URL=/research/c-3" http-equiv="refresh">',
    "inside a script": b"<script>var m = '" + REFRESH + b"';</script><p>x</p>",
    "inside noscript": b"<noscript>" + REFRESH + b"</noscript><p>x</p>",
    "inside a comment": b"<!-- " + REFRESH + b" --><p>x</p>",
    "past Scrapy's 4,096 characters": b"<p>" + b"x" * 5000 + b"</p>" + REFRESH,
    "just inside 4,096 multi-byte characters": "<p>" + "é" * 4000 + "</p>" + REFRESH.decode(),
    "past the scanned bytes": b"<p>" + b"x" * SCANNED_BYTES + b"</p>" + REFRESH,
    "no refresh": b"<html><head><meta charset=utf-8><title>t</title></head><p>x</p></html>",
    "refresh word in text only": b"<p>refresh the page</p>",
    "too long a delay": b'<meta http-equiv="refresh" content="1000; url=/research/d-4">',
    "entity in the url": b'<meta http-equiv="refresh" content="0;url=/r?a=1&amp;b=2">',
}


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
@pytest.mark.parametrize("encoding", ["utf-8", "cp1252", "utf-16", None])
def test_the_same_decision_as_scrapys_middleware(name: str, encoding: str | None) -> None:
    ours, scrapys = middlewares()
    body = EDGE_CASES[name]
    text = body if isinstance(body, str) else body.decode("latin-1")
    if encoding == "cp1252" and not text.isascii() and "é" not in text:
        pytest.skip("not writable in cp1252")
    raw = text.encode(encoding or "utf-8")
    request = Request(URL)
    expected = decision(scrapys.process_response(request, page(raw, encoding)))
    assert decision(ours.process_response(request, page(raw, encoding))) == expected


def test_a_refresh_is_followed_and_a_page_without_one_is_not_decoded() -> None:
    ours, _ = middlewares()
    redirected = ours.process_response(Request(URL), page(EDGE_CASES["refresh in head"]))
    assert isinstance(redirected, Request)
    assert redirected.url == "http://127.0.0.1:8000/research/b-study-2"
    plain = page(EDGE_CASES["no refresh"] + "é".encode() * 10, "utf-8")
    assert ours.process_response(Request(URL), plain) is plain
    assert getattr(plain, "_cached_ubody", None) is None  # its text was never decoded


def test_every_fixture_page_gets_scrapys_decision() -> None:
    ours, scrapys = middlewares()
    files = sorted(p for p in FIXTURES.rglob("*") if p.suffix in {".html", ".htm"})
    assert files
    for path in files:
        body = path.read_bytes()
        expected = decision(scrapys.process_response(Request(URL), page(body)))
        assert decision(ours.process_response(Request(URL), page(body))) == expected, path
