"""The crawler's stats keys, declared in one place.

Every stats key the crawler's components write is declared here, as a constant (``STORE_NEW``)
or, when part of it varies (a drop reason, an HTTP status), as a :class:`Family`
(``PARSE_DROPPED.key(reason)``). Stats are an interface: a run keeps them in
``crawl_runs.stats``, ``scrapy report`` reads them, and some ``crawl_runs`` columns are taken
from them (:data:`RUN_COLUMNS`, :data:`DROP_MARKER`). Keys of Scrapy's own that the crawler
reads are declared at the end. ``tests/unit/test_stats_keys.py`` checks that no component
writes a key given as a literal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

KEYS: dict[str, str] = {}  # key -> what it counts
FAMILIES: dict[str, Family] = {}  # template -> family


@dataclass(frozen=True)
class Family:
    """Keys made from a template, ``{}`` standing for each varying part."""

    template: str
    meaning: str
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = (re.escape(part) for part in self.template.split("{}"))
        object.__setattr__(self, "pattern", re.compile("[^/]+?".join(parts) + r"\Z"))

    def key(self, *parts: object) -> str:
        return self.template.format(*parts)

    @property
    def prefix(self) -> str:
        """What every key of the family starts with."""
        return self.template.split("{}", 1)[0]

    def matches(self, key: str) -> bool:
        return self.pattern.match(key) is not None


def _key(key: str, meaning: str) -> str:
    KEYS[key] = meaning
    return key


def _family(template: str, meaning: str) -> Family:
    family = FAMILIES[template] = Family(template, meaning)
    return family


def is_declared(key: str) -> bool:
    """The key is one of the crawler's (a constant, or of a family)."""
    return key in KEYS or any(family.matches(key) for family in FAMILIES.values())


# --- The crawl run (tressless_crawler.runs.recorder) -------------------------------------------
CRAWL_RUN_ID = _key("crawl_run/id", "the crawl's crawl_runs.id")
CRAWL_RUN_STATUS = _key("crawl_run/status", "crawl_runs.status, set when the spider closes")

# --- Discovery and incremental crawls (tressless_crawler.spiders.studies) ----------------------
DISCOVERY_ROBOTS_SITEMAPS = _key("discovery/robots_sitemaps", "sitemaps robots.txt names")
DISCOVERY_SITEMAP_STUDIES = _key("discovery/sitemap_studies", "study URLs read from sitemaps")
DISCOVERY_SITEMAP_TOO_BIG = _key("discovery/sitemap_too_big", "sitemaps over DOWNLOAD_MAXSIZE")
DISCOVERY_SITEMAP_INVALID = _key("discovery/sitemap_invalid", "sitemaps that are not XML")
DISCOVERY_SITEMAP_CUT = _key("discovery/sitemap_cut", "sitemap URLs past SITEMAP_MAX_URLS")
DISCOVERY_SITEMAP_OFFSITE = _key("discovery/sitemap_offsite", "sitemap URLs off the site")
INCREMENTAL_REFETCH = _family("incremental/refetch_{}", "known studies refetched, by why")
INCREMENTAL_SKIPPED_LASTMOD = _key(
    "incremental/skipped_lastmod", "studies not fetched: unchanged lastmod"
)
INCREMENTAL_NOT_MODIFIED = _key("incremental/not_modified", "study pages answering 304")
INCREMENTAL_SWEPT = _key("incremental/swept", "known studies not in any sitemap, refetched")
INCREMENTAL_SWEPT_THREADS = _key(
    "incremental/swept_threads", "threads known from cards only, fetched"
)
BACKLOG_MAX = _key("backlog/max", "most sitemap studies waiting as URLs at once")

# --- Parsing (the spiders, tressless_crawler.archive for reparse) -------------------------------
STUDY_PAGES = _key("parse/study_pages", "study pages fetched with a body to parse")
PARSE_STUDIES = _key("parse/studies", "study pages parsed into an item")
PARSE_THREADS = _key("parse/threads", "thread pages parsed into an item")
PARSE_DROPPED = _family("parse/dropped/{}", "pages dropped by the parsers, by reason")
PARSE_NOTES = _family("parse/notes/{}", "what the study parser noticed on kept pages")
STUDIES_GONE = _family("studies/gone/{}", "study pages answering 404 or 410, by status")

