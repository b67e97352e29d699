"""Batched, dialect-aware writes of studies (and what hangs off them).

The ``*_in`` functions write into a transaction they are given (the crawl's batches all go
through :func:`tressless_crawler.db.batch.write_batch`, one transaction per batch); the others
open one transaction of their own (the tests and benchmarks write through them). Rows are
upserted on their natural keys; a content hash decides whether a study changed, and a changed
study's previous version goes to the history table. On PostgreSQL a
transaction-scoped advisory lock serialises the classify-then-write step so
that several crawler processes can share one database.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql

from tressless_crawler.db.models import (
    Author,
    History,
    Journal,
    Page,
    ResearchLink,
    Study,
    StudyAuthor,
    StudyThread,
    Thread,
)
from tressless_crawler.db.names import NameIds, name_ids_for
from tressless_crawler.db.snapshots import hash_and_snapshot
from tressless_crawler.db.sql import (
    chunks,
    dialect_insert,
    sends_arrays,
    unnest_params,
    unnest_rows,
)
from tressless_crawler.http_status import GONE_STATUSES

logger = logging.getLogger(__name__)

# Any constant works; it only has to be the same for every crawler process.
WRITE_LOCK_KEY = 0x7E55_1E55


@dataclass
class BatchResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    gone: int = 0

    def add(self, other: BatchResult) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.gone += other.gone


def thread_key(post_id: str | None, url: str | None, title: str | None) -> str | None:
    """The natural key of a thread: its post id, else its URL, else an unlinked card's title."""
    if post_id:
        return post_id
    if url:
        return f"url:{url}"
    if title:
        return f"title:{title}"[:1100]
    return None


def lock_for_write(conn: Connection) -> None:
    """Serialise writers across processes (PostgreSQL); SQLite's BEGIN IMMEDIATE does it there."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")


STUDY_COLUMNS = (
    "url",
    "slug",
    "title",
    "published",
    "tldr",
    "summary",
    "image_url",
    "source_url",
    "cited_total",
    "cited_total_is_lower_bound",
    "related_total",
    "related_total_is_lower_bound",
    "community_total",
    "community_total_is_lower_bound",
)


def write_studies(
    engine: Engine, studies: Sequence[dict[str, Any]], run_id: int | None, now: datetime
) -> BatchResult:
    """Upsert one batch of normalised study dicts in one transaction."""
    by_id = {study["study_id"]: study for study in studies}  # last one wins within a batch
    result = BatchResult()
    if not by_id:
        return result
    names = name_ids_for(engine)
    try:
        with engine.begin() as conn:
            lock_for_write(conn)
            _write_studies(conn, by_id, names, run_id, now, result)
    except BaseException:
        names.rollback()
        raise
    names.commit()
    return result


def write_studies_in(
    conn: Connection,
    studies: Sequence[dict[str, Any]],
    names: NameIds,
    run_id: int | None,
    now: datetime,
) -> BatchResult:
    """Upsert study dicts inside ``conn``'s transaction (its write lock already taken)."""
    by_id = {study["study_id"]: study for study in studies}
    result = BatchResult()
    if by_id:
        _write_studies(conn, by_id, names, run_id, now, result)
    return result


