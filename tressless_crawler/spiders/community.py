"""The ``community`` spider: community threads in the site's HTML form or Reddit's JSON form.

Threads come from ``-a url=<thread url>``, from the study cards already in the
database, and from the site's community listing. Extraction lives in
``tressless_crawler.parsers.thread_html`` and ``tressless_crawler.parsers.thread_reddit``. A
thread is fetched at one URL per post id, once per run, conditionally on the next
(``thread_fetch_url``); Reddit threads have their ``more`` stubs expanded first
(``tressless_crawler.spiders.expansion``). See docs/community.md.

Settings: ``SITE_URL``, ``COMMUNITY_HOSTS``, ``COMMUNITY_MAX_MORE_REQUESTS``, ``DATABASE_URL``
(the threads of stored studies), ``REDIS_URL`` and ``FRONTIER_SEEDING`` (a shared frontier).
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
from sqlalchemy.exc import SQLAlchemyError

from tressless_crawler import defaults
from tressless_crawler import signals as crawler_signals
from tressless_crawler.cli.errors import check_arguments, check_url_argument
from tressless_crawler.db import thread_writes
from tressless_crawler.db.crawl_database import CrawlDatabase
from tressless_crawler.db.models import Page, Thread
from tressless_crawler.exceptions import SpiderArgumentError
from tressless_crawler.http_status import GONE_STATUSES
from tressless_crawler.incremental.decisions import conditional_headers
from tressless_crawler.incremental.known import Validators, stored_threads, trusted
from tressless_crawler.items import Drop, ThreadItem
from tressless_crawler.middlewares.failures import FailureAccounting
from tressless_crawler.parsers.thread_html import parse_thread_html
from tressless_crawler.parsers.thread_reddit import parse_more_children, parse_thread_reddit
from tressless_crawler.spiders.expansion import Expansion, MoreRequest
from tressless_crawler.stats import (
    COMMUNITY_DUPLICATE_THREAD_URL,
    COMMUNITY_GONE,
    COMMUNITY_NOT_MODIFIED,
    COMMUNITY_SKIPPED_HOST,
    MORE_CAPPED,
    MORE_COMMENTS,
    MORE_DROPPED,
    MORE_FAILED,
    MORE_KEPT,
    MORE_REQUESTS,
    MORE_STUBS_LEFT,
    PARSE_DROPPED,
    PARSE_THREADS,
)
from tressless_crawler.urls import (
    REDDIT_COMMENTS_RE,
    Origins,
    canonical_url,
    host_of,
    is_community_listing_url,
    rebase_on_site,
    thread_id_from_url,
    valid_url,
)

logger = logging.getLogger(__name__)


def hosts_setting(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    return [h.strip().lower() for h in value or [] if h and h.strip()]


def is_reddit_thread(url: str) -> bool:
    path = urlsplit(url).path
    return bool(REDDIT_COMMENTS_RE.search(path.removesuffix(".json")))


# Host prefixes that serve the same threads as the bare host or its www. form.
MIRROR_PREFIXES = ("old.", "new.", "np.", "m.", "i.", "www.")


def thread_fetch_url(
    url: str, hosts: set[str], site_url: str, scheme: str | None = "https"
) -> str | None:
    """The one URL a thread is fetched at, whatever form of its URL was found; None when
    ``url`` is not a thread URL.

    A thread is its post id: with or without slug or subreddit, on ``old.``/``www.``/no
    prefix, over http or https, with a trailing ``/`` or ``.json``, with a query: one URL.
    Reddit threads: ``https://<host>/comments/<post id>.json`` (Reddit serves every thread
    there), on the ``www.`` or bare form of the host that COMMUNITY_HOSTS allows. Threads
    on the site: the canonical page URL. SITE_URL's host keeps SITE_URL's scheme and port.
    ``scheme=None`` keeps the URL's own scheme (for a host that COMMUNITY_HOSTS names with it).
    """
    try:
        post_id = thread_id_from_url(url)
        if post_id is None or not valid_url(url):
            return None
        parts = urlsplit(url.strip())
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return None
        host = _allowed_form(parts.hostname.lower(), hosts, host_of(site_url))
        netloc = host if parts.port is None else f"{host}:{parts.port}"
        scheme = scheme or parts.scheme.lower()
        if is_reddit_thread(url):
            canonical = f"{scheme}://{netloc}/comments/{post_id}.json"
        else:
            path = urlunsplit((scheme, netloc, parts.path, "", ""))
            canonical = canonical_url(path, https=scheme == "https")
        return rebase_on_site(canonical, site_url)
    except ValueError:
        return None


def _allowed_form(host: str, hosts: set[str], site_host: str) -> str:
    """``old.reddit.com``, ``reddit.com`` -> ``www.reddit.com`` (or the bare form) if allowed;
    ``www.`` + the site's host -> the site's host."""
    bare = host
    for prefix in MIRROR_PREFIXES:
        if bare.startswith(prefix) and bare.count(".") > 1:
            bare = bare[len(prefix) :]
            break
    if site_host in (bare, f"www.{bare}"):
        return site_host
    for candidate in (f"www.{bare}", bare):
        if candidate in hosts:
            return candidate
    return host


class ThreadRequests:
    """Builds the request for a thread URL in whichever form its host serves: once per run
    and thread (by post id), conditionally when an earlier crawl kept the validators."""

    def __init__(
        self,
        spider: Any,
        origins: Origins,
        site_url: str,
        pages: dict[str, Validators] | None = None,
    ) -> None:
        self.spider = spider
        self.origins = origins
        self.site_url = site_url
        self.pages = pages
        self.requested: set[str] = set()  # post ids requested in this run

    def allowed(self, url: str) -> bool:
        return valid_url(url) and self.origins.allows(url)

    def validators(self, page_url: str) -> Validators | None:
        pages = self.pages
        if pages is None:  # the studies spider knows every page's validators
            pages = getattr(getattr(self.spider, "known", None), "pages", None) or {}
        return pages.get(page_url)

    def fetch_url(self, url: str) -> str | None:
        """The URL ``url``'s thread is fetched at, or None when it is no thread URL allowed."""
        hosts = set(self.origins.hosts)
        fetch = thread_fetch_url(url, hosts, self.site_url)
        if fetch is not None and not self.allowed(fetch):  # a host served over http only
            fetch = thread_fetch_url(url, hosts, self.site_url, scheme=None)
        if fetch is None or not self.allowed(fetch):
            return None
        return fetch

    def request(self, url: str) -> Request | None:
        fetch = self.fetch_url(url)
        if fetch is None:
            return None
        post_id = thread_id_from_url(fetch)
        if post_id in self.requested:
            self.spider.crawler.stats.inc_value(COMMUNITY_DUPLICATE_THREAD_URL)
            return None
        self.requested.add(post_id)  # type: ignore[arg-type]  # not None: a thread URL
        page_url = canonical_url(fetch, https=False)
        meta = {
            "handle_httpstatus_list": [*GONE_STATUSES, 304],
            "thread_url": rebase_on_site(url, self.site_url),
            "page_url": page_url,
        }
        headers = conditional_headers(self.validators(page_url))
        errback = self.spider.request_failed
        callback = self.spider.parse_reddit if is_reddit_thread(fetch) else None
        return Request(
            fetch,
            callback=callback or self.spider.parse_thread_page,
            errback=errback,
            meta=meta,
            headers=headers,
        )


