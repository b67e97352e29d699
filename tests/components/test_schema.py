"""Schema management: an empty database is created, an outdated one refused."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from tressless_crawler.db import schema
from tressless_crawler.db.engine import make_engine
from tressless_crawler.exceptions import SchemaOutdated


def test_empty_database_is_created_at_head(db_url: str) -> None:
    engine = make_engine(db_url)
    assert schema.ensure_schema(engine) == "created"
    assert schema.current_revision(engine) == schema.head_revision(engine)
    assert {
        "studies",
        "authors",
        "journals",
        "crawl_runs",
        "history",
        "threads",
        "comments",
    } <= set(inspect(engine).get_table_names())
    assert schema.ensure_schema(engine) == "current"
    engine.dispose()


def test_outdated_schema_is_refused_with_the_command_to_run(db_url: str) -> None:
    engine = make_engine(db_url)
    schema.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000old'"))
    with pytest.raises(SchemaOutdated, match="scrapy db upgrade"):
        schema.ensure_schema(engine)
    engine.dispose()


def test_foreign_database_is_refused(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE something_else (id integer)"))
    with pytest.raises(SchemaOutdated, match="not created by this crawler"):
        schema.ensure_schema(engine)
    engine.dispose()


def test_sqlite_enforces_foreign_keys(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    schema.upgrade(engine)
    with pytest.raises(Exception, match="FOREIGN KEY"), engine.begin() as conn:
        conn.execute(
            text("INSERT INTO study_authors (study_id, position, author_id) VALUES ('nope', 0, 1)")
        )
    engine.dispose()


def test_upgrade_from_the_previous_revision_keeps_the_rows_and_adds_the_worker(
    db_url: str,
) -> None:
    from alembic import command

    engine = make_engine(db_url)
    with engine.begin() as conn:
        command.upgrade(schema.alembic_config(connection=conn), "0002")
        conn.execute(
            text(
                "INSERT INTO crawl_runs (spider, started_at, status, pages_fetched, items_new, "
                "items_updated, items_unchanged, items_dropped, errors, settings, stats) VALUES "
                "('studies', CURRENT_TIMESTAMP, 'finished', 7, 0, 0, 0, '{}', 0, '{}', '{}')"
            )
        )
    with pytest.raises(SchemaOutdated, match="scrapy db upgrade"):
        schema.ensure_schema(engine)
    assert schema.upgrade(engine) == "upgraded"
    assert schema.current_revision(engine) == schema.head_revision(engine)
    columns = {c["name"] for c in inspect(engine).get_columns("crawl_runs")}
    assert "worker" in columns
    with engine.connect() as conn:
        assert conn.execute(text("SELECT pages_fetched, worker FROM crawl_runs")).all() == [
            (7, None)
        ]
    with engine.begin() as conn:  # and back down: the column goes, the row stays
        command.downgrade(schema.alembic_config(connection=conn), "0002")
    assert "worker" not in {c["name"] for c in inspect(engine).get_columns("crawl_runs")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT pages_fetched FROM crawl_runs")).scalar_one() == 7
    engine.dispose()


def test_upgrade_to_0004_adds_the_frontier_of_the_crawl_lock_and_downgrades(db_url: str) -> None:
    from alembic import command

    engine = make_engine(db_url)
    with engine.begin() as conn:
        command.upgrade(schema.alembic_config(connection=conn), "0003")
        conn.execute(
            text(
                "INSERT INTO crawl_locks (name, host, pid, acquired_at, heartbeat_at) VALUES "
                "('studies', 'h', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    assert schema.upgrade(engine) == "upgraded"
    assert "frontier" in {c["name"] for c in inspect(engine).get_columns("crawl_locks")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name, frontier FROM crawl_locks")).all() == [
            ("studies", None)
        ]
    with engine.begin() as conn:
        command.downgrade(schema.alembic_config(connection=conn), "0003")
    assert "frontier" not in {c["name"] for c in inspect(engine).get_columns("crawl_locks")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM crawl_locks")).scalar_one() == "studies"
    engine.dispose()


def test_upgrade_to_0005_keeps_parent_ids_and_links_stored_parents(db_url: str) -> None:
    from alembic import command

    engine = make_engine(db_url)
    with engine.begin() as conn:
        command.upgrade(schema.alembic_config(connection=conn), "0007")
        conn.execute(
            text(
                "INSERT INTO threads (thread_key, source, snapshot, edited, first_seen, "
                "last_seen, changed_at) VALUES ('p1', 'thread', '{}', false, CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        for comment_id, parent in (("c1", None), ("c2", "c1")):
            conn.execute(
                text(
                    "INSERT INTO comments (thread_id, comment_id, parent_id, position, depth, "
                    "kind, edited, stickied, first_seen, last_seen, changed_at) VALUES "
                    "((SELECT id FROM threads), :c, :p, 0, 0, 'comment', false, false, "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"c": comment_id, "p": parent},
            )
    assert schema.upgrade(engine) == "upgraded"
    query = text("SELECT comment_id, parent_id, parent_link FROM comments ORDER BY comment_id")
    with engine.begin() as conn:
        assert conn.execute(query).all() == [("c1", None, None), ("c2", "c1", "c1")]
        # a parent not stored is kept now: parent_id is no longer a foreign key
        conn.execute(text("UPDATE comments SET parent_id = 'elsewhere' WHERE comment_id = 'c1'"))
        assert conn.execute(query).all()[0] == ("c1", "elsewhere", None)
    with engine.begin() as conn:
        command.downgrade(schema.alembic_config(connection=conn), "0007")
    assert "parent_link" not in {c["name"] for c in inspect(engine).get_columns("comments")}
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT comment_id, parent_id FROM comments ORDER BY 1")).all()
        assert rows == [("c1", None), ("c2", "c1")]
    engine.dispose()


def test_upgrade_to_0010_gives_sqlite_times_their_offset_and_downgrades(db_url: str) -> None:
    """Times written before 0010 (SQLite text without an offset) read as the same UTC moments
    after it, and the file's own text then says UTC; PostgreSQL's moments are untouched."""
    from datetime import UTC, datetime

    from alembic import command
    from sqlalchemy import select

    from tressless_crawler.db.models import CrawlRun, Page

    engine = make_engine(db_url)
    with engine.begin() as conn:
        command.upgrade(schema.alembic_config(connection=conn), "0009")
        conn.execute(
            text(
                "INSERT INTO crawl_runs (id, spider, started_at, finished_at, status, "
                "pages_fetched, items_new, items_updated, items_unchanged, items_dropped, "
                "errors, settings, stats) VALUES (1, 'studies', :started, NULL, 'running', "
                "0, 0, 0, 0, '{}', 0, '{}', '{}')"
            ),
            {"started": "2020-10-31 03:59:49.123456"},
        )
        conn.execute(
            text(
                "INSERT INTO pages (url, kind, status, fetched_at, run_id) VALUES "
                "('https://tressless.com/research/a-1', 'study', 200, :at, 1)"
            ),
            {"at": "2020-11-01 00:00:00.000000"},
        )
    raw = text("SELECT (SELECT started_at FROM crawl_runs), (SELECT fetched_at FROM pages)")
    assert schema.upgrade(engine) == "upgraded"
    with engine.connect() as conn:
        started, finished = conn.execute(select(CrawlRun.started_at, CrawlRun.finished_at)).one()
        fetched = conn.execute(select(Page.fetched_at)).scalar_one()
        if engine.dialect.name == "sqlite":
            assert conn.execute(raw).one() == (
                "2020-10-31 03:59:49.123456+00:00",
                "2020-11-01 00:00:00.000000+00:00",
            )
    assert started == datetime(2020, 10, 31, 3, 59, 49, 123456, tzinfo=UTC)
    assert fetched == datetime(2020, 11, 1, tzinfo=UTC) and finished is None
    with engine.begin() as conn:
        command.downgrade(schema.alembic_config(connection=conn), "0009")
        if engine.dialect.name == "sqlite":
            assert conn.execute(raw).one() == (
                "2020-10-31 03:59:49.123456",
                "2020-11-01 00:00:00.000000",
            )
    engine.dispose()


def test_head_revision_is_the_newest_migration_script() -> None:
    """A database at HEAD_REVISION is taken as current without Alembic: it must be the
    revision the scripts end at (a new migration needs HEAD_REVISION moved with it)."""
    assert schema.scripts_head() == schema.HEAD_REVISION


def test_the_revision_read_directly_is_alembics(db_url: str) -> None:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(db_url)
    try:
        assert schema.current_revision(engine) is None  # empty: no version table
        schema.upgrade(engine)
        with engine.connect() as conn:
            alembic_says = MigrationContext.configure(conn).get_current_revision()
        assert schema.current_revision(engine) == alembic_says == schema.HEAD_REVISION
        with engine.begin() as conn:  # two heads: Alembic's own error, as before
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('9999')"))
        with pytest.raises(Exception, match="more than one head"):
            schema.current_revision(engine)
    finally:
        engine.dispose()
