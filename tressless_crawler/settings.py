"""Scrapy settings for the crawler.

This is the one module that reads the environment. Everything here can be
overridden per run with ``-s NAME=value``.
"""

from __future__ import annotations

import os

BOT_NAME = "tressless-crawler"
SPIDER_MODULES = ["tressless_crawler.spiders"]
NEWSPIDER_MODULE = "tressless_crawler.spiders"
COMMANDS_MODULE = "tressless_crawler.commands"

# --- What to crawl, where to store it --------------------------------------
# The site's root. Tests and the demo point it at a site served on 127.0.0.1.
SITE_URL = os.environ.get("CRAWLER_SITE_URL", "https://tressless.com")
# SQLAlchemy URL: SQLite by default, postgresql+psycopg://user@host/db for real deployments.
DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///data/crawler.db")
# Set to redis://host:6379/0 to share one crawl frontier between processes (scrapy-redis).
REDIS_URL = os.environ.get("REDIS_URL", "")
# Hosts whose community threads may be fetched (robots.txt is obeyed there too).
COMMUNITY_HOSTS = os.environ.get(
    "CRAWLER_COMMUNITY_HOSTS", "tressless.com,www.tressless.com,www.reddit.com,old.reddit.com"
)
# Requests one thread may make to expand its "more" stubs (docs/community.md); 0: none.
COMMUNITY_MAX_MORE_REQUESTS = 500

# --- Politeness (the real site is small) -----------------------------------
USER_AGENT = "tressless-crawler/0.1 (+https://github.com/tressless-crawler/tressless-crawler)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024  # a study page is ~100 KB; refuse absurd bodies
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
# URLs read from one sitemap (the sitemap protocol's limit); the rest are counted and logged.
SITEMAP_MAX_URLS = 50_000
# Sitemap studies handed to the scheduler at a time, the rest waiting as URLs
# (tressless_crawler.spiders.backlog); 0: max(64, 2 * CONCURRENT_REQUESTS).
BACKLOG_BATCH = 0
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# Scrapy's list without the Twisted client's TunnelError, which the aiohttp client never raises
# and whose module (Twisted's TLS stack) every crawl would import for it (docs/http-client.md).
RETRY_EXCEPTIONS = [
    "scrapy.exceptions.CannotResolveHostError",
    "scrapy.exceptions.DownloadConnectionRefusedError",
    "scrapy.exceptions.DownloadFailedError",
    "scrapy.exceptions.DownloadTimeoutError",
    "scrapy.exceptions.ResponseDataLossError",
    "twisted.internet.error.ConnectionDone",
    "twisted.internet.error.ConnectError",
    "twisted.internet.error.ConnectionLost",
    "builtins.OSError",  # an empty body the compression middleware cannot unpack
]
# Retries wait (tressless_crawler.middlewares.backoff): the server's Retry-After, capped at
# RETRY_AFTER_MAX,
# else RETRY_BACKOFF_BASE * 2^(n-1) s (at most RETRY_BACKOFF_MAX) with jitter.
RETRY_BACKOFF_BASE = 1.0
RETRY_BACKOFF_MAX = 60.0
RETRY_AFTER_MAX = 120.0
# A request that finally fails is counted (failures/<reason>) and logged once by the spiders.
RETRY_GIVE_UP_LOG_LEVEL = "DEBUG"
REDIRECT_MAX_TIMES = 5
# Spider middlewares that do nothing for these spiders cost CPU on every request: the Referer
# header (no site needs it), request depth (no DEPTH_LIMIT), meta-copy warnings.
REFERER_ENABLED = False
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
}
# http(s) through aiohttp (docs/http-client.md: a tenth less CPU per page than Twisted's
# client); Scrapy's other download handlers are off, as only http(s) is ever fetched.
DOWNLOAD_HANDLERS = {
    "http": "tressless_crawler.http_client.AiohttpClient",
    "https": "tressless_crawler.http_client.AiohttpClient",
    "ftp": None,
    "file": None,
    "s3": None,
    "data": None,
}
DOWNLOADER_MIDDLEWARES = {
    # http(s) only; redirected requests stay on the allowed hosts (before robots.txt and offsite).
    "tressless_crawler.middlewares.guard.RequestGuardMiddleware": 40,
    # robots.txt checked for every request, also those that wait for it together (Scrapy's own
    # lets all but the first through unchecked, scrapy/scrapy#6802).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "tressless_crawler.middlewares.robots.ConcurrentSafeRobotsTxtMiddleware": 100,
    # Retries that wait, in place of Scrapy's immediate ones.
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "tressless_crawler.middlewares.backoff.BackoffRetryMiddleware": 550,
    # Text from pages whose declared charset is wrong (after decompression, 590).
    "tressless_crawler.middlewares.charset.CharsetRepairMiddleware": 585,
    # Meta-refresh redirects, found without decoding pages that have none.
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "tressless_crawler.middlewares.meta_refresh.BodyMetaRefreshMiddleware": 580,
    # Scrapy's 3xx redirects, without looking for the referer middleware that is off.
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "tressless_crawler.middlewares.redirects.RedirectMiddleware": 600,
    # Refuses redirects off the allowed hosts, to other schemes or in loops, before 600 follows.
    "tressless_crawler.middlewares.guard.RedirectGuardMiddleware": 610,
    # Every response as fetched, into the WARC archive (only with ARCHIVE=warc).
    "tressless_crawler.archive.middleware.ArchiveMiddleware": 950,
}
# A page whose charset is not declared (or evidently wrong, and not UTF-8) is read as this,
# as browsers do for English pages (tressless_crawler.middlewares.charset).
CHARSET_FALLBACK = "cp1252"
# Cache while developing: HTTPCACHE_ENABLED=1 keeps responses under .scrapy/httpcache.
HTTPCACHE_ENABLED = os.environ.get("CRAWLER_HTTPCACHE", "") == "1"
HTTPCACHE_EXPIRATION_SECS = 24 * 3600

