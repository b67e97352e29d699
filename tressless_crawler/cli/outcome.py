"""How a crawl ended, as an exit code and, unless it went well, one line for the user.

cron and Scrapyd only see the exit code, so a crawl that fetched nothing must not end 0:
the codes are in :mod:`tressless_crawler.exit_codes` and ``docs/operations.md``.
Settings: ``SITE_URL`` (named in the message), ``REDIS_URL`` (a distributed worker may find
nothing left to do).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcessBase
from twisted.internet.defer import Deferred

from tressless_crawler.cli.errors import Problem, explain
from tressless_crawler.db.runs import FINISHED_WITH_SPOOL
from tressless_crawler.exit_codes import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_NOTHING_FOUND,
    EXIT_OK,
    EXIT_SPOOLED,
    EXIT_UNREACHABLE,
)
from tressless_crawler.runs.recorder import SPOOLED
from tressless_crawler.stats import (
    COMMUNITY_GONE,
    COMMUNITY_NOT_MODIFIED,
    CRAWL_RUN_STATUS,
    FAILURES,
    FAILURES_COUNT,
    INCREMENTAL_NOT_MODIFIED,
    INCREMENTAL_SKIPPED_LASTMOD,
    PARSE_DROPPED,
    SCRAPY_FINISH_REASON,
    SCRAPY_ITEMS_SCRAPED,
    SCRAPY_RESPONSES,
    STORE_JOURNALED,
    STUDIES_GONE,
)

INTERRUPTED_REASONS = ("shutdown", "cancelled")
SPOOLED_STATUSES = (FINISHED_WITH_SPOOL, SPOOLED)
# Stats that say the crawl had something to do even when no item came out of it.
WORK_STATS = (
    SCRAPY_ITEMS_SCRAPED,
    "item_dropped_count",
    INCREMENTAL_SKIPPED_LASTMOD,
    INCREMENTAL_NOT_MODIFIED,
    COMMUNITY_NOT_MODIFIED,
)
WORK_PREFIXES = (STUDIES_GONE.prefix, COMMUNITY_GONE.prefix, PARSE_DROPPED.prefix)
GONE_PREFIXES = (STUDIES_GONE.prefix, COMMUNITY_GONE.prefix)
WHAT = {"studies": "study", "community": "thread"}


@dataclass
class CrawlWatch:
    """What one crawl left behind: the exception that stopped it, its stats."""

    crawler: Crawler
    errors: list[BaseException] = field(default_factory=list)

    def follow(self, started: Any) -> None:
        """Take the crawl's exception from its task (or Deferred), so asyncio does not print
        it as "Task exception was never retrieved"."""
        if isinstance(started, asyncio.Future):
            started.add_done_callback(self._task_done)
        elif isinstance(started, Deferred):
            started.addErrback(lambda failure: self.errors.append(failure.value))

    def _task_done(self, task: asyncio.Future[Any]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self.errors.append(exc)

    def stats(self) -> dict[str, Any]:
        collector = getattr(self.crawler, "stats", None)
        return dict(collector.get_stats()) if collector is not None else {}


def run_crawl(
    process: CrawlerProcessBase, crawler: Crawler, spider_args: Mapping[str, Any]
) -> CrawlWatch:
    watch = CrawlWatch(crawler)
    watch.follow(process.crawl(crawler, **spider_args))
    process.start()
    if watch.errors:
        from tressless_crawler.runs.recorder import abandon_run

        abandon_run(crawler)  # a crawl that failed to start leaves no run "running"
    return watch


def judge(watch: CrawlWatch, database_url: str = "") -> Problem:
    """The exit code of a finished crawl and, when it is not 0, the line that explains it."""
    if watch.errors:
        return explain(watch.errors[0], database_url)
    stats = watch.stats()
    spider = watch.crawler.spider if hasattr(watch.crawler, "spider") else None
    return judge_stats(stats, spider, watch.crawler.settings.get("SITE_URL", ""))


def judge_stats(stats: Mapping[str, Any], spider: Any, site_url: str) -> Problem:
    reason = stats.get(SCRAPY_FINISH_REASON)
    status = stats.get(CRAWL_RUN_STATUS)
    if reason is None or reason in INTERRUPTED_REASONS:
        return Problem(
            "the crawl was interrupted; run the same command again to complete it",
            EXIT_INTERRUPTED,
        )
    if status in SPOOLED_STATUSES or stats.get(STORE_JOURNALED):
        return Problem(
            "the crawl finished, but the database did not take everything: items are in the "
            "spool; load them with `scrapy db replay`",
            EXIT_SPOOLED,
        )
    if reason != "finished" or status not in (None, "finished"):
        return Problem(f"the crawl ended {status or 'failed'} ({reason}): see the log", EXIT_FAILED)
    name = getattr(spider, "name", "") or ""
    what = WHAT.get(name, "item")
    single = getattr(spider, "single_url", None)
    gone = _sum(stats, GONE_PREFIXES)
    if single and gone and not stats.get(SCRAPY_ITEMS_SCRAPED):
        return Problem(
            f"-a url={single}: the site answers that the page does not exist "
            "(404/410); a stored copy, if any, is marked gone",
            EXIT_NOTHING_FOUND,
        )
    if _distributed(spider):
        return Problem("", EXIT_OK)  # a worker may find the shared frontier already done
    failures = int(stats.get(FAILURES_COUNT, 0) or 0)
    if not stats.get(SCRAPY_RESPONSES) and failures:
        return Problem(
            f"could not reach {site_url}: {_main_failure(stats)} ({failures} request(s) failed); "
            "check SITE_URL and the network",
            EXIT_UNREACHABLE,
        )
    work = sum(int(stats.get(name_, 0) or 0) for name_ in WORK_STATS) + _sum(stats, WORK_PREFIXES)
    if not work:
        where = f"-a url={single}" if single else site_url
        detail = f"; {failures} request(s) failed ({_main_failure(stats)})" if failures else ""
        return Problem(
            f"the crawl of {where} found no {what} to store{detail}: check SITE_URL and the log",
            EXIT_NOTHING_FOUND,
        )
    return Problem("", EXIT_OK)


def _sum(stats: Mapping[str, Any], prefixes: tuple[str, ...]) -> int:
    return sum(
        int(value or 0)
        for key, value in stats.items()
        if key.startswith(prefixes) and isinstance(value, int)
    )


def _main_failure(stats: Mapping[str, Any]) -> str:
    reasons = {
        key.removeprefix(FAILURES.prefix): value
        for key, value in stats.items()
        if key.startswith(FAILURES.prefix) and key != FAILURES_COUNT and isinstance(value, int)
    }
    if not reasons:
        return "no answer"
    return max(reasons, key=lambda key: reasons[key]).replace("_", " ")


def _distributed(spider: Any) -> bool:
    settings = getattr(spider, "settings", None)
    return bool(settings is not None and str(settings.get("REDIS_URL") or "").strip())
