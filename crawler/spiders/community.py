"""The ``community`` spider: community threads in the site's HTML form or Reddit's JSON form.

Threads come from ``-a url=<thread url>``, from the study cards already in the
database, and from the site's community listing. Extraction lives in
``crawler.parsers.thread_html`` and ``crawler.parsers.thread_reddit``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from sqlalchemy import select

from crawler import signals as crawler_signals
from crawler.cli.errors import SpiderArgumentError, check_arguments, check_url_argument
from crawler.db.engine import make_engine
from crawler.db.models import Thread
from crawler.db.schema import current_revision
from crawler.failures import FailureAccounting
from crawler.items import Drop
from crawler.parsers.thread_html import parse_thread_html
from crawler.parsers.thread_reddit import parse_thread_reddit
from crawler.urls import (
    REDDIT_COMMENTS_RE,
    Origins,
    canonical_url,
    is_community_listing_url,
    rebase_on_site,
    thread_id_from_url,
    valid_url,
)

logger = logging.getLogger(__name__)

GONE_STATUSES = (404, 410)


def hosts_setting(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    return [h.strip().lower() for h in value or [] if h and h.strip()]


def reddit_json_url(url: str) -> str:
    """Reddit serves a thread as JSON at its URL with ``.json`` appended."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if not path.endswith(".json"):
        path += ".json"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def is_reddit_thread(url: str) -> bool:
    return bool(REDDIT_COMMENTS_RE.search(urlsplit(url).path))


class ThreadRequests:
    """Builds the request for a thread URL in whichever form its host serves."""

    def __init__(self, spider: Any, origins: Origins, site_url: str) -> None:
        self.spider = spider
        self.origins = origins
        self.site_url = site_url

    def allowed(self, url: str) -> bool:
        return valid_url(url) and self.origins.allows(url)

    def request(self, url: str) -> Request | None:
        url = rebase_on_site(url, self.site_url)
        if not self.allowed(url) or thread_id_from_url(url) is None:
            return None
        meta = {"handle_httpstatus_list": list(GONE_STATUSES), "thread_url": url}
        errback = self.spider.request_failed
        if is_reddit_thread(url):
            return Request(
                reddit_json_url(url), callback=self.spider.parse_reddit, errback=errback, meta=meta
            )
        return Request(url, callback=self.spider.parse_thread_page, errback=errback, meta=meta)


class ThreadCallbacks:
    """Callbacks for thread responses, shared by the community and studies spiders."""

    crawler: Crawler

    def parse_reddit(self, response: Response) -> Iterator[Any]:
        url = response.meta.get("thread_url", response.url)
        yield from self.handle_thread(response, lambda: parse_thread_reddit(response.body, url))

    def parse_thread_page(self, response: Response) -> Iterator[Any]:
        if not isinstance(response, TextResponse) and response.status not in GONE_STATUSES:
            self.crawler.stats.inc_value("parse/dropped/not_html")
            return
        yield from self.handle_thread(
            response, lambda: parse_thread_html(response.text, response.url)
        )

    def handle_thread(self, response: Response, parse: Any) -> Iterator[Any]:
        stats = self.crawler.stats
        thread_url = response.meta.get("thread_url", response.url)

        def fetched() -> None:  # a dropped page's validators are not kept (see parse_study)
            crawler_signals.send_page_fetched(
                self.crawler,
                response,
                "thread",
                thread_id_from_url(thread_url),
                canonical_url(thread_url, https=False),
            )

        if response.status in GONE_STATUSES:
            fetched()
            stats.inc_value(f"community/gone/{response.status}")  # the store marks the row gone
            return
        result = parse()
        if isinstance(result, Drop):
            stats.inc_value(f"parse/dropped/{result.reason}")
            logger.warning("Dropped %s: %s %s", response.url, result.reason, result.detail)
            return
        fetched()
        stats.inc_value("parse/threads")
        yield result


def community_origins(crawler: Crawler, site_url: str) -> Origins:
    """SITE_URL's origins and those of COMMUNITY_HOSTS (entries may name a port or scheme)."""
    return Origins.for_site(site_url, hosts_setting(crawler.settings.get("COMMUNITY_HOSTS")))


