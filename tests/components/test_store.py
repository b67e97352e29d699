"""The batched store on a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

import copy
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tressless_crawler.db import runs, schema, snapshots
from tressless_crawler.db import study_writes as store
from tressless_crawler.db.engine import DEFERRED, make_engine
from tressless_crawler.db.models import (
    Author,
    History,
    Journal,
    ResearchLink,
    Study,
    StudyAuthor,
    StudyThread,
    Thread,
)
from tressless_crawler.items import CommunityCard, ResearchRef, StudyItem

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def study(study_id: str, **overrides: object) -> dict:
    item = StudyItem(
        study_id=study_id,
        url=f"https://tressless.com/research/some-study-{study_id}",
        slug="some-study",
        title=f"Study {study_id}",
        published="2017-11",
        journal="The Journal of Dermatology",
        authors=["Yasuyuki Tanaka", "Vañó‐Galván S", "Bı́ró T"],
        tldr="Sorafenib may cause hair loss.",
        summary="A case report.",
        cited=[
            ResearchRef(study_id="AbC1", url="https://tressless.com/research/x-AbC1", title="X")
        ],
        cited_total=1,
        related=[ResearchRef(title="Unlinked related entry", citations=17)],
        community_posts=[
            CommunityCard(
                post_id="k3j9xz",
                url="https://www.reddit.com/r/tressless/comments/k3j9xz/a/",
                title="A post",
                category="Treatment",
                upvotes=2,
                age="4 years ago",
            ),
            CommunityCard(title="Unlinked card", upvotes=1, age="1 month ago"),
        ],
        community_total=1000,
        community_total_is_lower_bound=True,
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


def count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def test_first_write_inserts_everything(engine) -> None:
    result = store.write_studies(engine, [study("Zp1"), study("Zp2")], None, T0)
    assert (result.new, result.updated, result.unchanged) == (2, 0, 0)
    assert count(engine, Study) == 2
    assert count(engine, Journal) == 1  # shared
    assert count(engine, Author) == 3  # one row per distinct name
    assert count(engine, StudyAuthor) == 6
    assert count(engine, ResearchLink) == 4
    assert count(engine, Thread) == 2  # one linked post, one unlinked card
    assert count(engine, StudyThread) == 4
    with engine.connect() as conn:
        names = (
            conn.execute(
                select(Author.name)
                .join(StudyAuthor)
                .where(StudyAuthor.study_id == "Zp1")
                .order_by(StudyAuthor.position)
            )
            .scalars()
            .all()
        )
    with Session(engine) as session:
        row = session.execute(select(Study).where(Study.study_id == "Zp1")).scalar_one()
    assert names == ["Yasuyuki Tanaka", "Vañó‐Galván S", "Bı́ró T"]
    assert row.community_total == 1000 and row.community_total_is_lower_bound


def test_same_batch_again_changes_nothing(engine) -> None:
    store.write_studies(engine, [study("Zp1")], None, T0)
    with engine.connect() as conn:
        before = conn.execute(select(Study.changed_at, Study.content_hash)).one()
    result = store.write_studies(engine, [study("Zp1")], None, T0 + timedelta(days=1))
    assert (result.new, result.updated, result.unchanged) == (0, 0, 1)
    with engine.connect() as conn:
        after = conn.execute(select(Study.changed_at, Study.content_hash, Study.last_seen)).one()
    assert (after.changed_at, after.content_hash) == (before.changed_at, before.content_hash)
    assert after.last_seen.replace(tzinfo=None) == (T0 + timedelta(days=1)).replace(tzinfo=None)
    assert count(engine, History) == 0
    assert (
        count(engine, Study) == 1 and count(engine, Author) == 3 and count(engine, StudyAuthor) == 3
    )


def test_card_age_alone_is_not_a_change(engine) -> None:
    store.write_studies(engine, [study("Zp1")], None, T0)
    later = study("Zp1")
    later["community_posts"][0]["age"] = "5 years ago"
    result = store.write_studies(engine, [later], None, T0 + timedelta(days=400))
    assert result.unchanged == 1


def test_change_keeps_previous_version_in_history(engine) -> None:
    store.write_studies(engine, [study("Zp1")], None, T0)
    changed = study("Zp1", tldr="A new TLDR.", authors=["Yasuyuki Tanaka", "New Author"])
    run_id = runs.start_run(engine, "studies", {}, T0 + timedelta(days=1))
    result = store.write_studies(engine, [changed], run_id, T0 + timedelta(days=1))
    assert result.updated == 1
    with Session(engine) as session:
        row = session.execute(select(Study).where(Study.study_id == "Zp1")).scalar_one()
        history = session.execute(select(History)).scalars().all()
    with engine.connect() as conn:
        names = (
            conn.execute(select(Author.name).join(StudyAuthor).order_by(StudyAuthor.position))
            .scalars()
            .all()
        )
    assert row.tldr == "A new TLDR."
    assert len(history) == 1 and history[0].data == study("Zp1")  # the whole stored version
    assert history[0].entity == "study" and history[0].entity_key == "Zp1"
    assert history[0].content_hash == snapshots.content_hash(study("Zp1"))
    assert utc(history[0].recorded_at) == T0 + timedelta(days=1)
    assert history[0].run_id == run_id
    assert names == ["Yasuyuki Tanaka", "New Author"]


def test_duplicate_ids_within_a_batch_give_one_row(engine) -> None:
    result = store.write_studies(engine, [study("Zp1"), study("Zp1", title="Other slug")], None, T0)
    assert result.new == 1 and count(engine, Study) == 1


def test_gone_pages_are_marked_not_deleted(engine) -> None:
    store.write_studies(engine, [study("Zp1")], None, T0)
    assert store.mark_studies_gone(engine, {"Zp1": 404, "Nope": 404}, None, T0) == 1
    with Session(engine) as session:
        row = session.execute(select(Study)).scalar_one()
    assert row.gone_at is not None and row.gone_status == 404
    store.write_studies(engine, [study("Zp1")], None, T0 + timedelta(days=1))
    with engine.connect() as conn:
        assert conn.execute(select(Study.gone_at)).scalar_one() is None


def test_card_does_not_overwrite_a_crawled_thread(engine) -> None:
    store.write_studies(engine, [study("Zp1")], None, T0)
    with engine.begin() as conn:
        conn.execute(
            Thread.__table__.update()
            .where(Thread.post_id == "k3j9xz")
            .values(
                source="thread",
                title="Title from the thread",
                thread_crawled_at=T0 + timedelta(days=1),
            )
        )
    newer = study("Zp2")
    newer["community_posts"][0]["title"] = "Title on a card"
    newer["community_posts"][0]["upvotes"] = 50
    store.write_studies(engine, [newer], None, T0 + timedelta(days=2))
    with Session(engine) as session:
        thread = session.execute(select(Thread).where(Thread.post_id == "k3j9xz")).scalar_one()
    assert thread.title == "Title from the thread"
    assert thread.upvotes == 50  # the card was seen after the thread was crawled


def test_snapshot_is_the_normalised_item(engine) -> None:
    data = study("Zp1")
    store.write_studies(engine, [copy.deepcopy(data)], None, T0)
    with engine.connect() as conn:
        snapshot = conn.execute(select(Study.snapshot)).scalar_one()
    assert snapshot == data


def test_ids_of_a_rolled_back_batch_are_not_reused(engine) -> None:
    """A failed batch's new author ids must not be remembered: those rows were never stored."""
    broken = study("Zp9", title=None)  # NOT NULL: the batch fails after its names were inserted
    with pytest.raises(Exception):  # noqa: B017 - IntegrityError, wrapped per dialect
        store.write_studies(
            engine, [study("Zp1", authors=["Only In Failed Batch"]), broken], None, T0
        )
    with engine.begin() as conn:  # another name takes the place the rolled-back row had
        conn.execute(Author.__table__.insert(), [{"name": f"Someone Else {i}"} for i in range(9)])

    store.write_studies(engine, [study("Zp1", authors=["Only In Failed Batch"])], None, T0)

    with engine.connect() as conn:
        names = (
            conn.execute(select(Author.name).join(StudyAuthor, StudyAuthor.author_id == Author.id))
            .scalars()
            .all()
        )
    assert names == ["Only In Failed Batch"]


