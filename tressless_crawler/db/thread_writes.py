"""Batched writes of crawled community threads and their comments.

A crawled thread is the authority over what its study cards said: its row is
upserted by post id and marked ``source = "thread"``. Comments are upserted by
comment id: an edited comment is updated (its previous text kept in history),
a comment that disappeared from the thread is kept and marked gone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from tressless_crawler.db.models import Comment, History, Thread
from tressless_crawler.db.snapshots import content_hash, hash_and_snapshot
from tressless_crawler.db.sql import chunks, dialect_insert
from tressless_crawler.db.study_writes import BatchResult, insert_rows, lock_for_write
from tressless_crawler.db.types import as_utc

logger = logging.getLogger(__name__)

THREAD_COLUMNS = (
    "post_id",
    "url",
    "title",
    "category",
    "author",
    "upvotes",
    "body",
    "comment_count",
    "link_url",
    "edited",
    "source_format",
)
KEPT = "kept"  # a comment item standing for a stored comment (tressless_crawler.spiders.expansion)
COMMENT_COLUMNS = (
    "author",
    "body",
    "upvotes",
    "depth",
    "kind",
    "more_count",
    "edited",
    "stickied",
    "distinguished",
)


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return as_utc(moment)  # items' times are UTC; a naive one is too


def comment_key(post_id: str, comment: dict[str, Any], position: int) -> str:
    """A comment's stored id; "more" stubs and id-less comments get one scoped to the thread."""
    cid = comment.get("comment_id")
    if comment.get("kind") == "more" or not cid or cid == "_":
        kind = comment.get("kind") or "comment"
        return f"{kind}:{post_id}:{comment.get('parent_id') or ''}:{cid or position}"
    return str(cid)


def write_threads(
    engine: Engine, threads: Sequence[dict[str, Any]], run_id: int | None, now: datetime
) -> tuple[BatchResult, BatchResult]:
    """Upsert crawled threads with their comments; returns (threads, comments) counts."""
    if not threads:
        return BatchResult(), BatchResult()
    with engine.begin() as conn:
        lock_for_write(conn)
        return write_threads_in(conn, threads, run_id, now)


def write_threads_in(
    conn: Connection, threads: Sequence[dict[str, Any]], run_id: int | None, now: datetime
) -> tuple[BatchResult, BatchResult]:
    """:func:`write_threads` inside ``conn``'s transaction (its write lock already taken)."""
    by_id = {t["post_id"]: t for t in threads}
    thread_result, comment_result = BatchResult(), BatchResult()
    if not by_id:
        return thread_result, comment_result
    existing = {
        row.thread_key: row
        for chunk in chunks(list(by_id))
        for row in conn.execute(
            select(
                Thread.id,
                Thread.thread_key,
                Thread.content_hash,
                Thread.snapshot,
                Thread.source,
            ).where(Thread.thread_key.in_(chunk))
        )
    }
    for post_id, data in by_id.items():
        comments = data.get("comments") or []
        digest, snapshot = hash_and_snapshot({k: v for k, v in data.items() if k != "comments"})
        old = existing.get(post_id)
        values = {column: data.get(column) for column in THREAD_COLUMNS}
        values.update(
            posted_at=parse_time(data.get("posted_at")),
            source="thread",
            snapshot=snapshot,
            content_hash=digest,
            thread_crawled_at=now,
            last_seen=now,
            last_run_id=run_id,
            gone_at=None,
            gone_run_id=None,
        )
        if data.get("summary"):
            values["summary"] = data["summary"]
        if old is None:
            values.update(thread_key=post_id, first_seen=now, changed_at=now)
            thread_id = conn.execute(
                dialect_insert(conn, Thread).values(values).returning(Thread.id)
            ).scalar_one()
            thread_result.new += 1
        elif old.source != "thread" or old.content_hash != digest:
            if old.source == "thread":
                _history(conn, "thread", post_id, run_id, now, old.content_hash, old.snapshot)
                thread_result.updated += 1
            else:
                thread_result.new += 1  # first crawl of a thread known from cards
            values["changed_at"] = now
            conn.execute(update(Thread).where(Thread.id == old.id).values(values))
            thread_id = old.id
        else:
            conn.execute(
                update(Thread)
                .where(Thread.id == old.id)
                .values(
                    last_seen=now,
                    last_run_id=run_id,
                    thread_crawled_at=now,
                    gone_at=None,
                    gone_run_id=None,
                )
            )
            thread_result.unchanged += 1
            thread_id = old.id
        comment_result.add(_write_comments(conn, thread_id, post_id, comments, run_id, now))
    return thread_result, comment_result


def _history(
    conn: Connection,
    entity: str,
    key: str,
    run_id: int | None,
    now: datetime,
    digest: str | None,
    data: Any,
) -> None:
    conn.execute(
        insert(History).values(
            entity=entity,
            entity_key=key,
            run_id=run_id,
            recorded_at=now,
            content_hash=digest,
            data=data,
        )
    )


def _comment_values(comment: dict[str, Any]) -> dict[str, Any]:
    values = {column: comment.get(column) for column in COMMENT_COLUMNS}
    values["posted_at"] = parse_time(comment.get("posted_at"))
    return values


