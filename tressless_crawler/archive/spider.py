"""The spider behind ``scrapy reparse``: archived pages through today's parsers, no requests.

Its ``start()`` hands items to Scrapy's scraper, which sends them through the item
pipelines as it does a callback's (on Scrapy before 2.14 it yields them), so the crawl's
normalise, validate, dedupe and store stages, its run record and its lock all apply, and
the downloader stays idle. Parsing runs in a pool of worker processes forked when the
spider is created (both cores), the pipelines on the main thread.

Which responses: for every study and thread page in the archive, the newest response
with content (200) or that says it is gone (404, 410); 304s and errors are skipped, an
earlier 200 of the same URL then counts. ``since`` keeps the pages so chosen that were
fetched at or after that time.

Settings: ``ARCHIVE_DIR``, ``CHARSET_FALLBACK``.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from tqdm import tqdm

from tressless_crawler import defaults
from tressless_crawler import signals as crawler_signals
from tressless_crawler.archive import extract
from tressless_crawler.archive.extract import (
    CONTENT_STATUSES,
    Expansions,
    Reparsed,
    expansion_post,
    page_of,
    reparse_task,
)
from tressless_crawler.archive.reader import Entry, FileIndex, archive_files, index_file
from tressless_crawler.scrapy_internals import let_scraper_close
from tressless_crawler.stats import (
    PARSE_DROPPED,
    PARSE_STUDIES,
    PARSE_THREADS,
    REPARSE_CHOSEN,
    REPARSE_FILES,
    REPARSE_MAIN_CPU_SECONDS,
    REPARSE_PAGES,
    REPARSE_RECORDS,
    REPARSE_START_METHOD,
    REPARSE_TORN_FILES,
    REPARSE_WORKER_CPU_SECONDS,
)

logger = logging.getLogger(__name__)

CHUNK = 64  # pages per worker task: large enough to amortise the hand-over
ITEMS_IN_FLIGHT = 1000  # items in the pipelines at once: more wait for the store to catch up


def choose(indexes: Iterable[FileIndex], kinds: set[str], since: datetime | None) -> list[Entry]:
    """The newest content (or gone) response of each page of these kinds."""
    newest: dict[tuple[str, str], Entry] = {}
    for index in indexes:
        for entry in index.entries:
            if entry.status not in CONTENT_STATUSES:
                continue
            page = page_of(entry.url)
            if page is None or page[0] not in kinds:
                continue
            key = (page[0], page[2])
            current = newest.get(key)
            if current is None or entry.fetched_at >= current.fetched_at:
                newest[key] = entry
    return [e for e in newest.values() if since is None or e.fetched_at >= since]


def expansions_of(indexes: Iterable[FileIndex]) -> dict[str, Expansions]:
    """The newest archived answer to each thread expansion request, by post id and URL."""
    out: dict[str, Expansions] = {}
    for index in indexes:
        for entry in index.entries:
            post = expansion_post(entry.url)
            if post is None or entry.status != 200:
                continue
            found = out.setdefault(post, {})
            current = found.get(entry.url)
            if current is None or entry.fetched_at >= current.fetched_at:
                found[entry.url] = entry
    return out


def tasks(entries: list[Entry], size: int = CHUNK) -> Iterator[tuple[str, list[Entry]]]:
    """Entries grouped by file and read in file order, ``size`` at a time."""
    by_file: dict[str, list[Entry]] = {}
    for entry in entries:
        by_file.setdefault(entry.path, []).append(entry)
    for path in sorted(by_file):
        group = sorted(by_file[path], key=lambda e: e.offset)
        for start in range(0, len(group), size):
            yield path, group[start : start + size]


def start_pool(workers: int) -> ProcessPoolExecutor:
    """``workers`` processes, started at once. Forked while this process has no other thread
    (no lock can then be held by a thread the fork leaves behind), they start in milliseconds
    with the parsers imported already; otherwise they come from a fork server that imports
    the parsers once."""
    context: BaseContext
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("fork")
    else:
        server = multiprocessing.get_context("forkserver")
        server.set_forkserver_preload([extract.__name__])
        context = server
    gc.freeze()  # what exists now is never garbage-collected again, here or in the forks
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init)
    pool.start_method = context.get_start_method()  # type: ignore[attr-defined]
    pool.submit(os.getpid)  # starts the processes now
    return pool


def _worker_init() -> None:
    """Ctrl-C stops the command, which stops its workers: they do not handle it themselves."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class ReparseSpider(Spider):
    name = "reparse"

    def __init__(
        self,
        kinds: str = "study,thread",
        since: datetime | None = None,
        workers: int = 0,
        progress: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.kinds = {k for k in kinds.split(",") if k}
        self.since = since
        self.workers = workers or os.cpu_count() or 1
        self.progress = progress
        self.outstanding = 0  # items yielded and not yet through the pipelines
        self.all_yielded = False
        self.closing = False
        # The workers start now, before the crawl opens: forked, they share this process's
        # imported modules instead of importing them again (a second or more each).
        self.pool = start_pool(self.workers)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> ReparseSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        for done in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(spider.item_done, signal=done)
        return spider

    def item_done(self, **_: Any) -> None:
        self.outstanding -= 1
        self.finish_if_done()

    def finish_if_done(self) -> None:
        """Close as soon as the last item is stored. Scrapy would notice only at its next
        idle check, up to 5 s later: a downloader that fetches nothing never wakes it."""
        if self.all_yielded and self.outstanding <= 0 and not self.closing:
            self.closing = True
            asyncio.ensure_future(self.close_when_idle())

    async def close_when_idle(self) -> None:
        engine = self.crawler.engine
        assert engine is not None
        while not engine.spider_is_idle():  # the last item leaves the scraper a moment later
            await asyncio.sleep(0.01)
        await engine.close_spider_async(reason="finished")

    async def start(self) -> AsyncIterator[Any]:
        directory = Path(defaults.get(self.settings, "ARCHIVE_DIR"))
        fallback = defaults.get(self.settings, "CHARSET_FALLBACK")
        stats = self.crawler.stats
        files = archive_files(directory)
        stats.set_value(REPARSE_FILES, len(files))
        stats.set_value(REPARSE_START_METHOD, getattr(self.pool, "start_method", ""))
        started = time.perf_counter()
        main_cpu = time.process_time()  # this process's threads: pipelines, store, hand-over
        pool = self.pool
        # The crawl's own objects are set up: the collector need not go through them again
        # and again while the items' many small objects come and go (it took about 0.2 ms of
        # this process's CPU per page).
        gc.freeze()
        try:
            indexes = await asyncio.gather(
                *(asyncio.wrap_future(pool.submit(index_file, path)) for path in files)
            )
            torn = sum(1 for index in indexes if index.torn)
            stats.set_value(REPARSE_RECORDS, sum(index.records for index in indexes))
            if torn:
                stats.set_value(REPARSE_TORN_FILES, torn)
            chosen = choose(indexes, self.kinds, self.since)
            expansions = expansions_of(indexes) if "thread" in self.kinds else {}
            stats.set_value(REPARSE_CHOSEN, len(chosen))
            logger.info(
                "Reparsing %d archived pages from %d WARC files in %s (%d workers; indexed in "
                "%.1f s)",
                len(chosen),
                len(files),
                directory,
                self.workers,
                time.perf_counter() - started,
            )
            bar = tqdm(
                total=len(chosen),
                unit="page",
                disable=not self.progress,
                file=sys.stderr,
                smoothing=0.1,
            )
            pending: deque[Future[tuple[int, float, list[Reparsed]]]] = deque()
            worker_cpu: dict[int, float] = {}
            todo = tasks(chosen)
            # Items go straight to the item pipelines (the scraper's own entry, with its
            # signals and drop handling), without a round trip through the engine each.
            scraper = self.crawler.engine.scraper
            direct = hasattr(scraper, "start_itemproc_async")  # Scrapy 2.14+
            # Items go through the pipelines side by side, so that those after the one that
            # fills the store's batch go on while the batch is written (on its thread).
            processing: set[asyncio.Future[None]] = set()
            try:
                for _ in range(self.workers * 4):
                    self._submit(pool, todo, pending, fallback, expansions)
                while pending:
                    pid, cpu, pages = await asyncio.wrap_future(pending.popleft())
                    worker_cpu[pid] = max(cpu, worker_cpu.get(pid, 0.0))
                    self._submit(pool, todo, pending, fallback, expansions)
                    for page in pages:
                        item = self.handle(page)
                        if item is None:
                            continue
                        self.outstanding += 1
                        if not direct:
                            yield item
                            continue
                        task = asyncio.ensure_future(
                            scraper.start_itemproc_async(item, response=None)
                        )
                        processing.add(task)
                        task.add_done_callback(processing.discard)
                    while len(processing) > ITEMS_IN_FLIGHT:
                        await asyncio.wait(processing, return_when=asyncio.FIRST_COMPLETED)
                    bar.update(len(pages))
                if processing:
                    await asyncio.wait(processing)
                self.all_yielded = True
                self.finish_if_done()
                stats.set_value(REPARSE_WORKER_CPU_SECONDS, round(sum(worker_cpu.values()), 3))
                stats.set_value(REPARSE_MAIN_CPU_SECONDS, round(time.process_time() - main_cpu, 3))
                logger.info("Parsed %d pages in %.1f s", len(chosen), time.perf_counter() - started)
            finally:
                bar.close()
                for future in pending:
                    future.cancel()
        except asyncio.CancelledError:  # the crawl is shutting down (Ctrl-C)
            asyncio.ensure_future(self.closing_after_items())
            raise
        finally:
            # the workers are idle by now: joined, so that their CPU counts as this command's
            pool.shutdown(wait=True, cancel_futures=True)

    async def closing_after_items(self) -> None:
        """Let a shutdown finish once the items in the pipelines are through. Scrapy's scraper
        checks whether it may close only when it starts closing and after each response; with
        items in flight then and no response to come, it would wait for ever."""
        engine = self.crawler.engine
        slot = engine.scraper.slot if engine is not None else None
        while slot is not None and slot.itemproc_size:
            await asyncio.sleep(0.05)
        let_scraper_close(self.crawler)

    def closed(self, reason: str) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        gc.unfreeze()

    @staticmethod
    def _submit(
        pool: ProcessPoolExecutor,
        todo: Iterator[tuple[str, list[Entry]]],
        pending: deque[Future[tuple[int, float, list[Reparsed]]]],
        fallback: str,
        expansions: dict[str, Expansions],
    ) -> None:
        task = next(todo, None)
        if task is not None:
            path, entries = task
            # only the expansions of this task's threads travel to the worker
            mine: dict[str, Expansions] = {}
            if expansions:
                posts = {p[1] for e in entries if (p := page_of(e.url)) and p[0] == "thread"}
                mine = {post: expansions[post] for post in posts if post in expansions}
            pending.append(pool.submit(reparse_task, path, entries, fallback, mine))

    def handle(self, page: Reparsed) -> Any:
        """What the spiders' callbacks do with a response: stats, the pages row, the item."""
        stats = self.crawler.stats
        stats.inc_value(REPARSE_PAGES)
        for key, count in page.stats.items():
            stats.inc_value(key, count)
        if page.damaged:
            logger.warning(
                "The archived record of %s no longer reads (%s): skipped, its stored rows kept",
                page.url,
                page.damaged,
            )
            return None
        if page.drop is not None:
            reason, detail = page.drop
            stats.inc_value(PARSE_DROPPED.key(reason))
            logger.warning("Dropped %s: %s %s", page.url, reason, detail)
            return None
        self.crawler.signals.send_catch_log(
            signal=crawler_signals.page_fetched,
            url=page.url,
            kind=page.kind,
            key=page.key or None,
            status=page.status,
            etag=page.etag,
            last_modified=page.last_modified,
            warc_record_id=page.record_id,
            item=page.item,  # stored in the item's batch, never before it
        )
        if page.item is None:
            return None
        stats.inc_value(PARSE_STUDIES if page.kind == "study" else PARSE_THREADS)
        return page.item