def test_names_known_from_earlier_batches_are_not_inserted_again(engine) -> None:
    store.write_studies(engine, [study("Zp1")], None, T0)
    store.write_studies(engine, [study("Zp2")], None, T0)  # same three authors and journal
    assert count(engine, Author) == 3
    assert count(engine, Journal) == 1
    with engine.connect() as conn:
        linked = conn.execute(
            select(StudyAuthor.study_id, Author.name)
            .join(Author, Author.id == StudyAuthor.author_id)
            .order_by(StudyAuthor.study_id, StudyAuthor.position)
        ).all()
    assert [name for sid, name in linked if sid == "Zp2"] == study("Zp2")["authors"]


def test_name_cache_is_bounded() -> None:
    from tressless_crawler.db.names import NameIds

    cache = NameIds(size=2)
    cache.pending[Author] = {"a": 1, "b": 2, "c": 3}
    cache.commit()
    assert list(cache.known[Author]) == ["b", "c"]
    cache.pending[Author] = {"d": 4}
    cache.rollback()
    cache.commit()
    assert list(cache.known[Author]) == ["b", "c"]


def test_child_rows_keep_every_value_as_given(engine) -> None:
    """insert_plain_rows: executemany on SQLite, one unnest() statement on PostgreSQL."""
    store.write_studies(engine, [study("Pl41", cited=[], related=[], community_posts=[])], None, T0)
    odd = ['quote " back \\ brace {a,b} NULL', "", "Vañó‐Galván ✓ 😀", "line\nbreak\ttab"]
    rows = [
        ("Pl41", "cited", pos, None, None, title, citations, None, None, None)
        for pos, (title, citations) in enumerate(
            [(odd[0], 2_000_000_000), (odd[1], None), (odd[2], 0), (odd[3], None), (None, 7)]
        )
    ]  # target_study_id, url, published, journal and tldr are None in every row
    with engine.begin() as conn:
        store.insert_plain_rows(conn, ResearchLink, store.LINK_COLUMNS, rows)
        store.insert_plain_rows(conn, ResearchLink, store.LINK_COLUMNS, [])
    with engine.connect() as conn:
        stored = conn.execute(
            select(*(getattr(ResearchLink, c) for c in store.LINK_COLUMNS)).order_by(
                ResearchLink.position
            )
        ).all()
    assert [tuple(row) for row in stored] == rows


