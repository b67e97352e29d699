"""Engines for the configured DATABASE_URL, with the per-dialect settings we rely on."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from tressless_crawler import redact
from tressless_crawler.db.snapshots import json_deserializer, json_serializer
from tressless_crawler.defaults import DEFAULTS

logger = logging.getLogger(__name__)

# Prepared statements kept per SQLite connection (Python's default is 128). Batches of varying
# size make statements of varying text (IN lists, multi-row VALUES ... RETURNING), each prepared
# once and then held: with 128 of them a long crawl's memory grows by tens of MB.
SQLITE_CACHED_STATEMENTS = 16
# Connections a SQLite engine keeps open between uses. Each holds its own prepared statements
# (a batch's multi-row statements run to megabytes) and page cache. One crawl's engine serves
# the store, the run recorder and the crawl lock from different threads; the default pool kept
# every connection so opened (two in a crawl), the store's writes went round them and each
# grew its own copy (+15 MB peak RSS over a 50,000-page crawl, benchmarks/README.md). A
# connection opened because the kept one is busy (SQLite has one writer at a time anyway) is
# closed when it is given back.
SQLITE_POOL_SIZE = 1
# Execution option of an engine made with ``immediate``: its transactions begin as plain
# (deferred) ones, for reads that need not wait for another writer (``CrawlDatabase.reader``).
DEFERRED = "tressless_deferred_begin"


def make_engine(
    url: str, *, immediate: bool = False, busy_timeout: float | None = None, **kwargs: object
) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout (``busy_timeout`` s,
    by default the project's ``SQLITE_BUSY_TIMEOUT``).

    JSON columns take text already encoded (:class:`tressless_crawler.db.snapshots.JsonText`) as it
    is.

    The directory of a SQLite file is created so that the default
    ``sqlite:///data/crawler.db`` works on a fresh checkout. ``immediate``
    makes every SQLite transaction take the write lock when it begins, so a
    read-classify-write batch cannot race another process (the writer engine
    uses it; readers such as exports do not). On such an engine, a connection with the
    execution option :data:`DEFERRED` begins its transactions without the write lock.
    """
    logger.debug("Database engine for %s", redact_url(url))
    parsed = make_url(url)
    if busy_timeout is None:
        busy_timeout = float(DEFAULTS["SQLITE_BUSY_TIMEOUT"])
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": busy_timeout, "cached_statements": SQLITE_CACHED_STATEMENTS},
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=-1,  # no limit: a reader never waits for a writer's connection
            json_serializer=json_serializer,
            json_deserializer=json_deserializer,
            **kwargs,  # type: ignore[arg-type]
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "connect", _sqlite_busy_timeout(busy_timeout))
        if immediate:
            event.listen(engine, "connect", _sqlite_manual_transactions)
            event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    connect_args: dict[str, object] = {}
    if parsed.get_backend_name() == "postgresql":
        # An unreachable host must fail (and be retried or spooled), not hang a write.
        connect_args["connect_timeout"] = 10
    return create_engine(
        url,
        pool_pre_ping=True,
        connect_args=connect_args,
        json_serializer=json_serializer,
        json_deserializer=json_deserializer,
        **kwargs,  # type: ignore[arg-type]
    )


def _sqlite_on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_busy_timeout(seconds: float):  # type: ignore[no-untyped-def]
    """A connect hook setting how long a statement waits for another process's lock."""

    def hook(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.execute(f"PRAGMA busy_timeout={max(0, int(seconds * 1000))}")

    return hook


def _sqlite_manual_transactions(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # Let SQLAlchemy's "begin" event emit BEGIN itself instead of pysqlite.
    dbapi_connection.isolation_level = None


def _sqlite_begin_immediate(conn) -> None:  # type: ignore[no-untyped-def]
    deferred = conn.get_execution_options().get(DEFERRED)
    conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


def is_immediate(engine: Engine) -> bool:
    """True when the engine's SQLite transactions take the write lock as they begin."""
    return event.contains(engine, "begin", _sqlite_begin_immediate)


def redact_url(url: str) -> str:
    """The URL with its credentials hidden, for logs, stats and reports
    (tressless_crawler.redact)."""
    return redact.redact_url(url)


# Errors that may pass: connection refused or lost, server restarting, database locked, pool full.
TRANSIENT_ERRORS = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
)


def is_transient(exc: BaseException) -> bool:
    """A database error that may pass: connection refused or lost, database locked, pool timeout."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, TRANSIENT_ERRORS)
