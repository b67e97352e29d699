"""Crawled threads and comments (SQLite, PostgreSQL): edits update, disappearances are marked."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tressless_crawler.db import schema
from tressless_crawler.db import study_writes as store
from tressless_crawler.db import thread_writes as thread_store
from tressless_crawler.db.engine import make_engine
from tressless_crawler.db.models import Comment, History, Thread
from tressless_crawler.items import CommentItem, CommunityCard, StudyItem, ThreadItem

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def thread(**overrides: object) -> dict:
    item = ThreadItem(
        post_id="k3j9xz",
        url="https://www.reddit.com/r/tressless/comments/k3j9xz/oral_minoxidil/",
        title="Oral minoxidil 2.5mg, 6 month update",
        category="Treatment",
        author="hairhopeful",
        posted_at="2021-03-04T05:06:07Z",
        upvotes=120,
        body="Started at 1.25mg…",
        comment_count=3,
        comments=[
            CommentItem(
                comment_id="c1",
                author="a",
                body="Nice results",
                upvotes=5,
                depth=0,
                posted_at="2021-03-04T06:00:00Z",
            ),
            CommentItem(
                comment_id="c2", parent_id="c1", author="b", body="Agreed 😀", upvotes=2, depth=1
            ),
            CommentItem(
                comment_id="c3", parent_id="c2", author=None, body=None, kind="deleted", depth=2
            ),
            CommentItem(comment_id="m1", parent_id="c1", kind="more", more_count=4, depth=1),
        ],
        source_format="reddit_json",
    )
    data = asdict(item)
    data.update(overrides)
    return data


@pytest.fixture
def engine(db_url: str):
    engine = make_engine(db_url, immediate=True)
    schema.upgrade(engine)
    yield engine
    engine.dispose()


def comments(engine) -> dict[str, Comment]:
    with Session(engine) as session:
        rows = {c.comment_id: c for c in session.execute(select(Comment)).scalars()}
        session.expunge_all()
    return rows


def test_thread_and_comment_tree_are_stored(engine) -> None:
    threads, found = thread_store.write_threads(engine, [thread()], None, T0)
    assert (threads.new, found.new) == (1, 4)
    rows = comments(engine)
    assert rows["c2"].parent_id == "c1" and rows["c3"].parent_id == "c2"
    assert rows["c3"].kind == "deleted" and rows["c3"].author is None
    more = [c for c in rows.values() if c.kind == "more"]
    assert len(more) == 1 and more[0].more_count == 4 and more[0].comment_id != "m1"  # scoped key
    with Session(engine) as session:
        stored = session.execute(select(Thread)).scalar_one()
    assert stored.source == "thread" and stored.posted_at.replace(tzinfo=None) == datetime(
        2021, 3, 4, 5, 6, 7
    )


def test_same_thread_again_writes_nothing(engine) -> None:
    thread_store.write_threads(engine, [thread()], None, T0)
    threads, found = thread_store.write_threads(engine, [thread()], None, T0 + timedelta(days=1))
    assert (threads.unchanged, found.unchanged, found.new, found.updated) == (1, 4, 0, 0)
    with Session(engine) as session:
        assert session.execute(select(History)).first() is None


def test_edited_comment_is_updated_and_vanished_one_marked_gone(engine) -> None:
    thread_store.write_threads(engine, [thread()], None, T0)
    later = thread(upvotes=150)
    later["comments"][0]["body"] = "Nice results (edit: 9 months now)"
    later["comments"][0]["edited"] = True
    del later["comments"][1:3]  # c2 and its reply c3 are gone from the page
    threads, found = thread_store.write_threads(engine, [later], None, T0 + timedelta(days=30))
    assert threads.updated == 1 and found.updated == 1 and found.gone == 2
    rows = comments(engine)
    assert len(rows) == 4  # kept, not deleted
    assert rows["c1"].body.startswith("Nice results (edit") and rows["c1"].edited
    assert rows["c2"].gone_at is not None and rows["c3"].gone_at is not None
    with Session(engine) as session:
        history = session.execute(select(History).order_by(History.entity)).scalars().all()
    assert [h.entity for h in history] == ["comment", "thread"]
    assert history[0].data["body"] == "Nice results" and history[1].data["upvotes"] == 120


def test_thread_crawl_completes_the_card_and_keeps_its_summary(engine) -> None:
    card = CommunityCard(
        post_id="k3j9xz",
        url="https://www.reddit.com/r/tressless/comments/k3j9xz/a/",
        title="ORAL MINOX UPDATE!!!",
        category="Treatment",
        upvotes=100,
        age="4 years ago",
        summary="A user shares six months of oral minoxidil.",
    )
    study = asdict(
        StudyItem(
            study_id="ZpoR",
            url="https://tressless.com/research/x-ZpoR",
            title="T",
            community_posts=[card],
        )
    )
    store.write_studies(engine, [study], None, T0)
    thread_store.write_threads(engine, [thread()], None, T0 + timedelta(days=1))
    with Session(engine) as session:
        rows = session.execute(select(Thread)).scalars().all()
    assert len(rows) == 1  # the card's row became the thread's
    assert rows[0].title == "Oral minoxidil 2.5mg, 6 month update"
    assert rows[0].summary == "A user shares six months of oral minoxidil."


def test_new_comments_store_every_column_as_given(engine) -> None:
    """New comments go straight to the driver: every column as the SQLAlchemy path stored it."""
    item = thread()
    item["comments"][1].update(edited=True, stickied=True, distinguished="moderator")
    thread_store.write_threads(engine, [item], None, T0)
    rows = comments(engine)
    with Session(engine) as session:
        thread_id = session.execute(select(Thread.id)).scalar_one()
    first = rows["c1"]
    assert (first.thread_id, first.parent_id, first.position, first.depth, first.kind) == (
        thread_id,
        None,
        0,
        0,
        "comment",
    )
    assert (first.author, first.body, first.upvotes, first.more_count) == (
        "a",
        "Nice results",
        5,
        None,
    )
    posted = first.posted_at
    posted = posted.astimezone(UTC) if posted.tzinfo else posted.replace(tzinfo=UTC)
    assert posted == datetime(2021, 3, 4, 6, 0, tzinfo=UTC)
    assert (first.edited, first.stickied, first.distinguished) == (False, False, None)
    second = rows["c2"]
    assert (second.position, second.depth, second.body) == (1, 1, "Agreed 😀")
    assert (second.edited, second.stickied, second.distinguished) == (True, True, "moderator")
    assert (
        second.posted_at is None
        and second.content_hash
        and second.content_hash != first.content_hash
    )
    for row in rows.values():
        seen = (row.first_seen, row.last_seen, row.changed_at)
        assert {t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC) for t in seen} == {T0}
        assert (row.last_run_id, row.gone_at, row.gone_run_id) == (None, None, None)


def test_a_reply_keeps_its_parent_id_and_is_linked_once_the_parent_is_stored(engine) -> None:
    # A permalink ("context") page: the reply c2 comes without its parent c1.
    context = thread()
    context["comments"] = [dict(context["comments"][1]), dict(context["comments"][2])]
    thread_store.write_threads(engine, [context], None, T0)
    rows = comments(engine)
    assert (rows["c2"].parent_id, rows["c2"].parent_link) == ("c1", None)
    assert (rows["c3"].parent_id, rows["c3"].parent_link) == ("c2", "c2")
    # The whole thread: c1 is stored, and c2 is linked to it.
    thread_store.write_threads(engine, [thread()], None, T0 + timedelta(days=1))
    rows = comments(engine)
    assert (rows["c2"].parent_id, rows["c2"].parent_link) == ("c1", "c1")
    assert rows["c1"].parent_link is None and rows["c1"].parent_id is None


def test_a_reply_stored_before_its_parent_on_another_page_is_linked_later(engine) -> None:
    context = thread()
    context["comments"] = [dict(context["comments"][1])]  # c2 alone, parent c1 not here
    thread_store.write_threads(engine, [context], None, T0)
    assert comments(engine)["c2"].parent_link is None
    later = thread()
    later["comments"] = [dict(later["comments"][0])]  # c1 alone: c2 is not on this page
    thread_store.write_threads(engine, [later], None, T0 + timedelta(days=1))
    rows = comments(engine)
    assert (rows["c2"].parent_id, rows["c2"].parent_link) == ("c1", "c1")


def test_kept_comments_take_their_new_place_and_are_not_marked_gone(engine) -> None:
    thread_store.write_threads(engine, [thread()], None, T0)
    before = comments(engine)
    # A later crawl did not fetch c1's replies again: they come as "kept" items, elsewhere.
    later = thread()
    c1, c2, c3, stub = later["comments"]
    later["comments"] = [
        {**c2, "kind": "kept", "body": None, "author": None, "depth": 0},
        asdict(CommentItem(comment_id="new", body="x")),
        c1,
        {**c3, "kind": "kept", "body": None, "depth": 1},
        {"comment_id": "gone-meanwhile", "kind": "kept", "parent_id": None, "depth": 0},
    ]
    _, found = thread_store.write_threads(engine, [later], None, T0 + timedelta(days=1))
    rows = comments(engine)
    assert (found.new, found.unchanged, found.updated) == (1, 3, 0)
    assert "gone-meanwhile" not in rows  # a kept id that is not stored is not invented
    assert [rows[k].position for k in ("c2", "new", "c1", "c3")] == [0, 1, 2, 3]
    assert rows["c2"].body == before["c2"].body and rows["c2"].author == before["c2"].author
    assert rows["c2"].content_hash == before["c2"].content_hash
    assert all(rows[k].gone_at is None for k in ("c1", "c2", "c3"))
    assert rows[next(k for k in rows if k.startswith("more:"))].gone_at is not None
