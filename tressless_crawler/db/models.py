"""SQLAlchemy 2 typed models: the relational shape of what the crawler stores.

Natural keys (a study's id, an author's name, a thread's key) are unique
constraints so that every write can be an upsert. The schema itself is created
and changed only by the Alembic migrations in ``tressless_crawler/db/migrations``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tressless_crawler.db.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        dict[str, Any]: JSON,
        datetime: UTCDateTime(),
    }


class CrawlRun(Base):
    """One execution of a spider, with what it did and how it ended."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    spider: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    # running | finished | failed | interrupted
    status: Mapped[str] = mapped_column(String(32), default="running")
    finish_reason: Mapped[str | None] = mapped_column(String(64))
    pages_fetched: Mapped[int] = mapped_column(Integer, default=0)
    items_new: Mapped[int] = mapped_column(Integer, default=0)
    items_updated: Mapped[int] = mapped_column(Integer, default=0)
    items_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    items_dropped: Mapped[dict[str, Any]] = mapped_column(default=dict)  # reason -> count
    errors: Mapped[int] = mapped_column(Integer, default=0)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    # host:pid:nonce of the process, as distributed workers name each other
    worker: Mapped[str | None] = mapped_column(String(128), index=True)


class Journal(Base):
    __tablename__ = "journals"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(500), unique=True)


class Author(Base):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(500), unique=True)


class Study(Base):
    """A research summary page, keyed by the site's study id."""

    __tablename__ = "studies"

    study_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    url: Mapped[str] = mapped_column(String(1000))
    slug: Mapped[str | None] = mapped_column(String(500))
    title: Mapped[str] = mapped_column(Text)
    published: Mapped[str | None] = mapped_column(String(7), index=True)  # YYYY-MM
    journal_id: Mapped[int | None] = mapped_column(ForeignKey("journals.id"), index=True)
    tldr: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    image_url: Mapped[str | None] = mapped_column(String(1000))
    source_url: Mapped[str | None] = mapped_column(String(1000))
    cited_total: Mapped[int | None]
    cited_total_is_lower_bound: Mapped[bool] = mapped_column(Boolean, default=False)
    related_total: Mapped[int | None]
    related_total_is_lower_bound: Mapped[bool] = mapped_column(Boolean, default=False)
    community_total: Mapped[int | None]
    community_total_is_lower_bound: Mapped[bool] = mapped_column(Boolean, default=False)
    # The normalised item as stored; the history table keeps the previous ones.
    snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)
    content_hash: Mapped[str] = mapped_column(String(64))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime] = mapped_column(index=True)
    changed_at: Mapped[datetime] = mapped_column(index=True)
    first_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    last_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    gone_at: Mapped[datetime | None]
    gone_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    gone_status: Mapped[int | None]


class StudyAuthor(Base):
    __tablename__ = "study_authors"

    study_id: Mapped[str] = mapped_column(
        ForeignKey("studies.study_id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"), index=True)


