"""scrapy-redis' scheduler with the in-flight ledger of ``tressless_crawler.distributed.inflight``.

The queue, the duplicate filter and the request serialisation are scrapy-redis'
own; this subclass changes how a request leaves the queue (into the worker's
ledger, atomically), when it leaves the ledger (once Scrapy has finished with
it and the store committed the batch holding its items), and adds the worker
heartbeat that lets the others requeue the work of a dead worker. It hands out
no request before the spider has loaded what the database knows (``ready``).
In the ``scrapy seed`` process it only enqueues. Settings: ``FRONTIER_WORKER_TTL``.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import ScrapyDeprecationWarning
from scrapy.utils.misc import load_object
from scrapy.utils.request import request_from_dict
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet.task import LoopingCall

from tressless_crawler import signals as crawler_signals
from tressless_crawler.defaults import DEFAULTS
from tressless_crawler.distributed.inflight import InFlightLedger
from tressless_crawler.distributed.mode import FrontierKeys, seeding, worker_id
from tressless_crawler.scrapy_internals import engine_in_progress
from tressless_crawler.stats import (
    FRONTIER_CONFIRMED,
    FRONTIER_HEARTBEAT_MISSED,
    FRONTIER_REQUEUED,
    FRONTIER_UNDECODABLE,
    SCHEDULER_DEQUEUED_REDIS,
    SCHEDULER_ENQUEUED_REDIS,
)

logger = logging.getLogger(__name__)

DEFAULT_WORKER_TTL = DEFAULTS["FRONTIER_WORKER_TTL"]


class SharedScheduler(Scheduler):
    """The scheduler of a distributed worker (or of the seeder)."""

    df: Any  # scrapy-redis's duplicate filter, set in __init__ or open()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.crawler: Crawler | None = None
        self.seeding = False
        self.worker = worker_id()
        self.worker_ttl = DEFAULT_WORKER_TTL
        self.ledger: InFlightLedger | None = None
        self.tracked: dict[str, Request] = {}
        # Finished requests whose items wait for the store: since the last batch was taken,
        # and per batch being written (its number -> fields).
        self.unconfirmed: list[str] = []
        self.in_batch: dict[int, list[str]] = {}
        self.heartbeat: LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedScheduler:
        scheduler = super().from_crawler(crawler)
        settings = crawler.settings
        scheduler.crawler = crawler
        scheduler.seeding = seeding(settings)
        scheduler.worker_ttl = settings.getfloat("FRONTIER_WORKER_TTL", DEFAULT_WORKER_TTL)
        crawler.signals.connect(scheduler.batch_taken, signal=crawler_signals.batch_taken)
        crawler.signals.connect(scheduler.batch_stored, signal=crawler_signals.batch_stored)
        return scheduler

    def open(self, spider: Spider) -> None:
        if not issubclass(load_object(self.queue_cls), PriorityQueue):
            raise ValueError("SCHEDULER_QUEUE_CLASS must be scrapy_redis.queue.PriorityQueue")
        with warnings.catch_warnings():
            # scrapy-redis notes a resumed queue with Spider.log(), deprecated since Scrapy 2.13
            warnings.filterwarnings(
                "ignore", r"Spider\.log\(\) is deprecated", ScrapyDeprecationWarning
            )
            super().open(spider)
        keys = FrontierKeys.for_spider(spider.settings, spider.name)
        self.ledger = InFlightLedger(
            self.server, keys, self.queue.key, self.worker, self.worker_ttl
        )
        if self.seeding:
            logger.info("Seeding the shared frontier %s", self.queue.key)
            return
        if self.crawler is not None:
            engine_in_progress(self.crawler)  # raises now if this Scrapy keeps no such set
        self.ledger.register()
        requeued = self._reclaim()
        logger.info(
            "Worker %s on the shared frontier %s (%d queued%s)",
            self.worker,
            self.queue.key,
            len(self.queue),
            f", {requeued} requeued from stopped workers" if requeued else "",
        )
        self.heartbeat = LoopingCall(self._beat)
        self.heartbeat.start(max(0.2, self.worker_ttl / 3), now=False)

    def close(self, reason: str) -> None:
        if self.heartbeat is not None and self.heartbeat.running:
            self.heartbeat.stop()
        if self.ledger is not None and not self.seeding:
            self._settling()
            # The engine closes the scheduler after every request it took was processed and
            # the item pipelines were closed (the store flushed): nothing is left in flight.
            self.ledger.unregister()
        super().close(reason)

    # --- the queue -------------------------------------------------------------
    def enqueue_request(self, request: Request) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        self.queue.push(request)
        self._inc(SCHEDULER_ENQUEUED_REDIS)
        return True

    def next_request(self) -> Request | None:
        if self.seeding or self.ledger is None or not self.ready():
            return None
        self.settle()
        popped = self.ledger.pop()
        if popped is None:
            return None
        field, data = popped
        try:
            request = self.decode(self.queue, data, self.spider)
        except Exception:
            logger.exception("Dropping a request this worker cannot decode (entry %s)", field)
            self.ledger.finished([field], durable=True)
            self._inc(FRONTIER_UNDECODABLE)
            return None
        if self.crawler is not None and engine_in_progress(self.crawler) is not None:
            self.tracked[field] = request  # else confirmed when this worker closes
        self._inc(SCHEDULER_DEQUEUED_REDIS)
        return request

    @staticmethod
    def decode(queue: Any, data: bytes, spider: Spider) -> Request:
        """A request as scrapy-redis' queue decodes it: its serializer, the spider's methods."""
        return request_from_dict(queue.serializer.loads(data), spider=spider)

    def ready(self) -> bool:
        """False while the spider still loads what the database knows (``crawl_ready``)."""
        return bool(getattr(self.spider, "crawl_ready", True))

    def has_pending_requests(self) -> bool:
        return not self.seeding and len(self) > 0

    # --- the ledger ------------------------------------------------------------
    def settle(self) -> None:
        """Take the requests the engine has finished out of the in-flight ledger."""
        if not self.tracked or self.ledger is None or self.crawler is None:
            return
        inprogress = engine_in_progress(self.crawler)
        if inprogress is None:
            return
        done = [field for field, request in self.tracked.items() if request not in inprogress]
        if not done:
            return
        for field in done:
            del self.tracked[field]
        self._settling()
        self.ledger.finished(done, durable=False)
        self.unconfirmed.extend(done)

    def batch_taken(self, seq: int) -> None:
        """The store took a batch: it holds the items of every request finished until now."""
        if self.ledger is None or self.seeding:
            return
        self.settle()
        self.in_batch[seq], self.unconfirmed = self.unconfirmed, []

    def batch_stored(self, seq: int, stored: bool) -> None:
        """The batch is in the database (or the spool): its requests leave the ledger.

        A batch that was lost keeps its requests as processed: they are fetched again if this
        worker dies, and dropped with the rest when it closes.
        """
        fields = self.in_batch.pop(seq, [])
        if stored and fields and self.ledger is not None:
            try:
                self.ledger.confirm(fields)
            except Exception as exc:  # they stay processed: at worst fetched twice
                logger.warning("Could not confirm %d stored requests: %s", len(fields), exc)
            else:
                self._inc(FRONTIER_CONFIRMED, len(fields))

    def frontier_idle(self) -> bool:
        """True when nothing is queued and no live worker has a request in flight."""
        assert self.ledger is not None
        self.settle()
        self._settling()
        self._reclaim()
        return len(self.queue) == 0 and self.ledger.in_flight_elsewhere() == 0

    def _settling(self) -> None:
        """Let the spider save what its finished requests noted for the crawl (their ids)."""
        if self.crawler is not None:
            self.crawler.signals.send_catch_log(signal=crawler_signals.requests_settling)

    def _reclaim(self) -> int:
        assert self.ledger is not None
        reclaimed = self.ledger.reclaim_dead()
        total = sum(reclaimed.values())
        for worker, count in reclaimed.items():
            logger.log(
                logging.WARNING if count else logging.INFO,
                "Worker %s stopped without closing: %d of its requests are back in the queue",
                worker,
                count,
            )
            if self.crawler is not None:
                self.crawler.signals.send_catch_log(
                    signal=crawler_signals.worker_lost, worker=worker, requeued=count
                )
        if total:
            self._inc(FRONTIER_REQUEUED, total)
        return total

    def _beat(self) -> None:
        """Heartbeat: stay alive, confirm finished requests, requeue the work of dead workers."""
        assert self.ledger is not None
        try:
            if not self.ledger.heartbeat():
                logger.warning(
                    "Worker %s missed its heartbeat for over %.0f s: the others may have requeued "
                    "its requests in flight, which are then fetched twice",
                    self.worker,
                    self.worker_ttl,
                )
                self._inc(FRONTIER_HEARTBEAT_MISSED)
            self.settle()
            self._reclaim()
        except Exception as exc:
            logger.warning("Frontier heartbeat failed: %s", exc)

    def _inc(self, key: str, count: int = 1) -> None:
        if self.stats is not None:
            self.stats.inc_value(key, count)
