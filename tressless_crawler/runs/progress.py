"""A live progress bar on stderr while a crawl runs, when a person is watching.

Pages done out of pages done plus those queued, the rate, and the items stored and dropped,
redrawn twice a second by tqdm; log lines print above it. Off when stderr is not a terminal
(cron, Scrapyd, a pipe) unless ``CRAWL_PROGRESS_BAR`` is true; ``CRAWL_PROGRESS_BAR=0``
turns it off everywhere.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import IO, Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.log import get_scrapy_root_handler
from twisted.internet import task

from tressless_crawler.defaults import DEFAULTS
from tressless_crawler.scrapy_internals import (
    ScrapyInternalsError,
    engine_in_progress,
    unavailable,
)

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 0.5


def wanted(setting: Any, stream: IO[str]) -> bool:
    value = str(setting).strip().lower()
    if value in ("", "auto"):
        return stream.isatty()
    return value in ("1", "true", "yes", "on")


class _AboveTheBar:
    """A stream for the log handler: each record is printed above the bar (tqdm.write)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        from tqdm import tqdm

        if text.strip():
            tqdm.write(text.rstrip("\n"), file=self.stream)
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


class ProgressBar:
    def __init__(self, crawler: Crawler) -> None:
        if not wanted(
            crawler.settings.get("CRAWL_PROGRESS_BAR", DEFAULTS["CRAWL_PROGRESS_BAR"]), sys.stderr
        ):
            raise NotConfigured  # without a message: Scrapy would log it as a warning
        self.crawler = crawler
        self.bar: Any = None
        self.loop: task.LoopingCall | None = None
        self.handler: logging.StreamHandler[Any] | None = None
        self.handler_stream: IO[str] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressBar:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=0,
            unit=" pages",
            file=sys.stderr,
            bar_format="{n_fmt}/{total_fmt} pages |{bar}| {rate_fmt}{postfix}",
            **terminal_size(),
        )
        handler = get_scrapy_root_handler()
        if isinstance(handler, logging.StreamHandler) and handler.stream in (
            sys.stderr,
            sys.stdout,
        ):
            self.handler, self.handler_stream = handler, handler.stream
            handler.setStream(_AboveTheBar(handler.stream))  # type: ignore[arg-type]
        self.loop = task.LoopingCall(self.update)
        self.loop.start(REFRESH_SECONDS, now=True)

    def update(self) -> None:
        stats = self.crawler.stats
        if self.bar is None or stats is None:
            return
        pages = int(stats.get_value("response_received_count", 0) or 0)
        queued = self.queued()
        self.bar.total = max(pages + queued, pages)
        self.bar.n = pages
        self.bar.set_postfix_str(
            f"items {int(stats.get_value('item_scraped_count', 0) or 0)}, "
            f"drops {int(stats.get_value('item_dropped_count', 0) or 0)}, "
            f"queue {queued}",
            refresh=False,
        )
        self.bar.refresh()

    def queued(self) -> int:
        """Requests waiting in the scheduler plus those the engine has not finished."""
        scheduler = self.crawler.engine.scheduler
        try:
            waiting = len(scheduler) if scheduler is not None else 0  # type: ignore[arg-type]
        except (TypeError, NotImplementedError):
            waiting = 0
        try:
            inprogress = engine_in_progress(self.crawler)
        except ScrapyInternalsError as error:
            unavailable(self.crawler, error, "the progress bar counts only queued requests")
            inprogress = None
        return waiting + len(inprogress or ())

    def spider_closed(self, spider: Spider) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.bar is not None:
            self.update()
            self.bar.close()
            self.bar = None
        if self.handler is not None and self.handler_stream is not None:
            self.handler.setStream(self.handler_stream)
            self.handler = None


def terminal_size() -> dict[str, int]:
    """A size for tqdm when stderr's terminal reports none (a bare pty, ``script``): tqdm then
    takes it for 0 rows, and a bar on no row is never drawn."""
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
    except (OSError, ValueError):
        return {}
    if size.columns and size.lines:
        return {}
    return {"ncols": size.columns or 80, "nrows": size.lines or 24}