def _write_comments(
    conn: Connection,
    thread_id: int,
    post_id: str,
    comments: Sequence[dict[str, Any]],
    run_id: int | None,
    now: datetime,
) -> BatchResult:
    """Upsert the thread's comments; stored ones not in it are marked gone. A ``kept``
    comment (stored by an earlier crawl, not fetched again) only takes its new place."""
    result = BatchResult()
    stored = {
        row.comment_id: row
        for row in conn.execute(
            select(
                Comment.comment_id,
                Comment.content_hash,
                Comment.author,
                Comment.body,
                Comment.upvotes,
                Comment.edited,
                Comment.kind,
                Comment.more_count,
                Comment.gone_at,
                Comment.parent_id,
                Comment.parent_link,
                Comment.position,
                Comment.depth,
            ).where(Comment.thread_id == thread_id)
        )
    }
    keys: list[str] = []
    known = set(stored)
    new_rows, changed_rows, unchanged = [], [], []
    moved: list[dict[str, Any]] = []  # unchanged, in a new place (or kept)
    for position, comment in enumerate(comments):
        key = comment_key(post_id, comment, position)
        if key in keys:
            continue  # the same comment twice in one page: keep the first
        if comment.get("kind") == KEPT:
            if key in stored:  # else it is not stored (any more): nothing to keep
                keys.append(key)
                known.add(key)
                moved.append(_placed(key, position, comment.get("depth") or 0, run_id, now))
            continue
        keys.append(key)
        parent = comment.get("parent_id")
        known.add(key)
        values = _comment_values(comment)
        digest = content_hash(values | {"posted_at": comment.get("posted_at"), "parent_id": parent})
        values.update(
            parent_id=parent,
            # the id always; the link once the parent is stored (a reply on a permalink page
            # comes without its parent)
            parent_link=parent if parent in known else None,
            position=position,
            content_hash=digest,
            last_seen=now,
            last_run_id=run_id,
            gone_at=None,
            gone_run_id=None,
        )
        old = stored.get(key)
        if old is None:
            values.update(comment_id=key, thread_id=thread_id, first_seen=now, changed_at=now)
            new_rows.append(values)
        elif old.content_hash != digest:
            _history(
                conn,
                "comment",
                key,
                run_id,
                now,
                old.content_hash,
                {
                    "author": old.author,
                    "body": old.body,
                    "upvotes": old.upvotes,
                    "edited": old.edited,
                    "kind": old.kind,
                    "more_count": old.more_count,
                },
            )
            values.update(b_comment_id=key, changed_at=now)
            changed_rows.append(values)
        elif (old.position, old.depth) != (position, values["depth"]):
            moved.append(_placed(key, position, values["depth"], run_id, now))
        else:
            unchanged.append(key)
    if new_rows:
        insert_rows(conn, Comment, new_rows)
    if changed_rows:
        conn.execute(
            update(Comment)
            .where(Comment.comment_id == bindparam("b_comment_id"))
            .values({k: bindparam(k) for k in changed_rows[0] if k != "b_comment_id"}),
            changed_rows,
        )
    if moved:
        conn.execute(
            update(Comment)
            .where(Comment.comment_id == bindparam("b_comment_id"))
            .values({k: bindparam(k) for k in moved[0] if k != "b_comment_id"}),
            moved,
        )
    for chunk in chunks(unchanged):
        conn.execute(
            update(Comment)
            .where(Comment.comment_id.in_(chunk))
            .values(last_seen=now, last_run_id=run_id, gone_at=None, gone_run_id=None)
        )
    # Replies stored before their parent: linked now that it is.
    orphans = [
        key for key, row in stored.items() if row.parent_link is None and row.parent_id in known
    ]
    for key in orphans:
        conn.execute(
            update(Comment)
            .where(Comment.comment_id == key)
            .values(parent_link=stored[key].parent_id)
        )
    missing = [key for key, row in stored.items() if key not in keys and row.gone_at is None]
    for chunk in chunks(missing):
        conn.execute(
            update(Comment)
            .where(Comment.comment_id.in_(chunk))
            .values(gone_at=now, gone_run_id=run_id)
        )
    result.new, result.updated, result.unchanged, result.gone = (
        len(new_rows),
        len(changed_rows),
        len(unchanged) + len(moved),
        len(missing),
    )
    return result


def _placed(
    key: str, position: int, depth: int, run_id: int | None, now: datetime
) -> dict[str, Any]:
    """The update of an unchanged comment in a new place of its thread."""
    return {
        "b_comment_id": key,
        "position": position,
        "depth": depth,
        "last_seen": now,
        "last_run_id": run_id,
        "gone_at": None,
        "gone_run_id": None,
    }


def stored_comments(engine: Engine, post_id: str) -> dict[str, str | None]:
    """Comment id -> parent id of a thread's stored comments (not stubs, not gone), in the
    order of the thread."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Comment.comment_id, Comment.parent_id)
            .join(Thread, Thread.id == Comment.thread_id)
            .where(
                Thread.post_id == post_id,
                Comment.gone_at.is_(None),
                Comment.kind != "more",
            )
            .order_by(Comment.position)
        )
        return {comment_id: parent_id for comment_id, parent_id in rows}


def mark_threads_gone_in(
    conn: Connection, gone: dict[str, int], run_id: int | None, now: datetime
) -> int:
    if not gone:
        return 0
    marked = 0
    for chunk in chunks(list(gone)):
        result = conn.execute(
            update(Thread)
            .where(Thread.thread_key.in_(chunk), Thread.gone_at.is_(None))
            .values(gone_at=now, gone_run_id=run_id)
        )
        marked += result.rowcount or 0
    return marked
