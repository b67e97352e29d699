"""Distributed mode: several crawler processes share one crawl frontier in Redis.

With ``REDIS_URL`` set, the :class:`DistributedCrawl` add-on moves the scheduler
queue and the duplicate filter to Redis through scrapy-redis, so that N
processes on N machines take their requests from one frontier, and it turns on
what the project adds around scrapy-redis: the in-flight ledger that hands the
requests of a dead worker back to the others (``tressless_crawler.distributed.scheduler``), the exit
of idle workers (``tressless_crawler.distributed.idle``) and a rate limit shared by every
process (``tressless_crawler.distributed.ratelimit``). Without ``REDIS_URL`` the add-on
changes nothing.

Every key lives under ``<REDIS_KEY_PREFIX>:<CRAWL_ID>:<spider>:``; the rate
limit lives under ``<REDIS_KEY_PREFIX>:ratelimit:<host>`` so that it holds for
every crawl and spider that visit the same site.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from typing import Any

from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings

from tressless_crawler.defaults import DEFAULTS

DEFAULT_KEY_PREFIX = DEFAULTS["REDIS_KEY_PREFIX"]
DEFAULT_CRAWL_ID = DEFAULTS["CRAWL_ID"]
DEFAULT_RATE_LIMIT = DEFAULTS["SHARED_RATE_LIMIT"]  # requests per second per host, all workers

SCHEDULER = "tressless_crawler.distributed.scheduler.SharedScheduler"
DUPEFILTER = "scrapy_redis.dupefilter.RFPDupeFilter"
# The ledger pops atomically from a sorted set: the queue must be scrapy-redis' priority queue.
QUEUE = "scrapy_redis.queue.PriorityQueue"
IDLE_EXTENSION = "tressless_crawler.distributed.idle.FrontierIdleClose"
RATE_LIMIT_MIDDLEWARE = "tressless_crawler.distributed.ratelimit.SharedRateLimitMiddleware"
# Innermost downloader middleware: after the HTTP cache (900), so cache hits take no turn.
RATE_LIMIT_ORDER = 950
IDLE_ORDER = 600


_WORKER_IDS: dict[int, str] = {}  # pid -> this process's worker id


def worker_id() -> str:
    """This process's name on a shared frontier and in ``crawl_runs.worker``: host:pid:nonce.

    The nonce keeps two processes apart that got the same pid on the same host at different
    times; the id is the same for the whole life of the process.
    """
    pid = os.getpid()
    if pid not in _WORKER_IDS:
        _WORKER_IDS[pid] = f"{socket.gethostname()}:{pid}:{uuid.uuid4().hex[:6]}"
    return _WORKER_IDS[pid]


def enabled(settings: BaseSettings) -> bool:
    """Distributed mode is on when REDIS_URL is non-empty."""
    return bool(str(settings.get("REDIS_URL") or "").strip())


def seeding(settings: BaseSettings) -> bool:
    """True in the ``scrapy seed`` process, which only pushes start requests."""
    return enabled(settings) and settings.getbool("FRONTIER_SEEDING")


def key_prefix(settings: BaseSettings) -> str:
    return str(settings.get("REDIS_KEY_PREFIX") or DEFAULT_KEY_PREFIX)


@dataclass(frozen=True)
class FrontierKeys:
    """The Redis keys of one crawl of one spider."""

    base: str

    @staticmethod
    def crawl(settings: BaseSettings) -> str:
        """``<REDIS_KEY_PREFIX>:<CRAWL_ID>``, the namespace of one crawl."""
        return f"{key_prefix(settings)}:{settings.get('CRAWL_ID') or DEFAULT_CRAWL_ID}"

    @classmethod
    def for_spider(cls, settings: BaseSettings, spider_name: str) -> FrontierKeys:
        return cls(f"{cls.crawl(settings)}:{spider_name}")

    @property
    def queue(self) -> str:
        return f"{self.base}:requests"

    @property
    def dupefilter(self) -> str:
        return f"{self.base}:dupefilter"

    @property
    def workers(self) -> str:
        return f"{self.base}:workers"

    @property
    def tickets(self) -> str:
        return f"{self.base}:tickets"

    @property
    def touched(self) -> str:
        """The study ids the crawl's workers requested or skipped
        (``tressless_crawler.distributed.touched``)."""
        return f"{self.base}:touched"

    @property
    def sweep(self) -> str:
        """Set, to its worker's id, by the one worker that sweeps the known studies at the end."""
        return f"{self.base}:sweep"

    def inflight(self, worker: str) -> str:
        return f"{self.base}:inflight:{worker}"

    def processed(self, worker: str) -> str:
        return f"{self.base}:processed:{worker}"

    def alive(self, worker: str) -> str:
        return f"{self.base}:alive:{worker}"