# --- Archive (tressless_crawler.archive, docs/archive.md) --------------------------------
# "warc" writes every response and its request to gzipped WARC files under ARCHIVE_DIR,
# a new file once one reaches ARCHIVE_MAX_SIZE bytes; `scrapy reparse` reads them back.
ARCHIVE = os.environ.get("CRAWLER_ARCHIVE", "")
ARCHIVE_DIR = "data/archive"
ARCHIVE_MAX_SIZE = 1_000_000_000
ARCHIVE_COMPRESS_LEVEL = 1  # 1-3 ISA-L, 4-9 zlib: 6 gives 15 % smaller files for 9x the CPU

# --- Items ------------------------------------------------------------------
ITEM_PIPELINES = {
    "tressless_crawler.pipelines.normalize.NormalizePipeline": 100,
    "tressless_crawler.pipelines.validate.ValidatePipeline": 200,
    "tressless_crawler.pipelines.dedupe.DedupePipeline": 300,
    "tressless_crawler.pipelines.store.StorePipeline": 800,
}
# Scrapy starts this many tasks for the output of every callback (default 100): a study page
# yields one item and a few requests; 4 costs 45 us less per page than 16 (benchmarks/peers.md).
CONCURRENT_ITEMS = 4
# Worker processes that parse study pages (tressless_crawler.spiders.parse_worker): 0 parses
# them in the crawl's own process; "auto" starts one where a second core is free and the crawl
# is not paced (AutoThrottle off, no DOWNLOAD_DELAY): there the parse bounds its speed.
PARSE_WORKERS = "auto"
# Items buffered before one transaction writes them.
STORE_BATCH_SIZE = 500
# ... and the longest an item waits for its batch (s): what a crawl killed at a polite pace loses.
STORE_FLUSH_SECONDS = 5.0
# A batch that fails on a transient database error is retried this many times, waiting
# STORE_RETRY_BACKOFF s, then twice that, ...; then it goes to a spool file in SPOOL_DIR
# (one per run) and `scrapy db replay` loads it later. JOURNAL_DIR, the setting's former name,
# is still honoured where it is set instead (tressless_crawler.db.spool.spool_dir).
STORE_RETRY_TIMES = 3
STORE_RETRY_BACKOFF = 1.0
SPOOL_DIR = "data/journal"
# How long a SQLite write waits for another process's lock before the batch counts as failed (s).
SQLITE_BUSY_TIMEOUT = 30.0

