"""Redirects in a crawl that sends no Referer: followed, Referer dropped, no referer lookup."""

from __future__ import annotations

from scrapy import Request, Spider
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from tressless_crawler.middlewares.meta_refresh import BodyMetaRefreshMiddleware
from tressless_crawler.middlewares.redirects import RedirectMiddleware

SITE = "http://127.0.0.1:8000"


def middleware(cls: type, **settings: object):  # type: ignore[no-untyped-def]
    crawler = get_crawler(Spider, settings)
    return cls.from_crawler(crawler)


def test_a_3xx_is_followed_without_the_referer() -> None:
    request = Request(f"{SITE}/research/a", headers={"Referer": f"{SITE}/"})
    response = Response(request.url, status=301, headers={"Location": "/research/b"})
    followed = middleware(RedirectMiddleware).process_response(request, response)
    assert isinstance(followed, Request) and followed.url == f"{SITE}/research/b"
    assert "Referer" not in followed.headers


def test_a_meta_refresh_is_followed_without_the_referer() -> None:
    request = Request(f"{SITE}/old", headers={"Referer": f"{SITE}/"})
    body = b'<html><head><meta http-equiv="refresh" content="0; url=/new"></head></html>'
    response = HtmlResponse(request.url, body=body, encoding="utf-8")
    followed = middleware(BodyMetaRefreshMiddleware).process_response(request, response)
    assert isinstance(followed, Request) and followed.url == f"{SITE}/new"
    assert "Referer" not in followed.headers


def test_with_referer_enabled_they_are_scrapy_s() -> None:
    assert not middleware(RedirectMiddleware, REFERER_ENABLED=True).without_referer
    assert middleware(RedirectMiddleware, REFERER_ENABLED=False).without_referer