def rate_limit_key(settings: BaseSettings, host: str) -> str:
    return f"{key_prefix(settings)}:ratelimit:{host}"


def redis_client(settings: BaseSettings) -> Any:
    """A Redis client made as scrapy-redis makes its own (REDIS_URL, REDIS_PARAMS)."""
    from scrapy_redis.connection import get_redis_from_settings

    return get_redis_from_settings(settings)


def _template(key: str) -> str:
    """scrapy-redis fills ``%(spider)s`` into its keys: escape any other ``%``."""
    return key.replace("%", "%%")


def _override_project_default(settings: BaseSettings, name: str, value: Any) -> None:
    """Replace a value of settings.py, but never one given with ``-s`` (or by a spider)."""
    if (settings.getpriority(name) or 0) <= SETTINGS_PRIORITIES["project"]:
        settings.set(name, value, "project")


class DistributedCrawl:
    """Scrapy add-on: scrapy-redis scheduler and duplicate filter, only when REDIS_URL is set.

    The values are set with the add-on priority, so ``-s`` still overrides each
    of them. A few project defaults that would be wrong for several processes
    are replaced unless they were given on the command line:

    * with ``SHARED_RATE_LIMIT`` on, ``DOWNLOAD_DELAY`` and AutoThrottle, which
      only see one process, give way to the shared limit.
    """

    def update_settings(self, settings: BaseSettings) -> None:
        if not enabled(settings):
            return
        from scrapy.utils.misc import load_object

        template = FrontierKeys(f"{_template(FrontierKeys.crawl(settings))}:%(spider)s")
        # settings.py names the single-process scheduler (tressless_crawler.runs.jobdir): it gives
        # way here.
        _override_project_default(settings, "SCHEDULER", SCHEDULER)
        for name, value in {
            "DUPEFILTER_CLASS": DUPEFILTER,
            "SCHEDULER_QUEUE_CLASS": QUEUE,
            # One worker closing must never wipe the frontier the others still use.
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_FLUSH_ON_START": False,
            # scrapy-redis would block the event loop in BRPOP; idle workers are handled by
            # tressless_crawler.distributed.idle instead.
            "SCHEDULER_IDLE_BEFORE_CLOSE": 0,
            "SCHEDULER_QUEUE_KEY": template.queue,
            "SCHEDULER_DUPEFILTER_KEY": template.dupefilter,
        }.items():
            settings.set(name, value, "addon")
        settings.setdefault_in_component_priority_dict(
            "EXTENSIONS", load_object(IDLE_EXTENSION), IDLE_ORDER
        )
        settings.setdefault_in_component_priority_dict(
            "DOWNLOADER_MIDDLEWARES", load_object(RATE_LIMIT_MIDDLEWARE), RATE_LIMIT_ORDER
        )
        if settings.getfloat("SHARED_RATE_LIMIT", DEFAULT_RATE_LIMIT) > 0:
            _override_project_default(settings, "DOWNLOAD_DELAY", 0)
            _override_project_default(settings, "AUTOTHROTTLE_ENABLED", False)
