"""Prepares the database for a crawl and records the crawl in crawl_runs.

When the crawler is built (before anything is fetched) it creates or checks
the schema, takes the crawl lock for this spider and opens a crawl_runs row;
a failure there stops the crawl with a clear message and a non-zero exit. When
the spider closes, the row gets its status and numbers and the lock is released.
The workers of a distributed crawl share one lock (``tressless_crawler.db.locks``): the
first takes it, the others join it, the last to close releases it. While the
crawl runs, its row gets the figures so far every ``CRAWL_PROGRESS_SECONDS``,
so a process that dies (``kill -9``, a lost machine) leaves them behind.
If the database does not answer at that moment (a transient error), the closing
record goes to the store's spool instead, and ``scrapy db replay`` applies it
with the batches and releases the lock (which a new crawl would otherwise take
over only once it is ``CRAWL_LOCK_STALE_SECONDS`` old).

The database is the crawl's (:class:`tressless_crawler.db.crawl_database.CrawlDatabase`): the
recorder checks its schema and gives it the run id, which the store writes with.

Settings: ``DATABASE_URL``, ``CRAWL_LOCK_ENABLED``, ``CRAWL_LOCK_STALE_SECONDS``,
``CRAWL_PROGRESS_SECONDS``, ``SQLITE_BUSY_TIMEOUT``, ``SPOOL_DIR`` (or ``JOURNAL_DIR``), and
``REDIS_URL``/``CRAWL_ID`` for a distributed crawl.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from sqlalchemy import Engine
from twisted.internet import task
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThread

from tressless_crawler import defaults
from tressless_crawler import signals as crawler_signals
from tressless_crawler.db import locks, runs
from tressless_crawler.db.crawl_database import CrawlDatabase
from tressless_crawler.db.engine import is_transient, redact_url
from tressless_crawler.db.spool import SpoolWriter, spool_dir, spool_name
from tressless_crawler.distributed import mode as distributed
from tressless_crawler.distributed.inflight import live_workers
from tressless_crawler.exceptions import CrawlLocked, CrawlRefused, SchemaOutdated
from tressless_crawler.middlewares.charset import DECODER_VERSION
from tressless_crawler.redact import redact_value
from tressless_crawler.stats import (
    CRAWL_RUN_ID,
    CRAWL_RUN_STATUS,
    STORE_JOURNAL_PATH,
    STORE_JOURNALED_ITEMS,
)

logger = logging.getLogger(__name__)

# Settings worth keeping with a run (credentials are redacted).
RECORDED_SETTINGS = (
    "SITE_URL",
    "DATABASE_URL",
    "REDIS_URL",
    "COMMUNITY_HOSTS",
    "CONCURRENT_REQUESTS",
    "CONCURRENT_REQUESTS_PER_DOMAIN",
    "DOWNLOAD_DELAY",
    "AUTOTHROTTLE_ENABLED",
    "ROBOTSTXT_OBEY",
    "USER_AGENT",
    "JOBDIR",
)
RUN_ID_STAT = CRAWL_RUN_ID  # the names of tressless_crawler.stats, kept for importers
RUN_STATUS_STAT = CRAWL_RUN_STATUS
# What close_run returns when the run's end could not be written, only spooled.
SPOOLED = "spooled"


class CrawlRunRecorder:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        database = CrawlDatabase.of(crawler)
        if database is None:
            raise NotConfigured("DATABASE_URL is not set")
        self.database = database
        self.database_url: str = database.url
        self.name: str = getattr(crawler.spidercls, "name", "") or "crawl"
        self.use_lock = defaults.getbool(settings, "CRAWL_LOCK_ENABLED")
        self.stale_after = defaults.getfloat(settings, "CRAWL_LOCK_STALE_SECONDS")
        # A distributed worker holds the lock with the other workers of its crawl.
        self.frontier = (
            distributed.FrontierKeys.crawl(settings) if distributed.enabled(settings) else None
        )
        self.spool_dir = spool_dir(settings)
        self.engine = database.engine
        self.progress_every = max(0.0, defaults.getfloat(settings, "CRAWL_PROGRESS_SECONDS"))
        self.heartbeat: task.LoopingCall | None = None
        self.progress: task.LoopingCall | None = None
        self.status: str | None = None  # how the run ended, once it has
        self.closing = False  # spider_closed has begun: it ends the run
        self.run_id = self.prepare()
        database.run_id = self.run_id

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunRecorder:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.worker_lost, signal=crawler_signals.worker_lost)
        return ext

    def prepare(self) -> int:
        """Schema, lock, run row: done before the crawl starts, so a refusal stops it."""
        where = redact_url(self.database_url)
        now = runs.utcnow()
        try:
            self.database.ensure_schema()
            if self.use_lock:
                self.take_lock(now)
        except (SchemaOutdated, CrawlLocked) as exc:
            self.database.close()
            logger.error("Crawl refused on %s: %s", where, exc)
            raise CrawlRefused(str(exc)) from exc
        run_id = runs.start_run(self.engine, self.name, self.recorded_settings(), now)
        if self.use_lock:
            locks.attach_run(self.engine, self.name, run_id)
        logger.info("Crawl run %d of '%s' started on %s", run_id, self.name, where)
        return run_id

    def take_lock(self, now: datetime) -> None:
        acquired = locks.acquire(self.engine, self.name, now, self.stale_after, self.frontier)
        previous = acquired.previous
        if previous is not None:
            logger.warning(
                "Took over the crawl lock of a dead '%s' crawl (pid %s on %s, run %s)",
                self.name,
                previous.pid,
                previous.host,
                previous.run_id,
            )
        if acquired.joined:
            logger.info("Joined the crawl lock of the distributed crawl %s", self.frontier)
        if acquired.interrupted:
            logger.warning(
                "%d earlier '%s' run(s) had died without closing: marked interrupted",
                acquired.interrupted,
                self.name,
            )

    def last_worker(self) -> bool:
        """True unless other live workers of this distributed crawl still hold the lock.

        The scheduler left the frontier before spider_closed, so the last worker to close
        sees none; when Redis does not answer, the lock is kept (it goes stale on its own).
        """
        if self.frontier is None:
            return True
        keys = distributed.FrontierKeys.for_spider(self.crawler.settings, self.name)
        server = distributed.redis_client(self.crawler.settings)
        try:
            return live_workers(server, keys) == 0
        except Exception as exc:
            logger.warning("Cannot tell whether other workers still run (%s): lock kept", exc)
            return False
        finally:
            server.close()

    def recorded_settings(self) -> dict[str, Any]:
        settings = self.crawler.settings
        recorded: dict[str, Any] = {}
        for name in RECORDED_SETTINGS:
            value = settings.get(name)
            value = (
                value if isinstance(value, (str, int, float, bool)) or value is None else str(value)
            )
            recorded[name] = redact_value(value)  # credentials in any URL or option
        # Pages read by an older decoder are refetched (tressless_crawler.incremental.known).
        recorded["DECODER_VERSION"] = DECODER_VERSION
        return recorded

    def spider_opened(self, spider: Spider) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.set_value(RUN_ID_STAT, self.run_id)
        if self.use_lock:
            self.heartbeat = task.LoopingCall(self.beat)
            self.heartbeat.start(max(1.0, self.stale_after / 4), now=False)
        if self.progress_every:
            self.progress = task.LoopingCall(self.record_progress)
            self.progress.start(self.progress_every, now=False)

    def beat(self) -> Deferred:
        d = deferToThread(locks.heartbeat, self.engine, self.name, runs.utcnow(), self.frontier)
        d.addErrback(lambda f: logger.warning("Crawl lock heartbeat failed: %s", f.value))
        return d

    def record_progress(self) -> Deferred:
        """The run's figures so far into its row (in a thread: the reactor never waits)."""
        assert self.crawler.stats is not None
        stats = dict(self.crawler.stats.get_stats())
        d = deferToThread(runs.record_progress, self.engine, self.run_id, stats)
        d.addErrback(lambda f: logger.warning("Could not record the crawl's progress: %s", f.value))
        return d

    def worker_lost(self, worker: str, requeued: int) -> None:
        """Another worker of this distributed crawl died: its run row says so, not "running".

        Rare and one short UPDATE, so it runs here rather than in a thread; a database that
        does not answer costs only the mark (``scrapy report`` then shows the run running).
        """
        try:
            marked = runs.mark_worker_lost(self.engine, self.name, worker, runs.utcnow())
        except Exception as exc:
            logger.warning("Could not mark the run of dead worker %s interrupted: %s", worker, exc)
            return
        if marked:
            logger.warning(
                "Crawl run of worker %s marked interrupted (worker_lost; %d request(s) requeued)",
                worker,
                requeued,
            )

    def abandon(self, reason: str) -> None:
        """The run's end when the crawl failed before spider_closed (see :func:`abandon_run`)."""
        if self.closing or self.status is not None:
            return
        for loop in (self.heartbeat, self.progress):
            if loop is not None and loop.running:
                loop.stop()
        stats = dict(self.crawler.stats.get_stats()) if self.crawler.stats is not None else {}
        try:
            self.status = close_run(
                self.engine,
                self.name,
                self.run_id,
                reason,
                stats,
                runs.utcnow(),
                use_lock=self.use_lock and self.last_worker(),
                spool_dir=self.spool_dir,
                frontier=self.frontier,
            )
        except Exception as exc:  # the crawl's own error is what the user reads
            logger.warning("Could not close crawl run %d: %s", self.run_id, exc)
            return
        finally:
            self.database.close()
        logger.info("Crawl run %d %s (%s)", self.run_id, self.status, reason)

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        self.closing = True
        for loop in (self.heartbeat, self.progress):
            if loop is not None and loop.running:
                loop.stop()
        assert self.crawler.stats is not None
        stats = dict(self.crawler.stats.get_stats())
        run_id = self.run_id

        def finish() -> str:
            release = self.use_lock and self.last_worker()
            return close_run(
                self.engine,
                self.name,
                run_id,
                reason,
                stats,
                runs.utcnow(),
                use_lock=release,
                spool_dir=self.spool_dir,
                frontier=self.frontier,
            )

        def finished(status: str) -> None:
            # How the run ended, also when its row could only be spooled (SPOOLED).
            self.status = runs.run_status(reason, stats) if status == SPOOLED else status
            assert self.crawler.stats is not None
            self.crawler.stats.set_value(RUN_STATUS_STAT, self.status)
            if status == runs.FINISHED_WITH_SPOOL:
                logger.error(
                    "Crawl run %d %s: %s item(s) could not be stored and are in the spool %s "
                    "(load them with `scrapy db replay`)",
                    run_id,
                    status,
                    stats.get(STORE_JOURNALED_ITEMS, 0),
                    stats.get(STORE_JOURNAL_PATH, self.spool_dir),
                )
            else:
                logger.info("Crawl run %d %s (%s)", run_id, status, reason)

        status = await maybe_deferred_to_future(deferToThread(finish))
        finished(status)
        # How the run ended, for the exit code of `scrapy crawl` (tressless_crawler.cli.outcome).
        if self.crawler.stats.get_value(RUN_STATUS_STAT) is None:
            self.crawler.stats.set_value(RUN_STATUS_STAT, status)


