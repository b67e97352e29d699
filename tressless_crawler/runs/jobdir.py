"""Scrapy's scheduler, made safe to resume from a ``JOBDIR`` left by an unclean stop.

Scrapy keeps a paused crawl in ``JOBDIR``: the queue (``requests.queue/``, written out when
the crawl closes) and the seen-set (``requests.seen``, appended as requests are scheduled). A
crawl killed with SIGKILL, by the OOM killer or a power cut leaves the seen-set but not the
queue: the next run would drop every request it had scheduled as a duplicate and end
"finished" with most of the site never fetched.

This scheduler writes ``JOBDIR/crawl.running`` when it opens and removes it once Scrapy has
written the queue out on close. A run that finds the file left behind knows the last one
stopped uncleanly: it moves the seen-set and the queue aside (``*.unclean-<time>``, kept for
inspection) before Scrapy reads them, logs a warning, and the crawl decides from the database
what to fetch again, as it does without JOBDIR. Settings: ``JOBDIR``.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy.core.scheduler import Scheduler
from scrapy.crawler import Crawler
from scrapy.spiders import Spider
from scrapy.utils.job import job_dir

logger = logging.getLogger(__name__)

MARKER = "crawl.running"
UNTRUSTED = ("requests.seen", "requests.queue")


def distrust_unclean_jobdir(path: Path) -> list[Path]:
    """Move aside what an unclean stop left in ``path``; returns where it went (none: clean)."""
    marker = path / MARKER
    if not marker.exists():
        return []
    try:
        left_by = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        left_by = {}
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    moved = []
    for name in UNTRUSTED:
        source = path / name
        if source.exists():
            target = path / f"{name}.unclean-{stamp}"
            source.rename(target)
            moved.append(target)
    marker.unlink()
    logger.warning(
        "JOBDIR %s was left by a crawl that did not stop cleanly (pid %s on %s, started %s): "
        "its queue and seen-set are not trusted and were moved aside; the database decides "
        "what is fetched again",
        path,
        left_by.get("pid", "?"),
        left_by.get("host", "?"),
        left_by.get("started", "?"),
    )
    return moved


class ResumableScheduler(Scheduler):
    """Scrapy's own scheduler, plus the unclean-stop check of the module docstring."""

    jobdir_path: Path | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        jobdir = job_dir(crawler.settings)
        if jobdir:
            # Before Scrapy's duplicate filter (built below) reads requests.seen.
            distrust_unclean_jobdir(Path(jobdir))
        scheduler = super().from_crawler(crawler)
        scheduler.jobdir_path = Path(jobdir) if jobdir else None
        return scheduler

    def open(self, spider: Spider) -> Any:
        if self.jobdir_path is not None:
            self.jobdir_path.mkdir(parents=True, exist_ok=True)
            (self.jobdir_path / MARKER).write_text(
                json.dumps(
                    {
                        "pid": os.getpid(),
                        "host": socket.gethostname(),
                        "started": datetime.now(UTC).isoformat(),
                    }
                ),
                encoding="utf-8",
            )
        return super().open(spider)

    def close(self, reason: str) -> Any:
        result = super().close(reason)  # the queue is on disk once this returns
        if self.jobdir_path is not None:
            (self.jobdir_path / MARKER).unlink(missing_ok=True)
        return result