def utc(value: datetime) -> datetime:
    """A stored time in UTC: SQLite gives it back naive, PostgreSQL in the session's zone."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def test_new_studies_and_card_threads_store_every_column_as_given(engine) -> None:
    """New studies and card threads: column arrays in one statement on PostgreSQL."""
    run_id = runs.start_run(engine, "studies", {}, T0)
    plain = study("Zq1", tldr=None, journal=None, cited_total=None)
    plain["community_posts"] = []
    full = study("Zq2", related_total=12, related_total_is_lower_bound=True)
    full["community_posts"][0].update(posted_approx="2022-06", posted_precision="year")
    store.write_studies(engine, [plain, full], run_id, T0)

    with Session(engine) as session:
        rows = {row.study_id: row for row in session.execute(select(Study)).scalars()}
        threads = {t.thread_key: t for t in session.execute(select(Thread)).scalars()}
        journal_id = session.execute(select(Journal.id)).scalar_one()
    for study_id, data in (("Zq1", plain), ("Zq2", full)):
        row = rows[study_id]
        for column in store.STUDY_COLUMNS:
            assert getattr(row, column) == data[column], (study_id, column)
        assert row.snapshot == data
        assert row.content_hash == snapshots.content_hash(data)
        assert {utc(row.first_seen), utc(row.last_seen), utc(row.changed_at)} == {T0}
        assert (row.first_run_id, row.last_run_id) == (run_id, run_id)
        assert (row.gone_at, row.gone_run_id, row.gone_status) == (None, None, None)
    assert rows["Zq1"].journal_id is None and rows["Zq2"].journal_id == journal_id
    assert rows["Zq2"].related_total_is_lower_bound is True
    assert rows["Zq1"].related_total_is_lower_bound is False

    post = threads["k3j9xz"]
    assert (post.post_id, post.url, post.title, post.category, post.upvotes) == (
        "k3j9xz",
        "https://www.reddit.com/r/tressless/comments/k3j9xz/a/",
        "A post",
        "Treatment",
        2,
    )
    assert (post.age_text, post.posted_approx, post.posted_precision) == (
        "4 years ago",
        "2022-06",
        "year",
    )
    assert (post.source, post.edited, post.snapshot, post.last_run_id) == (
        "card",
        False,
        {},
        run_id,
    )
    seen = (post.card_seen_at, post.first_seen, post.last_seen, post.changed_at)
    assert {utc(value) for value in seen} == {T0}
    unlinked = threads["title:Unlinked card"]
    assert (unlinked.post_id, unlinked.url, unlinked.upvotes) == (None, None, 1)


def test_a_new_study_stores_times_as_updates_through_sqlalchemy_do(engine) -> None:
    """The text SQLite holds for a time must not depend on which statement wrote it."""
    store.write_studies(engine, [study("Zq3")], None, T0)
    store.write_studies(engine, [study("Zq3")], None, T0)  # unchanged: an UPDATE of last_seen
    with engine.connect() as conn:
        first_seen, last_seen, first_type, last_type = conn.exec_driver_sql(
            "SELECT first_seen, last_seen, typeof(first_seen), typeof(last_seen) FROM studies"
            if conn.dialect.name == "sqlite"
            else "SELECT first_seen, last_seen, pg_typeof(first_seen)::text,"
            " pg_typeof(last_seen)::text FROM studies"
        ).one()
    assert (first_seen, first_type) == (last_seen, last_type)


def test_rows_straight_to_the_driver_must_give_columns_that_have_defaults(engine) -> None:
    """The driver applies no Python-side default: leaving such a column out is an error."""
    columns = ("study_id", "url", "title", "content_hash", "first_seen", "last_seen", "changed_at")
    with engine.begin() as conn, pytest.raises(ValueError, match="snapshot"):
        store.insert_plain_rows(conn, Study, columns, [("Zq4", "u", "t", "h", T0, T0, T0)])
    assert count(engine, Study) == 0


def page(url: str, status: int, key: str | None = None) -> dict:
    return {
        "url": url,
        "kind": "study",
        "key": key,
        "status": status,
        "etag": None,
        "last_modified": None,
    }


def test_a_batch_is_one_transaction_its_failure_leaves_nothing(engine) -> None:
    """Studies, gone marks and page records of a batch commit together or not at all."""
    from tressless_crawler.db.batch import Batch, write_batch
    from tressless_crawler.db.models import Page

    first = Batch()
    first.studies = [study("Zb1")]
    first.pages = [page("https://tressless.com/research/some-study-Zb1", 200, "Zb1")]
    counts = write_batch(engine, first, None, T0)
    assert counts["store/new"] == 1 and counts["store/pages"] == 1

    broken = Batch()
    broken.studies = [study("Zb2")]
    broken.gone["study"] = {"Zb1": 404}
    broken.pages = [
        page("https://tressless.com/research/some-study-Zb1", 404, "Zb1"),
        {"url": None, "kind": "study", "status": 200},  # refused: pages.url is NOT NULL
    ]
    with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises
        write_batch(engine, broken, None, T0 + timedelta(days=1))
    with Session(engine) as session:
        assert session.execute(select(Study.study_id)).scalars().all() == ["Zb1"]
        assert session.execute(select(Study.gone_at)).scalar_one() is None
        assert session.execute(select(Page.status)).scalars().all() == [200]


def test_a_404_of_a_url_never_stored_leaves_no_pages_row(engine) -> None:
    from tressless_crawler.db.models import Page

    known = "https://tressless.com/research/some-study-Zp1"
    store.write_studies(engine, [study("Zp1")], None, T0)
    store.record_pages(engine, [page(known, 200, "Zp1")], None, T0)
    store.record_pages(
        engine,
        [page(known, 404, "Zp1"), page("https://tressless.com/research/dead-link-Zz9", 404)],
        None,
        T0 + timedelta(days=1),
    )
    with Session(engine) as session:
        rows = dict(session.execute(select(Page.url, Page.status)).all())
    assert rows == {known: 404}  # the stored page's answer changed; the dead link left none


def test_a_sqlite_engine_keeps_one_connection_between_uses(sqlite_url: str) -> None:
    """Each SQLite connection holds its own prepared statements and page cache: the crawl's
    one engine keeps one, and a second, opened while the first is busy, is closed on return."""
    engine = make_engine(sqlite_url, immediate=True)
    reader = engine.execution_options(**{DEFERRED: True})  # as CrawlDatabase.reader
    try:
        schema.upgrade(engine)
        with engine.connect() as first, reader.connect() as second:
            # Both usable at once: a reader never waits for the writer's connection.
            assert first.exec_driver_sql("SELECT 1").scalar() == 1
            assert second.exec_driver_sql("SELECT 2").scalar() == 2
            assert engine.pool.checkedout() == 2
        assert engine.pool.checkedin() == 1
        with engine.connect() as again:
            assert again.exec_driver_sql("SELECT 3").scalar() == 3
            assert engine.pool.checkedin() == 0
    finally:
        engine.dispose()
