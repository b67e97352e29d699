"""What holds the memory of a crawl: a Scrapy extension that logs it every few seconds.

Used by ``benchmarks/memory.py`` through ``benchmarks/memsettings.py`` (the project's settings
plus this extension). Every ``MEMPROBE_INTERVAL`` seconds it logs one line
``MEMPROBE {json}`` with the RSS, the scheduler's pending requests, the dupefilter's
fingerprints, the live Requests/Responses/Selectors (``scrapy.utils.trackref``) and, every
``MEMPROBE_GC_EVERY`` probes, the most numerous object types on the garbage-collected heap.
With ``MEMPROBE_TRACEMALLOC=N`` it traces allocations from the spider's opening (N frames each)
and logs the 15 largest sites still allocated when it closes (``MEMPROBE_TOP``).
"""

from __future__ import annotations

import gc
import json
import logging
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.utils import trackref
from twisted.internet import task

logger = logging.getLogger(__name__)


def sqlite_memory_mb() -> float | None:
    """What SQLite's allocator holds in this process (page caches, prepared statements)."""
    try:
        import ctypes

        used = ctypes.CDLL("libsqlite3.so.0").sqlite3_memory_used
        used.restype = ctypes.c_int64
        return round(used() / 2**20, 1)
    except (OSError, AttributeError):
        return None


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class MemProbe:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.interval = crawler.settings.getfloat("MEMPROBE_INTERVAL", 5.0)
        self.gc_every = crawler.settings.getint("MEMPROBE_GC_EVERY", 6)
        self.count = 0
        self.started = time.monotonic()
        self.loop: task.LoopingCall | None = None
        self.trace = crawler.settings.getint("MEMPROBE_TRACEMALLOC", 0)  # frames kept; 0: off

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MemProbe:
        ext = cls(crawler)
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def opened(self) -> None:
        if self.trace:
            tracemalloc.start(self.trace)
        self.loop = task.LoopingCall(self.probe)
        self.loop.start(self.interval, now=True)

    def closed(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.probe(force_gc=True)
        if self.trace and tracemalloc.is_tracing():
            snapshot = tracemalloc.take_snapshot().filter_traces(
                [tracemalloc.Filter(False, tracemalloc.__file__)]
            )
            top = snapshot.statistics("traceback" if self.trace > 1 else "lineno")[:15]
            lines = []
            for stat in top:
                where = " <- ".join(
                    f"{f.filename.split('site-packages/')[-1]}:{f.lineno}" for f in stat.traceback
                )
                lines.append(f"{stat.size / 1024 / 1024:8.1f} MB {stat.count:9d} blocks  {where}")
            logger.info(
                "MEMPROBE_TOP still allocated since the spider opened:\n%s", "\n".join(lines)
            )

    def probe(self, force_gc: bool = False) -> None:
        self.count += 1
        if self.crawler.settings.getbool("MEMPROBE_TRIM"):
            import ctypes

            ctypes.CDLL("libc.so.6").malloc_trim(0)  # what glibc holds free goes back first
        scheduler: Any = self.crawler.engine.scheduler
        dupefilter = getattr(scheduler, "df", None)
        live = {
            name: len(refs)
            for name, refs in ((cls.__name__, refs) for cls, refs in trackref.live_refs.items())
        }
        record: dict[str, Any] = {
            "t": round(time.monotonic() - self.started, 1),
            "rss_mb": round(rss_kb() / 1024, 1),
            "responses": self.crawler.stats.get_value("response_received_count", 0)
            if self.crawler.stats
            else 0,
            "scheduler": len(scheduler) if scheduler is not None else None,
            "fingerprints": len(getattr(dupefilter, "fingerprints", ()) or ()),
            "live": live,
            "blocks": sys.getallocatedblocks(),
            "sqlite_mb": sqlite_memory_mb(),  # live pymalloc blocks: objects, not pages held
        }
        if tracemalloc.is_tracing():
            record["traced_mb"] = round(tracemalloc.get_traced_memory()[0] / 2**20, 1)
        if force_gc or (self.gc_every and self.count % self.gc_every == 0):
            counts = Counter(type(o).__name__ for o in gc.get_objects())
            record["gc_objects"] = sum(counts.values())
            record["gc_top"] = dict(counts.most_common(8))
        logger.info("MEMPROBE %s", json.dumps(record))
