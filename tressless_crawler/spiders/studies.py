"""The ``studies`` spider: robots.txt -> sitemaps -> study pages.

Discovery only; extraction lives in ``tressless_crawler.parsers.study``. Where the site
names no sitemap, the research listings and their pagination are walked
instead. Links to other studies in the cited and related sections are
followed either way, so studies missing from the sitemap are found too.

Crawls are incremental unless ``-a full=1``: a sitemap entry whose <lastmod>
is not newer than the study's last sight in the database is skipped, other
known pages are requested with their HTTP validators (a 304 counts as
unchanged), and once the frontier is empty the known studies not yet
visited in this run (pages found only through links, links never followed
because an earlier crawl died) are requested too. The same mechanism
resumes a crawl that was killed: what was stored is skipped, the rest fetched.
On a shared frontier (REDIS_URL) the workers note what they touched in Redis
and one of them sweeps, once the whole frontier is idle.

Settings: ``SITE_URL``, ``DATABASE_URL``, ``INCREMENTAL_MAX_AGE_DAYS``, ``SITEMAP_MAX_URLS``,
``DOWNLOAD_MAXSIZE``, ``REDIS_URL``.
"""

from __future__ import annotations

import asyncio
import codecs
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response, TextResponse
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap
from w3lib.encoding import read_bom

from tressless_crawler import defaults
from tressless_crawler import signals as crawler_signals
from tressless_crawler.cli.errors import check_arguments, check_url_argument
from tressless_crawler.db.crawl_database import CrawlDatabase
from tressless_crawler.db.runs import utcnow
from tressless_crawler.defaults import DEFAULTS
from tressless_crawler.distributed import mode as distributed
from tressless_crawler.distributed.touched import RENEW_EVERY, Touched
from tressless_crawler.exceptions import SpiderArgumentError
from tressless_crawler.http_status import GONE_STATUSES
from tressless_crawler.incremental.decisions import conditional_headers, unchanged_since_seen
from tressless_crawler.incremental.known import KnownSite, load_known_site
from tressless_crawler.items import Drop, ResearchRef, StudyItem
from tressless_crawler.middlewares.failures import FailureAccounting, record_failure
from tressless_crawler.parsers.study import read_study
from tressless_crawler.scrapy_internals import DecompressionMaxSizeExceeded, wake_engine
from tressless_crawler.spiders.backlog import Backlog
from tressless_crawler.spiders.community import ThreadCallbacks, ThreadRequests, community_origins
from tressless_crawler.spiders.parse_worker import ParsePool, workers_for
from tressless_crawler.stats import (
    DISCOVERY_ROBOTS_SITEMAPS,
    DISCOVERY_SITEMAP_CUT,
    DISCOVERY_SITEMAP_INVALID,
    DISCOVERY_SITEMAP_OFFSITE,
    DISCOVERY_SITEMAP_STUDIES,
    DISCOVERY_SITEMAP_TOO_BIG,
    INCREMENTAL_NOT_MODIFIED,
    INCREMENTAL_REFETCH,
    INCREMENTAL_SKIPPED_LASTMOD,
    INCREMENTAL_SWEPT,
    INCREMENTAL_SWEPT_THREADS,
    PARSE_DROPPED,
    PARSE_NOTES,
    PARSE_STUDIES,
    STUDIES_GONE,
    STUDY_PAGES,
)
from tressless_crawler.urls import (
    Origins,
    canonical_url,
    is_listing_url,
    is_study_url,
    join_url,
    on_site_scheme,
    rebase_on_site,
    study_id_from_url,
    valid_url,
)

logger = logging.getLogger(__name__)

# The sitemap protocol's limit of URLs per sitemap (and of sitemaps per index).
SITEMAP_MAX_URLS = DEFAULTS["SITEMAP_MAX_URLS"]


def truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