def community_hosts(crawler: Crawler, site_url: str) -> list[str]:
    """The host names of :func:`community_origins` (Scrapy's ``allowed_domains``)."""
    return community_origins(crawler, site_url).hosts


class CommunitySpider(ThreadCallbacks, FailureAccounting, Spider):
    name = "community"
    allowed_domains: list[str]  # set in from_crawler, from COMMUNITY_HOSTS
    allowed_origins: Origins  # the same with ports (crawler.middlewares.guard)

    def __init__(self, url: str | None = None, from_db: str = "1", **kwargs: Any) -> None:
        check_arguments(self, kwargs)
        if url is not None:
            url = check_url_argument(url, "a community thread")
        super().__init__(**kwargs)
        self.single_url = url
        self.from_db = str(from_db).lower() not in ("0", "false", "no")
        self.site_url = ""
        self.site_origins = Origins(frozenset())
        self.threads: ThreadRequests | None = None
        self.discovered: set[str] = set()  # listings requested by this run

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> CommunitySpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.site_url = crawler.settings.get("SITE_URL").rstrip("/")
        spider.site_origins = Origins.for_site(spider.site_url)
        spider.allowed_origins = community_origins(crawler, spider.site_url)
        spider.allowed_domains = spider.allowed_origins.hosts
        spider.threads = ThreadRequests(spider, spider.allowed_origins, spider.site_url)
        if spider.single_url and spider.threads.request(spider.single_url) is None:
            raise SpiderArgumentError(
                f"-a url={spider.single_url} is not a thread URL on SITE_URL or "
                f"COMMUNITY_HOSTS ({spider.allowed_origins})"
            )
        return spider

    async def start(self) -> AsyncIterator[Request]:
        if self.settings.get("REDIS_URL") and not self.settings.getbool("FRONTIER_SEEDING"):
            return  # a distributed worker: `scrapy seed community` filled the shared frontier
        assert self.threads is not None
        if self.single_url:
            request = self.threads.request(self.single_url)
            if request is None:
                raise ValueError(
                    f"-a url={self.single_url!r} is not a thread URL on SITE_URL or "
                    f"COMMUNITY_HOSTS ({self.allowed_origins})"
                )
            yield request
            return
        if self.from_db:
            urls = await asyncio.to_thread(self.card_urls)
            logger.info("%d thread URLs from study cards in the database", len(urls))
            for url in urls:
                request = self.threads.request(url)
                if request is not None:
                    yield request
                else:
                    self.crawler.stats.inc_value("community/skipped_host")
        for request in self.listing_requests(f"{self.site_url}/community"):
            yield request

    def listing_requests(self, url: str) -> Iterator[Request]:
        """A community listing, read by every run and never dropped by a JOBDIR's seen-set
        (see ``StudiesSpider.discovery_requests``); once per run."""
        if url in self.discovered:
            return
        self.discovered.add(url)
        shared = bool(self.settings.get("REDIS_URL"))  # Redis' seen-set lives with its queue
        yield Request(
            url, callback=self.parse_listing, errback=self.request_failed, dont_filter=not shared
        )

    def card_urls(self) -> list[str]:
        """Thread URLs known from study cards (and earlier thread crawls)."""
        engine = make_engine(self.crawler.settings.get("DATABASE_URL"))
        try:
            if current_revision(engine) is None:
                return []
            with engine.connect() as conn:
                rows = conn.execute(
                    select(Thread.url)
                    .where(Thread.url.is_not(None), Thread.gone_at.is_(None))
                    .order_by(Thread.id)
                )
                return [url for (url,) in rows if url is not None]  # none are: see where()
        finally:
            engine.dispose()

    def parse_listing(self, response: Response) -> Iterator[Request]:
        assert self.threads is not None
        if not isinstance(response, TextResponse):
            return
        for href in response.xpath("//a/@href").getall():
            try:
                url = response.urljoin(href)
            except ValueError:  # a malformed link (http://[...) costs the link, not the listing
                continue
            if not valid_url(url):
                continue
            if thread_id_from_url(url):
                request = self.threads.request(url)
                if request is not None:
                    yield request
            elif is_community_listing_url(url) and self.site_origins.allows(url):
                yield from self.listing_requests(url)