def _write_studies(
    conn: Connection,
    by_id: dict[str, dict[str, Any]],
    names: NameIds,
    run_id: int | None,
    now: datetime,
    result: BatchResult,
) -> None:
    stored: dict[str, str] = dict(
        row
        for chunk in chunks(list(by_id))
        for row in conn.execute(
            select(Study.study_id, Study.content_hash).where(Study.study_id.in_(chunk))
        )
    )
    journal_ids = names.ids(
        conn, Journal, (s["journal"] for s in by_id.values() if s.get("journal"))
    )
    author_ids = names.ids(
        conn, Author, (a for s in by_id.values() for a in s.get("authors") or [])
    )

    new_rows: list[dict[str, Any]] = []
    changed_rows: list[dict[str, Any]] = []
    unchanged_ids: list[str] = []
    for study_id, data in by_id.items():
        digest, snapshot = hash_and_snapshot(data)
        old_hash = stored.get(study_id)
        if old_hash == digest:
            unchanged_ids.append(study_id)
            continue
        row = {column: data.get(column) for column in STUDY_COLUMNS}
        row["journal_id"] = journal_ids.get(data["journal"]) if data.get("journal") else None
        row.update(snapshot=snapshot, content_hash=digest, changed_at=now, last_seen=now)
        row["last_run_id"] = run_id
        if old_hash is None:
            row.update(study_id=study_id, first_seen=now, first_run_id=run_id)
            new_rows.append(row)
        else:
            row["b_study_id"] = study_id
            changed_rows.append(row)

    if new_rows:
        insert_rows(conn, Study, new_rows)
    changed_ids = [row["b_study_id"] for row in changed_rows]
    if changed_rows:
        _keep_history(conn, changed_ids, run_id, now)
        values: dict[str, Any] = {
            key: bindparam(key) for key in changed_rows[0] if key != "b_study_id"
        }
        values.update(gone_at=None, gone_run_id=None, gone_status=None)
        conn.execute(
            update(Study).where(Study.study_id == bindparam("b_study_id")).values(values),
            changed_rows,
        )
    for chunk in chunks(unchanged_ids):
        conn.execute(
            update(Study)
            .where(Study.study_id.in_(chunk))
            .values(
                last_seen=now, last_run_id=run_id, gone_at=None, gone_run_id=None, gone_status=None
            )
        )

    # A new study has no children yet (foreign keys): only changed ones need clearing.
    _delete_children(conn, changed_ids)
    rewritten = [row["study_id"] for row in new_rows] + changed_ids
    _write_children(conn, [by_id[sid] for sid in rewritten], author_ids, run_id, now)
    result.new, result.updated, result.unchanged = (
        len(new_rows),
        len(changed_rows),
        len(unchanged_ids),
    )