class StudiesSpider(ThreadCallbacks, FailureAccounting, Spider):
    name = "studies"
    allowed_domains: list[str]  # set in from_crawler: SITE_URL's host (and COMMUNITY_HOSTS)
    allowed_origins: (
        Origins  # the same with schemes and ports (tressless_crawler.middlewares.guard)
    )

    def __init__(
        self,
        url: str | None = None,
        follow_links: str | bool = True,
        listings: str | bool = False,
        follow_community: str | bool = False,
        full: str | bool = False,
        **kwargs: Any,
    ) -> None:
        check_arguments(self, kwargs)
        if url is not None:
            url = check_url_argument(url, "a study page (/research/<slug>-<id>)")
            if not is_study_url(url):
                raise SpiderArgumentError(
                    f"-a url={url} is not a study page: give a URL like "
                    "https://tressless.com/research/<slug>-<id>"
                )
        super().__init__(**kwargs)
        self.full = truthy(full)
        self.known = KnownSite()
        self.touched = Touched()  # study ids requested or skipped in this run
        self.swept = False
        self.max_age = timedelta(days=30)
        self.follow_community = truthy(follow_community)
        self.threads: ThreadRequests | None = None
        self.single_url = url
        self.follow_links = truthy(follow_links)
        self.force_listings = truthy(listings)
        self.site_url = ""
        self.site_origins = Origins(frozenset())  # what discovery may queue: SITE_URL's
        self.backlog: Backlog | None = None  # set in from_crawler
        self.sitemap_max = SITEMAP_MAX_URLS
        self.discovered: set[str] = set()  # sitemaps and listings requested by this run
        self.parse_pool: ParsePool | None = None  # PARSE_WORKERS > 0: study pages parsed there
        self.crawl_ready = (
            True  # read by the distributed scheduler (tressless_crawler.distributed.scheduler)
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> StudiesSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.site_url = crawler.settings.get("SITE_URL").rstrip("/")
        spider.site_origins = spider.allowed_origins = Origins.for_site(spider.site_url)
        if spider.single_url and not spider.on_site(spider.single_url):
            raise SpiderArgumentError(
                f"-a url={spider.single_url} is not on the site's origin "
                f"({spider.site_url}: same scheme, host and port): give a study URL of that "
                "site, or set SITE_URL"
            )
        if spider.follow_community:
            spider.allowed_origins = community_origins(crawler, spider.site_url)
            spider.threads = ThreadRequests(spider, spider.allowed_origins, spider.site_url)
        spider.allowed_domains = spider.allowed_origins.hosts
        spider.sitemap_max = crawler.settings.getint("SITEMAP_MAX_URLS", SITEMAP_MAX_URLS)
        spider.max_age = timedelta(
            days=defaults.getfloat(crawler.settings, "INCREMENTAL_MAX_AGE_DAYS")
        )
        spider.backlog = Backlog.for_crawler(crawler, spider.study_request)
        workers = workers_for(crawler.settings)
        if workers > 0:
            spider.parse_pool = ParsePool(workers)
            if crawler.crawling:  # a crawl starting (not a spider made to be looked at)
                # Forked now, before the crawl starts a thread; else started at the first page.
                spider.parse_pool.fork_workers()
            crawler.signals.connect(spider.parse_pool.close, signal=signals.spider_closed)
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        if distributed.enabled(crawler.settings) and not distributed.seeding(crawler.settings):
            keys = distributed.FrontierKeys.for_spider(crawler.settings, spider.name)
            spider.touched = Touched(distributed.redis_client(crawler.settings), keys)
            # A worker takes no request before it knows what the database holds (start()):
            # a sitemap read before would have every unchanged study fetched in full.
            spider.crawl_ready = False
            crawler.signals.connect(spider.touched.flush, signal=crawler_signals.requests_settling)
        return spider

    # --- start --------------------------------------------------------------
    async def start(self) -> AsyncIterator[Request]:
        if distributed.enabled(self.settings):  # see "Running on several machines"
            if not distributed.seeding(self.settings):  # a worker: `scrapy seed` starts
                try:
                    if not self.full:
                        self.known = await asyncio.to_thread(self.load_known)
                finally:
                    self.crawl_ready = True  # the scheduler hands out requests from now on
                    wake_engine(self.crawler)
                return
            self.swept = True  # the seed fetches nothing: a worker sweeps at the end
        if self.single_url:
            if not is_study_url(self.single_url):
                raise ValueError(
                    f"-a url={self.single_url!r} is not a study URL (/research/<slug>-<id>)"
                )
            if not self.on_site(self.single_url):
                raise ValueError(
                    f"-a url={self.single_url!r} is not on the site's origin ({self.site_url}: "
                    "same scheme, host and port)"
                )
            yield self.study_request(self.single_url, follow=False)
            return
        if not self.full:
            self.known = await asyncio.to_thread(self.load_known)
            logger.info(
                "Incremental crawl: %d studies and %d page validators known "
                "(-a full=1 refetches all)",
                len(self.known.last_seen),
                len(self.known.pages),
            )
        if self.force_listings:
            yield self.home_request()
            return
        yield Request(
            f"{self.site_url}/robots.txt",
            callback=self.parse_robots,
            errback=self.robots_failed,
            meta={"handle_httpstatus_all": True},
            dont_filter=True,
        )

    def load_known(self) -> KnownSite:
        database = CrawlDatabase.of(self.crawler)
        return load_known_site(database.reader) if database is not None else KnownSite()

    def home_request(self) -> Request:
        return Request(
            f"{self.site_url}/",
            callback=self.parse_listing,
            errback=self.request_failed,
            dont_filter=True,
        )

    def discovery_requests(self, url: str, callback: Any) -> Iterator[Request]:
        """A sitemap or listing: read by every run, never dropped by Scrapy's seen-set.

        Only they lead to the studies; with JOBDIR the seen-set outlives a queue lost by an
        unclean stop, and filtering them would end the crawl with most of the site unread.
        Within one run each is requested once (``discovered``), so a page linking to itself
        cannot loop.
        """
        if url in self.discovered:
            return
        self.discovered.add(url)
        # On a shared frontier Redis' seen-set and queue live and die together: filter there.
        shared = distributed.enabled(self.settings)
        yield Request(url, callback=callback, errback=self.request_failed, dont_filter=not shared)

    def study_request(self, url: str, follow: bool = True) -> Request:
        study_id = study_id_from_url(url)
        if study_id:
            self.touched.add(study_id)
        refetch = None if self.full else self.must_refetch(study_id)
        if refetch:  # in full: a 304 would keep what is stored
            self.crawler.stats.inc_value(INCREMENTAL_REFETCH.key(refetch))
        fresh = self.full or refetch
        headers = {} if fresh else conditional_headers(self.known.pages.get(canonical_url(url)))
        return Request(
            url,
            callback=self.parse_study if self.parse_pool is None else self.parse_study_in_worker,
            errback=self.request_failed,
            headers=headers,
            cb_kwargs={"follow": follow and self.follow_links},
            meta={"handle_httpstatus_list": [*GONE_STATUSES, 304]},
        )

    def skip_unchanged(self, url: str, lastmod: str | None) -> bool:
        """Skip a sitemap entry the database saw after its last modification."""
        study_id = study_id_from_url(url)
        if self.full or study_id is None or self.must_refetch(study_id):
            return False
        if unchanged_since_seen(
            lastmod, self.known.last_seen.get(study_id), utcnow(), self.max_age
        ):
            self.touched.add(study_id)
            self.crawler.stats.inc_value(INCREMENTAL_SKIPPED_LASTMOD)
            return True
        return False

    def must_refetch(self, study_id: str | None) -> str | None:
        """Why the stored study cannot be trusted to be this site's page as read now, if so:
        stored from another origin (another server's, or an older SITE_URL's), or its page
        decoded by an older decoder that got it wrong (``KnownSite.misdecoded``)."""
        if study_id is None or study_id not in self.known.last_seen:
            return None
        stored = self.known.study_urls.get(study_id)
        if stored is not None and not self.site_origins.allows(stored):
            return "origin"
        return "decoding" if study_id in self.known.misdecoded else None

    def on_idle(self) -> None:
        """Nothing left to fetch: feed the sitemap backlog, then sweep the known studies."""
        if self.backlog is not None and self.backlog.feed_idle():
            raise DontCloseSpider
        self.sweep_known()

    def sweep_known(self) -> None:
        """When the frontier is empty, visit known studies this run has not touched (once).

        On a shared frontier "empty" means the whole crawl's: nothing queued, nothing in flight
        on any worker; and one worker sweeps for all of them, with every worker's ids.
        """
        if self.swept or self.single_url or self.full:
            return
        if self.touched.shared and not self.claim_sweep():
            return
        self.swept = True
        threads = self.sweep_threads()
        urls = {**self.known.unvisited_targets, **self.known.study_urls}
        dead = {url for url, v in self.known.pages.items() if v.status in GONE_STATUSES}
        count = 0
        for study_id in self.touched.untouched(sorted(urls)):
            url = rebase_on_site(urls[study_id], self.site_url)  # stored https by older versions
            if canonical_url(url) in dead or not self.on_site(url):
                continue  # another origin's: never fetched
            # Never dropped as seen: a JOBDIR's seen-set may outlive the queue that held it.
            self.crawler.engine.crawl(self.study_request(url).replace(dont_filter=True))
            count += 1
            if count % RENEW_EVERY == 0:
                self.touched.renew_sweep()
        self.touched.finish_sweep()
        self.crawler.stats.set_value(INCREMENTAL_SWEPT, count)
        if count:
            logger.info("Visiting %d known studies not reached through the sitemap", count)
        if count or threads:
            raise DontCloseSpider

    def sweep_threads(self) -> int:
        """With ``follow_community``: the threads of stored cards never crawled themselves.

        A study skipped as unchanged yields no thread requests, so threads whose crawl was cut
        short (a kill, Ctrl-C) would otherwise wait for their study to change. Those this run
        requested already are dropped by the duplicate filter.
        """
        if self.threads is None:
            return 0
        count = 0
        for url in self.known.uncrawled_threads:
            request = self.threads.request(url)
            if request is not None:
                self.crawler.engine.crawl(request)
                count += 1
        self.crawler.stats.set_value(INCREMENTAL_SWEPT_THREADS, count)
        if count:
            logger.info("Visiting %d community threads known from cards, never fetched", count)
        return count

    def claim_sweep(self) -> bool:
        """On a shared frontier: True once the whole frontier is idle and no other worker swept."""
        scheduler = self.crawler.engine.scheduler if self.crawler.engine else None
        frontier_idle = getattr(scheduler, "frontier_idle", None)
        if frontier_idle is None or not frontier_idle():
            return False  # other workers are still at it: not the end of the crawl yet
        if self.touched.claim_sweep(distributed.worker_id()):
            return True
        # Another worker swept, or is sweeping: if it dies first, its claim expires and the
        # next idle worker takes the sweep over.
        self.swept = self.touched.sweep_done()
        return False

    # --- discovery ------------------------------------------------------------
    def parse_robots(self, response: Response) -> Iterator[Request]:
        text = (
            response.text if isinstance(response, TextResponse) and response.status == 200 else ""
        )
        listed = robots_sitemaps(text, response.url)
        sitemaps = [url for url in listed if self.on_site(url)]
        self.crawler.stats.set_value(DISCOVERY_ROBOTS_SITEMAPS, len(sitemaps))
        self.count_offsite(response.url, [url for url in listed if url not in sitemaps])
        if not sitemaps:
            logger.info(
                "No sitemap in robots.txt (status %s): walking the listings", response.status
            )
            yield self.home_request()
            return
        for url in sitemaps:
            yield from self.discovery_requests(url, self.parse_sitemap)

    def robots_failed(self, failure: Any) -> Iterator[Request]:
        record_failure(self.crawler, failure)
        logger.warning("robots.txt could not be fetched (%s): walking the listings", failure.value)
        yield self.home_request()

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        body = response.body
        stats = self.crawler.stats
        if response.url.endswith(".gz") or body[:2] == b"\x1f\x8b":
            limit = self.crawler.settings.getint("DOWNLOAD_MAXSIZE")
            try:
                body = gunzip(body, max_size=limit)
            except DecompressionMaxSizeExceeded:
                stats.inc_value(DISCOVERY_SITEMAP_TOO_BIG)
                logger.warning(
                    "Sitemap %s unpacks to more than DOWNLOAD_MAXSIZE (%d bytes): skipped",
                    response.url,
                    limit,
                )
                return
            except (OSError, EOFError, ValueError):  # not gzip, or cut short
                stats.inc_value(DISCOVERY_SITEMAP_INVALID)
                logger.warning("Sitemap %s is not valid gzip", response.url)
                return
        try:
            sitemap = Sitemap(body)
        except Exception:
            stats.inc_value(DISCOVERY_SITEMAP_INVALID)
            logger.warning("Sitemap %s could not be parsed", response.url)
            return
        offsite: list[str] = []
        entries = 0
        for entry in sitemap:
            entries += 1
            if entries > self.sitemap_max:
                continue  # counted: the protocol's limit
            loc = join_url(response.url, entry.get("loc", ""))
            if loc is None:
                continue
            if not self.on_site(loc):
                offsite.append(loc)
                continue
            if sitemap.type == "sitemapindex":
                yield from self.discovery_requests(loc, self.parse_sitemap)
            elif is_study_url(loc):
                stats.inc_value(DISCOVERY_SITEMAP_STUDIES)
                if not self.skip_unchanged(loc, entry.get("lastmod")):
                    yield from self.queue_study(loc)
        self.count_offsite(response.url, offsite)
        if entries > self.sitemap_max:
            cut = entries - self.sitemap_max
            stats.inc_value(DISCOVERY_SITEMAP_CUT, cut)
            logger.warning(
                "Sitemap %s lists %d URLs, over the sitemap protocol's limit of %d: "
                "the last %d were not read (SITEMAP_MAX_URLS)",
                response.url,
                entries,
                self.sitemap_max,
                cut,
            )
        if self.backlog is not None:
            yield from self.backlog.prime()

    def count_offsite(self, source: str, urls: list[str]) -> None:
        """Sitemap entries off the site's origin: never fetched, counted, one line per source."""
        if not urls:
            return
        self.crawler.stats.inc_value(DISCOVERY_SITEMAP_OFFSITE, len(urls))
        logger.warning(
            "%s lists %d URL(s) off the site's origin %s, not fetched (first: %s)",
            source,
            len(urls),
            self.site_url,
            urls[0],
        )

    def queue_study(self, url: str) -> Iterator[Request]:
        """A sitemap's study: into the backlog (marked as touched, so links do not fetch it
        ahead of its turn), or straight to the scheduler when there is no backlog."""
        if self.backlog is None:
            yield self.study_request(url)
            return
        study_id = study_id_from_url(url)
        if study_id:
            self.touched.add(study_id)
        yield from self.backlog.add(url)

    def parse_listing(self, response: Response) -> Iterator[Request]:
        if not isinstance(response, TextResponse):
            return
        for href in response.xpath("//a/@href").getall():
            try:
                url = response.urljoin(href)
            except ValueError:  # a malformed link (http://[...) costs the link, not the listing
                continue
            if not self.on_site(url):
                continue
            if is_study_url(url):
                yield self.study_request(url)
            elif is_listing_url(url):
                yield from self.discovery_requests(url, self.parse_listing)

    # --- study pages ----------------------------------------------------------
    def parse_study(self, response: Response, follow: bool = True) -> Iterator[Any]:
        page = self.study_page(response)
        if page is not None:
            yield from self.study_outputs(response, read_study(page, response.url), follow)

    async def parse_study_in_worker(
        self, response: Response, follow: bool = True
    ) -> AsyncIterator[Any]:
        """``parse_study`` with the page parsed by a worker process (``PARSE_WORKERS``; in this
        process when there is none: a request queued by a run that had them, resumed by one
        that has not)."""
        page = self.study_page(response)
        if page is None:
            return
        pool = self.parse_pool
        parsed = (
            await pool.read_study(page, response.url)
            if pool is not None
            else read_study(page, response.url)
        )
        for output in self.study_outputs(response, parsed, follow):
            yield output

    def study_page(self, response: Response) -> str | bytes | None:
        """What the study parser is to read of ``response``; None when it is not to be parsed
        (a 304, a gone page, not HTML: counted and recorded here)."""
        stats = self.crawler.stats
        if response.status == 304:
            self.page_fetched(response)
            stats.inc_value(INCREMENTAL_NOT_MODIFIED)
            return None
        if response.status in GONE_STATUSES:
            self.page_fetched(response)
            stats.inc_value(STUDIES_GONE.key(response.status))  # the store marks the row gone
            return None
        stats.inc_value(STUDY_PAGES)
        # A dropped page's validators are not kept: a soft 404 must not answer 304 next time.
        if not isinstance(response, TextResponse):
            stats.inc_value(PARSE_DROPPED.key("not_html"))
            logger.warning(
                "Not an HTML page at %s (%s)", response.url, response.headers.get("Content-Type")
            )
            return None
        return page_source(response)

    def study_outputs(
        self, response: Response, parsed: tuple[StudyItem | Drop, tuple[str, ...]], follow: bool
    ) -> Iterator[Any]:
        """The item and the requests of a parsed study page."""
        stats = self.crawler.stats
        result, notes = parsed
        for note in notes:
            stats.inc_value(PARSE_NOTES.key(note))
        if isinstance(result, Drop):
            stats.inc_value(PARSE_DROPPED.key(result.reason))
            logger.warning("Dropped %s: %s %s", response.url, result.reason, result.detail)
            return
        self.page_fetched(response, result)  # stored with the item, never before it
        stats.inc_value(PARSE_STUDIES)
        self.keep_site_scheme(result)
        yield result
        if follow:
            yield from self.follow_research(response, result)
        if self.threads is not None:
            for card in result.community_posts:
                request = self.threads.request(card.url) if card.url else None
                if request is not None:
                    yield request

    def follow_research(self, response: Response, item: StudyItem) -> Iterator[Request]:
        refs = [
            ref
            for ref in [*item.cited, *item.related]
            if ref.study_id not in self.touched  # requested already, or skipped as unchanged
            and ref.url
            and is_study_url(ref.url)
            and self.on_site(ref.url)
        ]
        if refs and self.touched.shared:
            refs = self.untouched_by_others(refs)
        for ref in refs:
            if ref.study_id not in self.touched and ref.url:  # a page may cite a study twice
                # The ref URL is canonical (https); fetch it on the site's own scheme and port.
                yield self.study_request(rebase_on_site(ref.url, self.site_url))

    def untouched_by_others(self, refs: list[ResearchRef]) -> list[ResearchRef]:
        """On a shared frontier: ``refs`` less the studies another worker touched. A study
        another worker skipped as unchanged was never requested, so the shared duplicate
        filter would not stop a request of it (as this process's own skips do)."""
        left = set(self.touched.untouched_if_known([ref.study_id for ref in refs if ref.study_id]))
        return [ref for ref in refs if not ref.study_id or ref.study_id in left]

    def keep_site_scheme(self, item: StudyItem) -> None:
        """The site's own URLs in the item on SITE_URL's scheme and port (a mirror over http)."""
        if self.site_url.startswith("https:"):
            return  # canonical URLs are https already
        if item.url:
            item.url = on_site_scheme(item.url, self.site_url)
        for ref in [*item.cited, *item.related]:
            if ref.url:
                ref.url = on_site_scheme(ref.url, self.site_url)

    def page_fetched(self, response: Response, item: StudyItem | None = None) -> None:
        crawler_signals.send_page_fetched(
            self.crawler,
            response,
            "study",
            study_id_from_url(response.url),
            canonical_url(response.url),
            item=item,
        )

    # --- helpers --------------------------------------------------------------
    def on_site(self, url: str) -> bool:
        """``url`` is on SITE_URL's origin: scheme, host and port
        (tressless_crawler.urls.Origins)."""
        return valid_url(url) and self.site_origins.allows(url)


def page_source(response: TextResponse) -> str | bytes:
    """What to hand the study parser: the body of a UTF-8 page, else the decoded text.

    The parser reads a UTF-8 body as it is (see ``tressless_crawler.parsers.lines.document_bytes``),
    so the page is not decoded only to be encoded again. A byte-order mark wins over the
    declared charset when Scrapy decodes, so a body starting with another one goes as text.
    """
    try:
        utf8 = codecs.lookup(response.encoding).name == "utf-8"
    except LookupError:
        utf8 = False
    if utf8 and read_bom(response.body)[0] in (None, "utf-8"):
        return response.body
    return response.text


def robots_sitemaps(text: str, base_url: str) -> list[str]:
    """The ``Sitemap:`` URLs of a robots.txt; a malformed one is skipped, never fatal."""
    urls = []
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == "sitemap" and value.strip():
            url = join_url(base_url, value)
            if url is not None:
                urls.append(url)
    return urls
