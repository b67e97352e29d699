"""Read-side queries for exports and reports: each yields plain dicts, streamed.

Results are fetched in chunks (``yield_per``) through a server-side cursor
where the driver has one, so exporting a million rows never holds them all.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import Engine, Select, select
from sqlalchemy.orm import Session

from tressless_crawler.db.models import (
    Author,
    Comment,
    CrawlRun,
    History,
    Study,
    StudyAuthor,
    StudyThread,
    Thread,
)
from tressless_crawler.db.types import utc_iso
from tressless_crawler.items import StudyItem, ThreadItem
from tressless_crawler.redact import redact_value

CHUNK = 1000

STUDY_FIELDS = list(StudyItem.__dataclass_fields__)
STUDY_META = ["first_seen", "last_seen", "changed_at", "last_run_id", "gone_at", "gone_status"]
THREAD_FIELDS = [f for f in ThreadItem.__dataclass_fields__ if f != "comments"]
THREAD_META = [
    "posted_approx",
    "posted_precision",
    "age_text",
    "source",
    "study_ids",
    "first_seen",
    "last_seen",
    "changed_at",
    "last_run_id",
    "gone_at",
]
COMMENT_FIELDS = [
    "comment_id",
    "post_id",
    "parent_id",
    "author",
    "body",
    "upvotes",
    "posted_at",
    "depth",
    "kind",
    "more_count",
    "edited",
    "stickied",
    "distinguished",
    "first_seen",
    "last_seen",
    "changed_at",
    "gone_at",
]
AUTHOR_FIELDS = ["author_id", "name", "study_count", "study_ids"]
RUN_FIELDS = [
    "run_id",
    "spider",
    "status",
    "finish_reason",
    "started_at",
    "finished_at",
    "pages_fetched",
    "items_new",
    "items_updated",
    "items_unchanged",
    "items_dropped",
    "errors",
    "settings",
    "host",
    "pid",
    "worker",
]
HISTORY_FIELDS = ["study_id", "version", "current", "recorded_at", "run_id", "content_hash"] + [
    f for f in STUDY_FIELDS if f != "study_id"
]

EXPORTS = ("studies", "threads", "comments", "authors", "runs")


def fields_for(what: str, history: bool = False) -> list[str]:
    if what == "studies":
        return HISTORY_FIELDS if history else STUDY_FIELDS + STUDY_META
    return {
        "threads": THREAD_FIELDS + THREAD_META,
        "comments": COMMENT_FIELDS,
        "authors": AUTHOR_FIELDS,
        "runs": RUN_FIELDS,
    }[what]


def _stream(engine: Engine, stmt: Select[Any] | Any) -> Iterator[Any]:
    """Rows (ORM entities where selected) fetched CHUNK at a time, never all at once."""
    with Session(engine) as session:
        yield from session.execute(stmt.execution_options(yield_per=CHUNK))


def _stream_chunks(engine: Engine, stmt: Select[Any] | Any) -> Iterator[Sequence[Any]]:
    """The same rows as ``_stream``, CHUNK at a time, for queries that complete a chunk."""
    with Session(engine) as session:
        yield from session.execute(stmt.execution_options(yield_per=CHUNK)).partitions()


def _ids_by(conn: Any, key: Any, value: Any, keys: list[int]) -> dict[int, list[str]]:
    """``value`` column's distinct values per ``key``, sorted, for the given keys."""
    by_key: dict[int, list[str]] = {k: [] for k in keys}
    rows = conn.execute(select(key, value).where(key.in_(keys)).distinct().order_by(key, value))
    for k, v in rows:
        by_key[k].append(v)
    return by_key


def iso(value: Any) -> Any:
    """Times go out in UTC with their offset, the same text from SQLite and PostgreSQL."""
    return utc_iso(value)


def studies(
    engine: Engine, since: datetime | None = None, run: int | None = None
) -> Iterator[dict[str, Any]]:
    # Columns, not Study entities: a million rows need no identity map.
    stmt = select(Study.snapshot, *(getattr(Study, name) for name in STUDY_META)).order_by(
        Study.study_id
    )
    if since is not None:
        stmt = stmt.where(Study.changed_at >= since)
    if run is not None:
        stmt = stmt.where(Study.last_run_id == run)
    for snapshot, *meta in _stream(engine, stmt):
        record = {name: snapshot.get(name) for name in STUDY_FIELDS}
        record.update(zip(STUDY_META, map(iso, meta), strict=True))
        yield record