def abandon_run(crawler: Crawler, reason: str = "start_error") -> None:
    """End the run of a crawl that failed before its spider closed (a component that could not
    be made, a class path that does not import): without this its row would stay "running"
    and its lock held until the next crawl found them. Called by ``scrapy crawl`` once the
    crawl is over; a recorder whose spider closed has ended its run already."""
    try:
        extensions = crawler.extensions
    except (AttributeError, RuntimeError):  # failed before the extensions were made: no run
        return
    for recorder in getattr(extensions, "middlewares", ()):
        if isinstance(recorder, CrawlRunRecorder):
            recorder.abandon(reason)


def close_run(
    engine: Engine,
    spider: str,
    run_id: int,
    reason: str,
    stats: dict[str, Any],
    now: datetime,
    *,
    use_lock: bool,
    spool_dir: Path | str,
    frontier: str | None = None,
) -> str:
    """Finish the run's row and release the lock (``use_lock``; with ``frontier``, the
    distributed crawl's); spool the row's update if the database is down. Returns the run's
    status, or SPOOLED."""
    try:
        status = runs.finish_run(engine, run_id, reason, stats, now)
    except Exception as exc:
        if not is_transient(exc):
            raise
        spool = SpoolWriter(spool_dir, spool_name(spider, run_id))
        try:
            spool.append(
                {
                    "run_id": run_id,
                    "crawled_at": now.isoformat(),
                    "items": 0,
                    "run_finish": {"reason": reason, "stats": runs.jsonable_stats(stats)},
                }
            )
        finally:
            spool.close()
        logger.error(
            "The database did not take the end of crawl run %d (%s): it is in the spool %s "
            "(load it with `scrapy db replay`)",
            run_id,
            str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200],
            spool.path,
        )
        return SPOOLED
    if use_lock:
        locks.release(engine, spider, frontier)
    return status