def insert_rows(conn: Connection, model: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT rows (dicts with the same keys) straight through the driver, as child rows go.

    On PostgreSQL psycopg takes every value as it is (datetimes, booleans, JSON text) in column
    arrays; SQLite gets each column's values as SQLAlchemy would bind them (its text for
    datetimes, the JSON text) and the driver's executemany, without SQLAlchemy's per-row
    parameter handling. New studies and new comments go this way.
    """
    if not rows:
        return
    columns = tuple(rows[0])
    values = [tuple(row[c] for c in columns) for row in rows]
    if not sends_arrays(conn):
        values = _bound(conn, model, columns, values)
    insert_plain_rows(conn, model, columns, values)


def _bound(
    conn: Connection, model: Any, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """The rows as SQLAlchemy binds them: each column type's bind processing for the dialect."""
    dialect = conn.dialect
    table = model.__table__
    processors = [
        (i, proc)
        for i, name in enumerate(columns)
        if (proc := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
    ]
    if not processors:
        return rows
    bound = []
    for row in rows:
        values = list(row)
        for i, proc in processors:
            values[i] = proc(values[i])
        bound.append(tuple(values))
    return bound


def _keep_history(
    conn: Connection, study_ids: Sequence[str], run_id: int | None, now: datetime
) -> None:
    """Copy the stored versions of studies about to change into the history table.

    ``INSERT ... SELECT`` inside the database: the snapshots are copied as they are stored,
    never read into Python and encoded again.
    """
    columns = ["entity", "entity_key", "run_id", "recorded_at", "content_hash", "data"]
    for chunk in chunks(study_ids):
        stored = select(
            literal("study", History.entity.type),
            Study.study_id,
            literal(run_id, History.run_id.type),
            literal(now, History.recorded_at.type),
            Study.content_hash,
            Study.snapshot,
        ).where(Study.study_id.in_(chunk))
        conn.execute(insert(History).from_select(columns, stored))


def _delete_children(conn: Connection, study_ids: Sequence[str]) -> None:
    """Remove the authors, research links and community cards of changed studies."""
    for model, key in (
        (StudyAuthor, StudyAuthor.study_id),
        (ResearchLink, ResearchLink.source_study_id),
        (StudyThread, StudyThread.study_id),
    ):
        for chunk in chunks(study_ids):
            conn.execute(delete(model).where(key.in_(chunk)))


def _write_children(
    conn: Connection,
    studies: Sequence[dict[str, Any]],
    author_ids: dict[str, int],
    run_id: int | None,
    now: datetime,
) -> None:
    """Insert the authors, research links and community cards of new or changed studies."""
    if not studies:
        return

    insert_plain_rows(
        conn,
        StudyAuthor,
        ("study_id", "position", "author_id"),
        [
            (s["study_id"], pos, author_ids[name])
            for s in studies
            for pos, name in enumerate(s.get("authors") or [])
        ],
    )
    insert_plain_rows(
        conn,
        ResearchLink,
        LINK_COLUMNS,
        [
            (
                s["study_id"],
                kind,
                pos,
                ref.get("study_id"),
                ref.get("url"),
                ref.get("title"),
                ref.get("citations"),
                ref.get("published"),
                ref.get("journal"),
                ref.get("tldr"),
            )
            for s in studies
            for kind in ("cited", "related")
            for pos, ref in enumerate(s.get(kind) or [])
        ],
    )

    cards = [
        (s["study_id"], pos, card)
        for s in studies
        for pos, card in enumerate(s.get("community_posts") or [])
    ]
    thread_ids = upsert_cards(conn, [card for _, _, card in cards], run_id, now)
    card_rows = []
    for study_id, pos, card in cards:
        card_key = thread_key(card.get("post_id"), card.get("url"), card.get("title"))
        if card_key is not None:
            card_rows.append((study_id, pos, thread_ids[card_key], card.get("age")))
    insert_plain_rows(
        conn, StudyThread, ("study_id", "position", "thread_id", "age_text"), card_rows
    )


LINK_COLUMNS = (
    "source_study_id",
    "kind",
    "position",
    "target_study_id",
    "url",
    "title",
    "citations",
    "published",
    "journal",
    "tldr",
)


def insert_plain_rows(
    conn: Connection, model: Any, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> None:
    """INSERT rows of values the driver takes as they are (str, int, None) straight through it.

    Child rows are most of a batch's rows, and none of their values needs SQLAlchemy's per-row
    type processing, which costs more than the driver's insert itself; the statement is still
    compiled by SQLAlchemy for the connection's dialect and parameter style. SQLite gets the
    driver's executemany (a loop in C); PostgreSQL through psycopg one statement whose columns
    are arrays.
    """
    if not rows:
        return
    # The driver applies no Python-side defaults: a column that has one must be given.
    defaulted = [
        c.name for c in model.__table__.c if c.default is not None and c.name not in columns
    ]
    if defaulted:
        raise ValueError(f"{model.__tablename__}: no values given for {', '.join(defaulted)}")
    if sends_arrays(conn):
        _insert_unnest(conn, model, columns, rows)
        return
    compiled = insert(model).compile(dialect=conn.dialect, column_keys=list(columns))
    if compiled.positiontup is not None:  # qmark / format: tuples in the statement's order
        order = [columns.index(name) for name in compiled.positiontup]
        if order != list(range(len(columns))):
            rows = [tuple(row[i] for i in order) for row in rows]
        conn.exec_driver_sql(compiled.string, list(rows))
    else:  # named / pyformat
        named = [dict(zip(columns, row, strict=True)) for row in rows]
        conn.exec_driver_sql(compiled.string, named)


def _insert_unnest(
    conn: Connection, model: Any, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> None:
    """``INSERT ... SELECT * FROM unnest(<one array per column>)``: one statement for all rows.

    psycopg's executemany sends one INSERT per row (pipelined), and PostgreSQL parses, plans
    and runs each; with the columns sent as arrays it does that once for the whole batch. The
    arrays go in psycopg's binary format (``%b``), which needs no quoting of their strings: for
    long text (summaries, snapshots) that is several times faster than a statement built by
    SQLAlchemy (:func:`tressless_crawler.db.sql.unnest_rows`), whose arrays go as text.
    Errors still go through SQLAlchemy (its exceptions, its invalidation of a lost
    connection), as for any statement.
    """
    preparer = conn.dialect.identifier_preparer
    table = model.__table__
    arrays = ", ".join(
        f"%b::{table.c[name].type.compile(dialect=conn.dialect)}[]" for name in columns
    )
    statement = "INSERT INTO {} ({}) SELECT * FROM unnest({})".format(
        preparer.format_table(table),
        ", ".join(preparer.quote(name) for name in columns),
        arrays,
    )
    conn.exec_driver_sql(statement, tuple(list(column) for column in zip(*rows, strict=True)))


def upsert_cards(
    conn: Connection, cards: Sequence[dict[str, Any]], run_id: int | None, now: datetime
) -> dict[str, int]:
    """Upsert threads as seen on study cards; return thread_key -> id.

    A thread that was crawled itself is the authority: a card then only fills
    what the thread lacks, and refreshes the upvote count (the card is newer).
    On PostgreSQL the rows go as column arrays (``INSERT ... SELECT FROM unnest``): most cards
    of a crawl name threads already stored, and one statement updates them all.
    """
    rows: dict[str, dict[str, Any]] = {}
    for card in cards:
        key = thread_key(card.get("post_id"), card.get("url"), card.get("title"))
        if key is None:
            continue
        rows[key] = {
            "thread_key": key,
            "post_id": card.get("post_id"),
            "url": card.get("url"),
            "title": card.get("title"),
            "category": card.get("category"),
            "upvotes": card.get("upvotes"),
            "age_text": card.get("age"),
            "posted_approx": card.get("posted_approx"),
            "posted_precision": card.get("posted_precision"),
            "summary": card.get("summary"),
            "source": "card",
            "card_seen_at": now,
            "first_seen": now,
            "last_seen": now,
            "changed_at": now,
            "last_run_id": run_id,
        }
    if not rows:
        return {}
    params: Any
    if sends_arrays(conn):
        columns = tuple(next(iter(rows.values())))
        stmt = postgresql.insert(Thread).from_select(columns, unnest_rows(Thread, columns))
        params = unnest_params(columns, [tuple(row[c] for c in columns) for row in rows.values()])
    else:
        stmt = dialect_insert(conn, Thread)
        params = list(rows.values())
    ex = stmt.excluded
    from_card = Thread.source == "card"

    def card_value(column: str) -> Any:
        current = getattr(Thread, column)
        return case(
            (from_card, getattr(ex, column)), else_=func.coalesce(current, getattr(ex, column))
        )

    stmt = stmt.on_conflict_do_update(
        index_elements=["thread_key"],
        set_={
            "url": card_value("url"),
            "title": card_value("title"),
            "category": card_value("category"),
            "summary": card_value("summary"),
            "posted_approx": ex.posted_approx,
            "posted_precision": ex.posted_precision,
            "age_text": ex.age_text,
            # The thread's own count is newer unless this card was seen after the thread crawl.
            "upvotes": case(
                (from_card, ex.upvotes),
                (
                    Thread.thread_crawled_at < ex.card_seen_at,
                    func.coalesce(ex.upvotes, Thread.upvotes),
                ),
                else_=Thread.upvotes,
            ),
            "card_seen_at": ex.card_seen_at,
            "last_seen": ex.last_seen,
            "last_run_id": ex.last_run_id,
        },
    )
    # DO UPDATE returns every row, inserted or not: no second select for the ids.
    returned = conn.execute(stmt.returning(Thread.thread_key, Thread.id), params)
    return {key: id_ for key, id_ in returned}


def mark_studies_gone(
    engine: Engine, gone: dict[str, int], run_id: int | None, now: datetime
) -> int:
    """Mark studies whose pages now answer 404/410 as gone; never delete them."""
    if not gone:
        return 0
    with engine.begin() as conn:
        lock_for_write(conn)
        return mark_studies_gone_in(conn, gone, run_id, now)


def mark_studies_gone_in(
    conn: Connection, gone: dict[str, int], run_id: int | None, now: datetime
) -> int:
    marked = 0
    for study_id, status in gone.items():
        result = conn.execute(
            update(Study)
            .where(Study.study_id == study_id, Study.gone_at.is_(None))
            .values(gone_at=now, gone_run_id=run_id, gone_status=status)
        )
        marked += result.rowcount or 0
    return marked


def record_pages(
    engine: Engine, pages: Sequence[dict[str, Any]], run_id: int | None, now: datetime
) -> int:
    """:func:`record_pages_in` in a transaction of its own."""
    if not pages:
        return 0
    with engine.begin() as conn:
        lock_for_write(conn)
        return record_pages_in(conn, pages, run_id, now)


def record_pages_in(
    conn: Connection, pages: Sequence[dict[str, Any]], run_id: int | None, now: datetime
) -> int:
    """Remember what each URL answered; a 304 also counts as a sight of its (unchanged) study.

    A 404/410 of a URL the database has no row for (a dead link, a bad sitemap entry) leaves
    no ``pages`` row: only what was stored once needs its answer remembered.
    Returns the number of studies confirmed unchanged by a 304.
    """
    if not pages:
        return 0
    rows = {page["url"]: page for page in pages}
    dead = [url for url, p in rows.items() if p["status"] in GONE_STATUSES]
    if dead:
        known = {
            url
            for chunk in chunks(dead)
            for (url,) in conn.execute(select(Page.url).where(Page.url.in_(chunk)))
        }
        for url in dead:
            if url not in known:
                del rows[url]
    fresh = [p for p in rows.values() if p["status"] != 304]
    not_modified = [p for p in rows.values() if p["status"] == 304]
    confirmed = 0
    if fresh:
        stmt = dialect_insert(conn, Page)
        stmt = stmt.on_conflict_do_update(
            index_elements=["url"],
            set_={
                "kind": stmt.excluded.kind,
                "key": stmt.excluded.key,
                "status": stmt.excluded.status,
                "etag": stmt.excluded.etag,
                "last_modified": stmt.excluded.last_modified,
                "fetched_at": stmt.excluded.fetched_at,
                "run_id": stmt.excluded.run_id,
                "warc_record_id": stmt.excluded.warc_record_id,
            },
        )
        conn.execute(
            stmt,
            [
                {
                    "url": p["url"],
                    "kind": p["kind"],
                    "key": p.get("key"),
                    "status": p["status"],
                    "etag": p.get("etag"),
                    "last_modified": p.get("last_modified"),
                    "fetched_at": now,
                    "run_id": run_id,
                    "warc_record_id": p.get("warc_record_id"),
                }
                for p in fresh
            ],
        )
    for chunk in chunks([p["url"] for p in not_modified]):
        conn.execute(update(Page).where(Page.url.in_(chunk)).values(fetched_at=now, run_id=run_id))
    study_ids = sorted({p["key"] for p in not_modified if p["kind"] == "study" and p.get("key")})
    for chunk in chunks(study_ids):
        result = conn.execute(
            update(Study).where(Study.study_id.in_(chunk)).values(last_seen=now, last_run_id=run_id)
        )
        confirmed += result.rowcount or 0
    thread_ids = sorted({p["key"] for p in not_modified if p["kind"] == "thread" and p.get("key")})
    for chunk in chunks(thread_ids):  # a thread that answered 304 is still there
        conn.execute(
            update(Thread)
            .where(Thread.post_id.in_(chunk))
            .values(last_seen=now, last_run_id=run_id, thread_crawled_at=now)
        )
    return confirmed