# --- Community threads (tressless_crawler.spiders.community) -----------------------------------
COMMUNITY_NOT_MODIFIED = _key("community/not_modified", "thread pages answering 304")
COMMUNITY_GONE = _family("community/gone/{}", "thread pages answering 404 or 410, by status")
COMMUNITY_DUPLICATE_THREAD_URL = _key(
    "community/duplicate_thread_url", "thread URLs requested once for several cards"
)
COMMUNITY_SKIPPED_HOST = _key("community/skipped_host", "threads on hosts not COMMUNITY_HOSTS")
MORE_REQUESTS = _key("community/more/requests", "requests expanding 'more' stubs")
MORE_CAPPED = _key("community/more/capped", "threads that reached COMMUNITY_MAX_MORE_REQUESTS")
MORE_STUBS_LEFT = _key("community/more/stubs_left", "'more' stubs left unexpanded")
MORE_KEPT = _key("community/more/kept", "comments already stored, not asked for again")
MORE_FAILED = _key("community/more/failed", "expansion requests that failed")
MORE_DROPPED = _family("community/more/dropped/{}", "expansion answers dropped, by reason")
MORE_COMMENTS = _key("community/more/comments", "comments brought by expansions")

# --- Item pipelines ----------------------------------------------------------------------------
NORMALIZE_PUBLISHED_UNPARSED = _key(
    "normalize/published_unparsed", "publication dates that could not be read"
)
NORMALIZE_AGE_UNPARSED = _key("normalize/age_unparsed", "card ages that could not be read")
VALIDATE_PASSED = _key("validate/passed", "items that passed validation")
VALIDATE_DROPPED = _family("validate/dropped/{}", "items dropped by validation, by problem")
DEDUPE_DROPPED = _family("dedupe/dropped/duplicate_{}", "duplicate items dropped, by kind")

# --- The store (tressless_crawler.pipelines.store, tressless_crawler.db.batch) -----------------
STORE_NEW = _key("store/new", "items stored for the first time (crawl_runs.items_new)")
STORE_UPDATED = _key("store/updated", "stored items that changed (crawl_runs.items_updated)")
STORE_UNCHANGED = _key(
    "store/unchanged", "stored items found unchanged (crawl_runs.items_unchanged)"
)
STORE_KIND = _family("store/{}/{}", "studies, threads, comments: new, updated, unchanged, gone")
STORE_GONE = _key("store/gone", "rows marked gone (404/410)")
STORE_PAGES = _key("store/pages", "page records (HTTP validators) stored")
STORE_BATCHES = _key("store/batches", "batches written")
STORE_BATCH_FAILED = _key("store/batch_failed", "failed attempts to write a batch")
STORE_RETRIES = _key("store/retries", "batches written again after a transient error")
STORE_JOURNALED = _key("store/journaled", "batches written to the journal")
STORE_JOURNALED_ITEMS = _key("store/journaled_items", "items in those batches")
STORE_JOURNAL_PATH = _key("store/journal_path", "the run's journal file")
STORE_ITEMS_LOST = _key("store/items_lost", "items neither stored nor journaled")
STORE_REPLAYED_ITEMS = _key("store/replayed_items", "journaled items `scrapy db replay` loaded")
STORE_IGNORED = _family("store/ignored/{}", "items of other classes, passed on unstored")

# --- The crawl report (tressless_crawler.runs.report_log) --------------------------------------
FILL = _family("fill/{}/{}", "items of a kind with the field filled (_items: items)")
FILL_ITEMS = "_items"  # the field part of the count of items