class ThreadCallbacks:
    """Callbacks for thread responses, shared by the community and studies spiders."""

    crawler: Crawler

    async def parse_reddit(self, response: Response) -> AsyncIterator[Any]:
        url = response.meta.get("thread_url", response.url)
        item = self.handle_thread(response, lambda: parse_thread_reddit(response.body, url))
        if item is None:
            return
        cap = defaults.getint(self.crawler.settings, "COMMUNITY_MAX_MORE_REQUESTS")
        if cap <= 0 or not any(c.kind == "more" for c in item.comments):
            self.thread_fetched(response.meta, _page_of(response), item.post_id, item)
            yield item
            return
        stored = await asyncio.to_thread(self.stored_comments, item.post_id or "")
        state = Expansion(item, response.url, cap, stored=stored, page=_page_of(response))
        for out in self.expand(state, response.meta):
            yield out

    def parse_thread_page(self, response: Response) -> Iterator[Any]:
        if not isinstance(response, TextResponse) and response.status not in (
            *GONE_STATUSES,
            304,
        ):
            self.crawler.stats.inc_value(PARSE_DROPPED.key("not_html"))
            return
        item = self.handle_thread(response, lambda: parse_thread_html(response.text, response.url))
        if item is not None:
            self.thread_fetched(response.meta, _page_of(response), item.post_id, item)
            yield item

    def handle_thread(self, response: Response, parse: Any) -> ThreadItem | None:
        """The thread of a 200 response; a 304, 404/410 or a dropped page give None."""
        stats = self.crawler.stats
        thread_url = response.meta.get("thread_url", response.url)
        post_id = thread_id_from_url(thread_url)
        if response.status == 304:
            self.thread_fetched(response.meta, _page_of(response), post_id)
            stats.inc_value(COMMUNITY_NOT_MODIFIED)
            return None
        if response.status in GONE_STATUSES:
            self.thread_fetched(response.meta, _page_of(response), post_id)
            stats.inc_value(COMMUNITY_GONE.key(response.status))  # the store marks the row gone
            return None
        result = parse()
        if isinstance(result, Drop):
            # a dropped page's validators are not kept (see parse_study)
            stats.inc_value(PARSE_DROPPED.key(result.reason))
            logger.warning("Dropped %s: %s %s", response.url, result.reason, result.detail)
            return None
        stats.inc_value(PARSE_THREADS)
        return result

    def thread_fetched(
        self,
        meta: dict[str, Any],
        page: dict[str, Any],
        key: str | None,
        item: ThreadItem | None = None,
    ) -> None:
        """What the thread's URL answered, for the next crawl's conditional request. Sent with
        the item (after its expansion) and stored in its batch, so a crawl killed before the
        item was stored fetches the thread again."""
        url = meta.get("page_url") or canonical_url(
            meta.get("thread_url") or page["url"], https=False
        )
        response = Response(page["url"], status=page["status"], headers=page["headers"])
        crawler_signals.send_page_fetched(
            self.crawler, response, "thread", key, url, page.get("warc_record_id"), item
        )

    # -- expanding "more" stubs (tressless_crawler.spiders.expansion)
    # --------------------------------

    def stored_comments(self, post_id: str) -> dict[str, str | None]:
        """The thread's comments from earlier crawls: not asked for again."""
        database = CrawlDatabase.of(self.crawler)
        try:
            if database is None or not database.has_schema():
                return {}
            return thread_writes.stored_comments(database.reader, post_id)
        except SQLAlchemyError as exc:  # the crawl goes on; the store reports the database
            logger.warning("Could not read the stored comments of %s: %s", post_id, exc)
            return {}

    def expand(self, state: Expansion, meta: dict[str, Any]) -> Iterator[Any]:
        """The next expansion request of the thread, or the finished thread."""
        stats = self.crawler.stats
        more = state.next_request()
        if more is not None:
            stats.inc_value(MORE_REQUESTS)
            callback = self.parse_continue if more.parent_id else self.parse_more
            yield Request(
                more.url,
                callback=callback,
                errback=self.more_failed,
                dont_filter=True,  # one state per request: never merged with another
                priority=10,  # finish a thread before starting others
                meta={
                    "expansion": state,
                    "more": more,
                    "thread_meta": {k: meta.get(k) for k in ("thread_url", "page_url")},
                },
            )
            return
        if state.capped:
            stats.inc_value(MORE_CAPPED)
            logger.info(
                "Thread %s: COMMUNITY_MAX_MORE_REQUESTS (%d) reached, %d stubs stored as stubs",
                state.post_id,
                state.cap,
                state.stubs_left(),
            )
        item = state.finish()
        left = sum(1 for c in item.comments if c.kind == "more")
        if left:
            stats.inc_value(MORE_STUBS_LEFT, left)
        if state.kept:
            stats.inc_value(MORE_KEPT, state.kept)
        self.thread_fetched(meta, state.page, state.post_id, item)
        yield item

    def parse_more(self, response: Response) -> Iterator[Any]:
        state, more = response.meta["expansion"], response.meta["more"]
        result = parse_more_children(response.body, response.url)
        self._joined(state, more, result)
        yield from self.expand(state, response.meta["thread_meta"])

    def parse_continue(self, response: Response) -> Iterator[Any]:
        state, more = response.meta["expansion"], response.meta["more"]
        result = parse_thread_reddit(response.body, response.url)
        if not isinstance(result, Drop):
            # the parent comment heads its own page; the tree has it already
            replies = [c for c in result.comments if c.comment_id != more.parent_id]
            self._joined(state, more, replies)
        else:
            self._joined(state, more, result)
        yield from self.expand(state, response.meta["thread_meta"])

    def more_failed(self, failure: Any) -> Iterator[Any]:
        """A failed expansion costs its stub (stored as a stub), not the thread."""
        self.request_failed(failure)  # type: ignore[attr-defined]
        request = failure.request
        state, more = request.meta["expansion"], request.meta["more"]
        state.given_up.add(more.token)
        self.crawler.stats.inc_value(MORE_FAILED)
        yield from self.expand(state, request.meta["thread_meta"])

    def _joined(self, state: Expansion, more: MoreRequest, result: Any) -> None:
        stats = self.crawler.stats
        if isinstance(result, Drop):
            state.given_up.add(more.token)
            stats.inc_value(MORE_DROPPED.key(result.reason))
            logger.warning("Could not expand a stub of %s: %s", state.post_id, result.detail)
            return
        added = state.tree.expand(more.token, result, more.asked)
        stats.inc_value(MORE_COMMENTS, sum(1 for c in result if c.kind != "more"))
        if not added:
            state.given_up.add(more.token)