# --- Engine -----------------------------------------------------------------
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
# Scrapy's scheduler; with JOBDIR it distrusts a queue and seen-set left by an unclean stop.
SCHEDULER = "tressless_crawler.runs.jobdir.ResumableScheduler"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = os.environ.get("CRAWLER_LOG_LEVEL", "INFO")
# Scrapy's dumps (versions, settings, components at the start, stats at the end): DEBUG
# unless this is on (tressless_crawler.cli.startup_log). The stats stay in crawl_runs and `scrapy
# report`.
LOG_DUMPS = False
# A dropped item is logged as one line with its reason, not with the whole item.
LOG_FORMATTER = "tressless_crawler.cli.logformatter.ShortLogFormatter"
# A live progress bar on stderr while crawling: "auto" (only on a terminal), True, False.
CRAWL_PROGRESS_BAR = "auto"
TELNETCONSOLE_ENABLED = False
# Nor Scrapy's remote-control HTTP server (code execution on a local port; a server and a job
# file in the user's profile directory at every start).
REMOTE_CONTROL_ENABLED = False

# --- Bookkeeping --------------------------------------------------------------
# Scrapy's in-memory stats without its per-access deprecation wrapper (runs/stats_collector.py).
STATS_CLASS = "tressless_crawler.runs.stats_collector.CrawlStatsCollector"
EXTENSIONS = {
    # Off (REMOTE_CONTROL_ENABLED above), and not even imported: it loads aiohttp's web server.
    "scrapy.extensions.remote_control.RemoteControl": None,
    # Scrapy's feed exports only when FEEDS (or -o) asks for one: a receiver less per item.
    "scrapy.extensions.feedexport.FeedExporter": None,
    "tressless_crawler.export.feeds.FeedsWhenAsked": 0,
    # Before the recorder: its fill counts are in the stats the recorder keeps at the end.
    "tressless_crawler.runs.report_log.CrawlReport": 490,
    "tressless_crawler.runs.recorder.CrawlRunRecorder": 500,
    "tressless_crawler.runs.progress.ProgressBar": 520,
}
# One crawl per spider and database at a time; a dead holder's lock is stale after this.
CRAWL_LOCK_ENABLED = True
CRAWL_LOCK_STALE_SECONDS = 120.0
# A running crawl's crawl_runs row gets its figures so far this often (0: only at the end).
CRAWL_PROGRESS_SECONDS = 30.0
# The crawl report at the end of a crawl's log (tressless_crawler.runs.report_log).
CRAWL_REPORT_ENABLED = True
# Incremental crawls refetch (conditionally) pages not seen for this long, whatever lastmod says.
INCREMENTAL_MAX_AGE_DAYS = 30.0

# --- Several processes, one frontier (only with REDIS_URL) ---------------------
# The add-on switches to scrapy-redis when REDIS_URL is set and does nothing otherwise.
ADDONS = {
    # Masks URL passwords (DATABASE_URL, REDIS_URL) in every log line, settings dump included.
    "tressless_crawler.redact.RedactCredentials": -100,
    "tressless_crawler.distributed.mode.DistributedCrawl": 0,
}
# Redis keys are <prefix>:<crawl id>:<spider>:...;
# concurrent crawls of one spider need distinct ids.
REDIS_KEY_PREFIX = "tressless-crawler"
CRAWL_ID = "default"
# Requests per second per host, over all workers together (0 turns the shared limit off).
SHARED_RATE_LIMIT = 1.0
# A worker exits once the shared frontier has been empty, with nothing in flight, this long (s).
REDIS_IDLE_TIMEOUT = 60
# A worker silent this long (s) is dead: its requests in flight go back to the queue.
FRONTIER_WORKER_TTL = 30