def study_history(
    engine: Engine, since: datetime | None = None, run: int | None = None
) -> Iterator[dict[str, Any]]:
    """Every version of every study: the replaced ones, oldest first, then the current."""
    stmt = select(Study).order_by(Study.study_id)
    if run is not None:
        stmt = stmt.where(Study.last_run_id == run)
    with engine.connect() as conn:
        for (study,) in _stream(engine, stmt):
            old = (
                Session(bind=conn)
                .execute(
                    select(History)
                    .where(History.entity == "study", History.entity_key == study.study_id)
                    .order_by(History.id)
                )
                .scalars()
            )
            versions = [(h.recorded_at, h.run_id, h.content_hash, h.data, False) for h in old]
            versions.append(
                (study.changed_at, study.last_run_id, study.content_hash, study.snapshot, True)
            )
            for number, (recorded, run_id, digest, data, current) in enumerate(versions, 1):
                if since is not None and recorded is not None and _naive(recorded) < _naive(since):
                    continue
                record = {
                    "study_id": study.study_id,
                    "version": number,
                    "current": current,
                    "recorded_at": iso(recorded),
                    "run_id": run_id,
                    "content_hash": digest,
                }
                record.update({name: data.get(name) for name in HISTORY_FIELDS[6:]})
                yield record


def _naive(value: datetime) -> datetime:
    return value.replace(tzinfo=None)


def threads(
    engine: Engine, since: datetime | None = None, run: int | None = None
) -> Iterator[dict[str, Any]]:
    # By the thread's own key, as studies go by study id: the order does not depend on the order
    # in which a crawl happened to store them, so a reparse or a rerun exports the same file.
    stmt = select(Thread).order_by(Thread.thread_key)
    if since is not None:
        stmt = stmt.where(Thread.changed_at >= since)
    if run is not None:
        stmt = stmt.where(Thread.last_run_id == run)
    names = [name for name in THREAD_FIELDS + THREAD_META if name != "study_ids"]
    with engine.connect() as conn:
        for chunk in _stream_chunks(engine, stmt):
            threads = [thread for (thread,) in chunk]
            study_ids = _ids_by(
                conn, StudyThread.thread_id, StudyThread.study_id, [t.id for t in threads]
            )
            for thread in threads:
                record = {name: iso(getattr(thread, name)) for name in names}
                record["study_ids"] = study_ids[thread.id]
                yield record


def comments(
    engine: Engine, since: datetime | None = None, run: int | None = None
) -> Iterator[dict[str, Any]]:
    stmt = (
        select(Comment, Thread.post_id)
        .join(Thread, Thread.id == Comment.thread_id)
        .order_by(Thread.thread_key, Comment.position, Comment.comment_id)
    )
    if since is not None:
        stmt = stmt.where(Comment.changed_at >= since)
    if run is not None:
        stmt = stmt.where(Comment.last_run_id == run)
    for comment, post_id in _stream(engine, stmt):
        record = {name: iso(getattr(comment, name, None)) for name in COMMENT_FIELDS}
        record["post_id"] = post_id
        yield record


def authors(
    engine: Engine, since: datetime | None = None, run: int | None = None
) -> Iterator[dict[str, Any]]:
    """Authors by name with their studies: one streamed join, one author's list in memory."""
    del since, run  # authors have no time of their own
    stmt = (
        select(Author.id, Author.name, StudyAuthor.study_id)
        .outerjoin(StudyAuthor, StudyAuthor.author_id == Author.id)
        .distinct()
        .order_by(Author.name, Author.id, StudyAuthor.study_id)
    )
    rows = _stream(engine, stmt)
    for (author_id, name), group in groupby(rows, key=lambda row: (row[0], row[1])):
        ids = [study_id for _, _, study_id in group if study_id is not None]
        yield {"author_id": author_id, "name": name, "study_count": len(ids), "study_ids": ids}


def runs(
    engine: Engine, since: datetime | None = None, run: int | None = None
) -> Iterator[dict[str, Any]]:
    stmt = select(CrawlRun).order_by(CrawlRun.id)
    if since is not None:
        stmt = stmt.where(CrawlRun.started_at >= since)
    if run is not None:
        stmt = stmt.where(CrawlRun.id == run)
    for (row,) in _stream(engine, stmt):
        record = {name: iso(getattr(row, name, None)) for name in RUN_FIELDS if name != "run_id"}
        record["run_id"] = row.id
        # Runs recorded before every credential form was masked may hold one.
        record["settings"] = redact_value(record.get("settings"))
        yield {name: record[name] for name in RUN_FIELDS}


def rows_for(what: str, history: bool = False) -> Any:
    if what == "studies" and history:
        return study_history
    return {
        "studies": studies,
        "threads": threads,
        "comments": comments,
        "authors": authors,
        "runs": runs,
    }[what]