# --- Failures and retries (tressless_crawler.middlewares) ------------------------------------
FAILURES_COUNT = _key("failures/count", "requests that finally failed")
FAILURES = _family("failures/{}", "requests that finally failed, by reason")
GUARD = _family("guard/{}", "requests and redirects the guards refused, by reason")
RETRY_WAIT_COUNT = _family("retry/{}/count", "retries waiting for retry_after or backoff")
RETRY_WAIT_MS = _key("retry/wait_ms", "milliseconds retries waited")
RETRY_HOST_PAUSED_COUNT = _key("retry/host_paused/count", "requests held by a paused host")
RETRY_HOST_PAUSED_WAIT_MS = _key("retry/host_paused/wait_ms", "milliseconds they were held")
RETRY_HOST_PAUSED_SLOT_HELD = _key("retry/host_paused/slot_held", "slots held for a pause")
CHARSET_INVALID_BYTES = _key("charset/invalid_bytes", "invalid bytes in UTF-8 pages")
CHARSET_PAGES_WITH_INVALID_BYTES = _key(
    "charset/pages_with_invalid_bytes", "UTF-8 pages with invalid bytes"
)
CHARSET_REPAIRED = _key("charset/repaired", "pages read in another charset than declared")
CHARSET_REPAIRED_AS = _family("charset/repaired/{}", "those pages, by the charset read")

# --- Distributed crawls (tressless_crawler.distributed) -------------------------------------------
SCHEDULER_ENQUEUED_REDIS = _key("scheduler/enqueued/redis", "requests put on the frontier")
SCHEDULER_DEQUEUED_REDIS = _key("scheduler/dequeued/redis", "requests taken from the frontier")
FRONTIER_UNDECODABLE = _key("frontier/undecodable", "frontier entries that could not be read")
FRONTIER_CONFIRMED = _key("frontier/confirmed", "requests confirmed done on the frontier")
FRONTIER_REQUEUED = _key("frontier/requeued", "requests of dead workers put back")
FRONTIER_HEARTBEAT_MISSED = _key("frontier/heartbeat_missed", "heartbeats Redis did not take")
FRONTIER_IDLE_CLOSE_AFTER = _key("frontier/idle_close_after", "seconds idle before closing")
RATELIMIT_REQUESTS = _key("ratelimit/requests", "requests through the shared rate limit")
RATELIMIT_DELAYED = _key("ratelimit/delayed", "requests it delayed")
RATELIMIT_WAIT_MS = _key("ratelimit/wait_ms", "milliseconds they waited")

# --- The archive and reparse (tressless_crawler.archive) ---------------------------------------
ARCHIVE_RECORDS = _key("archive/records", "responses archived")
ARCHIVE_BYTES = _key("archive/bytes", "bytes of the archived bodies")
ARCHIVE_FAILED = _key("archive/failed", "responses that could not be archived")
ARCHIVE_FILES = _key("archive/files", "WARC files written")
REPARSE_FILES = _key("reparse/files", "WARC files read")
REPARSE_RECORDS = _key("reparse/records", "records in them")
REPARSE_TORN_FILES = _key("reparse/torn_files", "files cut short")
REPARSE_DAMAGED_RECORDS = _key(
    "reparse/damaged_records", "indexed records that no longer read (skipped)"
)
REPARSE_CHOSEN = _key("reparse/chosen", "pages chosen to parse (the latest of each URL)")
REPARSE_WORKER_CPU_SECONDS = _key("reparse/worker_cpu_seconds", "CPU time of the workers")
REPARSE_MAIN_CPU_SECONDS = _key("reparse/main_cpu_seconds", "CPU time of the main process's loop")
REPARSE_START_METHOD = _key("reparse/start_method", "how the workers started: fork, forkserver")
REPARSE_PAGES = _key("reparse/pages", "pages parsed")
REPARSE_EXPANDED_STUBS = _key("reparse/expanded_stubs", "'more' stubs expanded from the archive")

# --- crawl_runs columns taken from the stats (tressless_crawler.db.runs.run_summary) ------------
# Scrapy's own keys the crawler reads.
SCRAPY_RESPONSES = "response_received_count"
SCRAPY_ITEMS_SCRAPED = "item_scraped_count"
SCRAPY_ERRORS = "log_count/ERROR"
SCRAPY_FINISH_REASON = "finish_reason"
SCRAPY_ELAPSED = "elapsed_time_seconds"

RUN_COLUMNS: dict[str, str] = {
    "pages_fetched": SCRAPY_RESPONSES,
    "items_new": STORE_NEW,
    "items_updated": STORE_UPDATED,
    "items_unchanged": STORE_UNCHANGED,
    "errors": SCRAPY_ERRORS,
}
# crawl_runs.items_dropped: every count whose key has this in it (parse/, validate/, dedupe/...).
DROP_MARKER = "/dropped/"