def _page_of(response: Response) -> dict[str, Any]:
    """What the thread's response said, kept (picklable) until the thread is stored."""
    headers = {
        name: response.headers.get(name)
        for name in (b"ETag", b"Last-Modified")
        if response.headers.get(name)
    }
    return {
        "url": response.url,
        "status": response.status,
        "headers": headers,
        "warc_record_id": crawler_signals.record_id(response),
    }


def community_origins(crawler: Crawler, site_url: str) -> Origins:
    """SITE_URL's origins and those of COMMUNITY_HOSTS (entries may name a port or scheme)."""
    return Origins.for_site(site_url, hosts_setting(crawler.settings.get("COMMUNITY_HOSTS")))


class CommunitySpider(ThreadCallbacks, FailureAccounting, Spider):
    name = "community"
    allowed_domains: list[str]  # set in from_crawler, from COMMUNITY_HOSTS
    allowed_origins: Origins  # the same with ports (tressless_crawler.middlewares.guard)

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
        if spider.single_url and spider.threads.fetch_url(spider.single_url) is None:
            raise SpiderArgumentError(
                f"-a url={spider.single_url} is not a thread URL on SITE_URL or "
                f"COMMUNITY_HOSTS ({spider.allowed_origins})"
            )
        return spider

    async def start(self) -> AsyncIterator[Request]:
        if self.settings.get("REDIS_URL") and not self.settings.getbool("FRONTIER_SEEDING"):
            return  # a distributed worker: `scrapy seed community` filled the shared frontier
        assert self.threads is not None
        self.threads.pages = await asyncio.to_thread(self.thread_pages)
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
                elif thread_id_from_url(url) not in self.threads.requested:
                    self.crawler.stats.inc_value(COMMUNITY_SKIPPED_HOST)
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
        database = CrawlDatabase.of(self.crawler)
        if database is None or not database.has_schema():
            return []
        with database.reader.connect() as conn:
            rows = conn.execute(
                select(Thread.url)
                .where(Thread.url.is_not(None), Thread.gone_at.is_(None))
                .order_by(Thread.id)
            )
            return [url for (url,) in rows if url is not None]  # none are: see where()

    def thread_pages(self) -> dict[str, Validators]:
        """What each thread URL answered last time: the validators of conditional requests."""
        database = CrawlDatabase.of(self.crawler)
        if database is None or not database.has_schema():
            return {}
        with database.reader.connect() as conn:
            stored = stored_threads(conn)
            rows = conn.execute(
                select(Page.url, Page.etag, Page.last_modified, Page.status, Page.key).where(
                    Page.kind == "thread"
                )
            )
            return {
                url: Validators(etag, modified, status)
                for url, etag, modified, status, key in rows
                if trusted(status, key, stored)
            }

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