class ResearchLink(Base):
    """A cited or related entry; the target may not have been crawled (no FK on purpose)."""

    __tablename__ = "research_links"

    source_study_id: Mapped[str] = mapped_column(
        ForeignKey("studies.study_id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # cited | related
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_study_id: Mapped[str | None] = mapped_column(String(16), index=True)
    url: Mapped[str | None] = mapped_column(String(1000))
    title: Mapped[str | None] = mapped_column(Text)
    citations: Mapped[int | None]
    published: Mapped[str | None] = mapped_column(String(7))
    journal: Mapped[str | None] = mapped_column(String(500))
    tldr: Mapped[str | None] = mapped_column(Text)


class Thread(Base):
    """A community post: first known from a study's card, completed by crawling the thread."""

    __tablename__ = "threads"

    id: Mapped[int] = mapped_column(primary_key=True)
    # post id when known, else "url:<url>", else "title:<title>" for an unlinked card
    thread_key: Mapped[str] = mapped_column(String(1100), unique=True)
    post_id: Mapped[str | None] = mapped_column(String(32), index=True)
    url: Mapped[str | None] = mapped_column(String(1000))
    title: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(200))
    author: Mapped[str | None] = mapped_column(String(200))
    posted_at: Mapped[datetime | None]
    posted_approx: Mapped[str | None] = mapped_column(String(10))  # from a card's age text
    posted_precision: Mapped[str | None] = mapped_column(String(8))
    age_text: Mapped[str | None] = mapped_column(String(100))
    upvotes: Mapped[int | None]
    body: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    comment_count: Mapped[int | None]
    link_url: Mapped[str | None] = mapped_column(String(1000))
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    # "card" until the thread itself was crawled, then "thread" (the authority)
    source: Mapped[str] = mapped_column(String(8), default="card")
    source_format: Mapped[str | None] = mapped_column(String(16))
    snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    card_seen_at: Mapped[datetime | None]
    thread_crawled_at: Mapped[datetime | None]
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime] = mapped_column(index=True)
    changed_at: Mapped[datetime] = mapped_column(index=True)
    last_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    gone_at: Mapped[datetime | None]
    gone_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))


class StudyThread(Base):
    """A study's "Related Community Posts" card, in page order."""

    __tablename__ = "study_threads"

    study_id: Mapped[str] = mapped_column(
        ForeignKey("studies.study_id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"), index=True)
    age_text: Mapped[str | None] = mapped_column(String(100))


class History(Base):
    """Previous versions of a study or thread, one row each time its content changed."""

    __tablename__ = "history"
    __table_args__ = (Index("ix_history_entity", "entity", "entity_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(16))  # study | thread | comment
    entity_key: Mapped[str] = mapped_column(String(1100))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    recorded_at: Mapped[datetime]
    content_hash: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the values replaced


class CrawlLock(Base):
    """One row per spider while a crawl holds the database (see tressless_crawler.db.locks)."""

    __tablename__ = "crawl_locks"
    __table_args__ = (UniqueConstraint("name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    host: Mapped[str | None] = mapped_column(String(255))  # of the process that took it
    pid: Mapped[int | None]
    # A distributed crawl's namespace (<REDIS_KEY_PREFIX>:<CRAWL_ID>): all its workers hold it.
    frontier: Mapped[str | None] = mapped_column(String(255))
    acquired_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]


class Comment(Base):
    """One comment of a thread.

    ``parent_id`` is the parent comment's id as the thread gave it, stored or not (a reply
    seen on a permalink page, a stub not expanded); ``parent_link`` is the same id as a
    foreign key, set once the parent comment is stored.
    """

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[str] = mapped_column(String(64), unique=True)
    parent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    parent_link: Mapped[str | None] = mapped_column(
        ForeignKey("comments.comment_id", ondelete="SET NULL"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(8), default="comment")
    author: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    upvotes: Mapped[int | None]
    posted_at: Mapped[datetime | None]
    more_count: Mapped[int | None]
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    stickied: Mapped[bool] = mapped_column(Boolean, default=False)
    distinguished: Mapped[str | None] = mapped_column(String(32))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime] = mapped_column(index=True)
    changed_at: Mapped[datetime]
    last_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    gone_at: Mapped[datetime | None]
    gone_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))


class Page(Base):
    """What the last fetch of a URL answered: the validators for conditional requests."""

    __tablename__ = "pages"

    url: Mapped[str] = mapped_column(
        String(1000), primary_key=True
    )  # canonical, see tressless_crawler.urls
    kind: Mapped[str] = mapped_column(String(8))  # study | thread
    key: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[int]
    etag: Mapped[str | None] = mapped_column(String(200))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    fetched_at: Mapped[datetime]
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    # The WARC response record of the page's last content (ARCHIVE=warc), see
    # tressless_crawler.archive.
    warc_record_id: Mapped[str | None] = mapped_column(String(64))
