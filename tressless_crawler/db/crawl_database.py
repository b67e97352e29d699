"""The database of one crawl: one engine, the schema checked once, the crawl's run id.

Every component of a crawl that uses the database (the run recorder, the store pipeline, the
crawl report, the spiders' reads of what earlier crawls stored) takes it from
:meth:`CrawlDatabase.of` rather than making an engine of its own, so that a crawl has one
engine (one connection pool) per database, checks or creates the schema once, and hands the
id of its ``crawl_runs`` row (opened by :mod:`tressless_crawler.runs.recorder`) to the store
explicitly. The engine is disposed when the crawl's engine stops.

On SQLite the engine's transactions take the write lock as they begin (``BEGIN IMMEDIATE``,
as every writer of the project does); :attr:`CrawlDatabase.reader`, the same engine with an
execution option, begins plain transactions for reads that need not wait for a writer.

Settings: ``DATABASE_URL``, ``SQLITE_BUSY_TIMEOUT``.
"""

from __future__ import annotations

import threading
import weakref

from scrapy import signals
from scrapy.crawler import Crawler
from sqlalchemy import Engine

from tressless_crawler import defaults
from tressless_crawler.db.engine import DEFERRED, make_engine
from tressless_crawler.db.schema import current_revision, ensure_schema

_BY_CRAWLER: weakref.WeakKeyDictionary[Crawler, CrawlDatabase] = weakref.WeakKeyDictionary()


class CrawlDatabase:
    """One crawl's engine, schema check and run id (made by :meth:`of`)."""

    def __init__(self, url: str, busy_timeout: float) -> None:
        self.url = url
        self.busy_timeout = busy_timeout
        self.run_id: int | None = None  # the crawl's crawl_runs row, once the recorder opened it
        self.schema_state: str | None = None  # "created", "upgraded" or "current", once checked
        self._engine: Engine | None = None
        self._reader: Engine | None = None
        self._lock = threading.RLock()  # components reach the database from worker threads

    @classmethod
    def of(cls, crawler: Crawler) -> CrawlDatabase | None:
        """The crawl's database, made on first use; None when ``DATABASE_URL`` is empty."""
        database = _BY_CRAWLER.get(crawler)
        if database is None:
            url = crawler.settings.get("DATABASE_URL")
            if not url:
                return None
            database = cls(url, defaults.getfloat(crawler.settings, "SQLITE_BUSY_TIMEOUT"))
            _BY_CRAWLER[crawler] = database
            crawler.signals.connect(database.close, signal=signals.engine_stopped)
        return database

    @property
    def engine(self) -> Engine:
        """The crawl's engine, for writes (and reads inside a write)."""
        with self._lock:
            if self._engine is None:
                self._engine = make_engine(self.url, immediate=True, busy_timeout=self.busy_timeout)
            return self._engine

    @property
    def reader(self) -> Engine:
        """The same engine and pool, for reads: on SQLite they do not take the write lock."""
        with self._lock:
            if self._reader is None:
                self._reader = self.engine.execution_options(**{DEFERRED: True})
            return self._reader

    def ensure_schema(self) -> str:
        """Create or check the schema (:func:`tressless_crawler.db.schema.ensure_schema`), once
        per crawl; raises ``SchemaOutdated`` (every time) when the database cannot be used."""
        with self._lock:
            if self.schema_state is None:
                self.schema_state = ensure_schema(self.engine)
            return self.schema_state

    def has_schema(self) -> bool:
        """Whether there is a schema to read from (a database never crawled has none)."""
        return self.schema_state is not None or current_revision(self.reader) is not None

    def close(self) -> None:
        """Close the engine's connections (when the crawl's engine stops)."""
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
