"""``scrapy export all --format sqlite``: the corpus copied into a SQLite file of its own.

The copy is made by the same migrations as any crawler database (tables, views, search
index and its triggers), then filled table by table from the source (PostgreSQL or SQLite),
streamed in chunks. It is written next to the target and renamed over it at the end, so the
file a reader opens is always complete, and it is left in rollback-journal mode: one
self-contained file that Datasette can open as immutable.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from sqlalchemy import Connection, Engine, Table, insert, select

from tressless_crawler.db import models
from tressless_crawler.db.engine import make_engine
from tressless_crawler.db.schema import upgrade
from tressless_crawler.redact import redact_value

logger = logging.getLogger(__name__)

CHUNK = 2000
# Columns of crawl_runs that hold settings and stats as recorded: masked as exports mask them.
SECRET_BEARING = ("settings", "stats", "finish_reason")
# Parents before children, with foreign keys off while copying; study_authors before studies,
# so that a study's search document, made when its row arrives, already has its authors.
TABLES: tuple[type[models.Base], ...] = (
    models.CrawlRun,
    models.Journal,
    models.Author,
    models.StudyAuthor,
    models.Study,
    models.ResearchLink,
    models.Thread,
    models.StudyThread,
    models.Comment,
    models.History,
    models.Page,
)  # crawl_locks is left out: it describes processes running against the source


def copy_to_sqlite(source: Engine, target: str | Path) -> dict[str, int]:
    """Copy every table of ``source`` into a new SQLite file at ``target``; rows per table."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    os.unlink(temporary)
    counts: dict[str, int] = {}
    destination = make_engine(f"sqlite:///{temporary}")
    try:
        upgrade(destination)
        with destination.connect() as out:
            out.exec_driver_sql("PRAGMA foreign_keys=OFF")  # outside a transaction, or ignored
            out.commit()
            for model in TABLES:
                table: Table = model.__table__  # type: ignore[assignment]
                counts[table.name] = _copy_table(source, out, table)
            out.commit()
            out.exec_driver_sql("PRAGMA foreign_keys=ON")
            out.exec_driver_sql("PRAGMA optimize")
            out.exec_driver_sql("PRAGMA journal_mode=DELETE")
        destination.dispose()
        os.replace(temporary, target)
    except BaseException:
        destination.dispose()
        for leftover in (temporary, f"{temporary}-wal", f"{temporary}-shm", f"{temporary}-journal"):
            Path(leftover).unlink(missing_ok=True)
        raise
    return counts


def _copy_table(source: Engine, out: Connection, table: Table) -> int:
    count = 0
    statement = insert(table)
    key = list(table.primary_key.columns)
    with source.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=CHUNK).execute(
            select(*table.columns).order_by(*key)
        )
        for rows in result.partitions():
            records = [row._asdict() for row in rows]
            if table.name == "crawl_runs":
                for record in records:  # runs recorded before every credential form was masked
                    for name in SECRET_BEARING:
                        record[name] = redact_value(record[name])
            out.execute(statement, records)
            count += len(rows)
    logger.info("Copied %d rows of %s", count, table.name)
    return count
