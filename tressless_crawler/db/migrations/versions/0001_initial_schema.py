"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 08:21:51.960681
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "authors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authors")),
        sa.UniqueConstraint("name", name=op.f("uq_authors_name")),
    )
    op.create_table(
        "crawl_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("spider", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("finish_reason", sa.String(length=64), nullable=True),
        sa.Column("pages_fetched", sa.Integer(), nullable=False),
        sa.Column("items_new", sa.Integer(), nullable=False),
        sa.Column("items_updated", sa.Integer(), nullable=False),
        sa.Column("items_unchanged", sa.Integer(), nullable=False),
        sa.Column("items_dropped", sa.JSON(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_runs")),
    )
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crawl_runs_spider"), ["spider"], unique=False)

    op.create_table(
        "journals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journals")),
        sa.UniqueConstraint("name", name=op.f("uq_journals_name")),
    )
    op.create_table(
        "crawl_locks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crawl_runs.id"], name=op.f("fk_crawl_locks_run_id_crawl_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_locks")),
        sa.UniqueConstraint("name", name=op.f("uq_crawl_locks_name")),
    )
    op.create_table(
        "history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("entity_key", sa.String(length=1100), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crawl_runs.id"], name=op.f("fk_history_run_id_crawl_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history")),
    )
    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.create_index("ix_history_entity", ["entity", "entity_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_history_run_id"), ["run_id"], unique=False)

    op.create_table(
        "studies",
        sa.Column("study_id", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("slug", sa.String(length=500), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("published", sa.String(length=7), nullable=True),
        sa.Column("journal_id", sa.Integer(), nullable=True),
        sa.Column("tldr", sa.Text(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("image_url", sa.String(length=1000), nullable=True),
        sa.Column("source_url", sa.String(length=1000), nullable=True),
        sa.Column("cited_total", sa.Integer(), nullable=True),
        sa.Column("cited_total_is_lower_bound", sa.Boolean(), nullable=False),
        sa.Column("related_total", sa.Integer(), nullable=True),
        sa.Column("related_total_is_lower_bound", sa.Boolean(), nullable=False),
        sa.Column("community_total", sa.Integer(), nullable=True),
        sa.Column("community_total_is_lower_bound", sa.Boolean(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_run_id", sa.Integer(), nullable=True),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.Column("gone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("gone_run_id", sa.Integer(), nullable=True),
        sa.Column("gone_status", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["first_run_id"], ["crawl_runs.id"], name=op.f("fk_studies_first_run_id_crawl_runs")
        ),
        sa.ForeignKeyConstraint(
            ["gone_run_id"], ["crawl_runs.id"], name=op.f("fk_studies_gone_run_id_crawl_runs")
        ),
        sa.ForeignKeyConstraint(
            ["journal_id"], ["journals.id"], name=op.f("fk_studies_journal_id_journals")
        ),
        sa.ForeignKeyConstraint(
            ["last_run_id"], ["crawl_runs.id"], name=op.f("fk_studies_last_run_id_crawl_runs")
        ),
        sa.PrimaryKeyConstraint("study_id", name=op.f("pk_studies")),
    )
    with op.batch_alter_table("studies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_studies_changed_at"), ["changed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_studies_journal_id"), ["journal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_studies_last_run_id"), ["last_run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_studies_last_seen"), ["last_seen"], unique=False)
        batch_op.create_index(batch_op.f("ix_studies_published"), ["published"], unique=False)

    op.create_table(
        "threads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_key", sa.String(length=1100), nullable=False),
        sa.Column("post_id", sa.String(length=32), nullable=True),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("category", sa.String(length=200), nullable=True),
        sa.Column("author", sa.String(length=200), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("posted_approx", sa.String(length=10), nullable=True),
        sa.Column("posted_precision", sa.String(length=8), nullable=True),
        sa.Column("age_text", sa.String(length=100), nullable=True),
        sa.Column("upvotes", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("comment_count", sa.Integer(), nullable=True),
        sa.Column("link_url", sa.String(length=1000), nullable=True),
        sa.Column("edited", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("source_format", sa.String(length=16), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("card_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("thread_crawled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.Column("gone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("gone_run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["gone_run_id"], ["crawl_runs.id"], name=op.f("fk_threads_gone_run_id_crawl_runs")
        ),
        sa.ForeignKeyConstraint(
            ["last_run_id"], ["crawl_runs.id"], name=op.f("fk_threads_last_run_id_crawl_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threads")),
        sa.UniqueConstraint("thread_key", name=op.f("uq_threads_thread_key")),
    )
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_threads_changed_at"), ["changed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_threads_last_run_id"), ["last_run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_threads_last_seen"), ["last_seen"], unique=False)
        batch_op.create_index(batch_op.f("ix_threads_post_id"), ["post_id"], unique=False)

    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.String(length=64), nullable=False),
        sa.Column("parent_id", sa.String(length=64), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("upvotes", sa.Integer(), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("more_count", sa.Integer(), nullable=True),
        sa.Column("edited", sa.Boolean(), nullable=False),
        sa.Column("stickied", sa.Boolean(), nullable=False),
        sa.Column("distinguished", sa.String(length=32), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.Column("gone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("gone_run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["gone_run_id"], ["crawl_runs.id"], name=op.f("fk_comments_gone_run_id_crawl_runs")
        ),
        sa.ForeignKeyConstraint(
            ["last_run_id"], ["crawl_runs.id"], name=op.f("fk_comments_last_run_id_crawl_runs")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["comments.comment_id"],
            name=op.f("fk_comments_parent_id_comments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["threads.id"],
            name=op.f("fk_comments_thread_id_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
        sa.UniqueConstraint("comment_id", name=op.f("uq_comments_comment_id")),
    )
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comments_last_seen"), ["last_seen"], unique=False)
        batch_op.create_index(batch_op.f("ix_comments_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_comments_thread_id"), ["thread_id"], unique=False)

    op.create_table(
        "research_links",
        sa.Column("source_study_id", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("target_study_id", sa.String(length=16), nullable=True),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("citations", sa.Integer(), nullable=True),
        sa.Column("published", sa.String(length=7), nullable=True),
        sa.Column("journal", sa.String(length=500), nullable=True),
        sa.Column("tldr", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_study_id"],
            ["studies.study_id"],
            name=op.f("fk_research_links_source_study_id_studies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "source_study_id", "kind", "position", name=op.f("pk_research_links")
        ),
    )
    with op.batch_alter_table("research_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_research_links_target_study_id"), ["target_study_id"], unique=False
        )

    op.create_table(
        "study_authors",
        sa.Column("study_id", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["authors.id"], name=op.f("fk_study_authors_author_id_authors")
        ),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["studies.study_id"],
            name=op.f("fk_study_authors_study_id_studies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("study_id", "position", name=op.f("pk_study_authors")),
    )
    with op.batch_alter_table("study_authors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_study_authors_author_id"), ["author_id"], unique=False)

    op.create_table(
        "study_threads",
        sa.Column("study_id", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("age_text", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["studies.study_id"],
            name=op.f("fk_study_threads_study_id_studies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.id"], name=op.f("fk_study_threads_thread_id_threads")
        ),
        sa.PrimaryKeyConstraint("study_id", "position", name=op.f("pk_study_threads")),
    )
    with op.batch_alter_table("study_threads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_study_threads_thread_id"), ["thread_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("study_threads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_study_threads_thread_id"))

    op.drop_table("study_threads")
    with op.batch_alter_table("study_authors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_study_authors_author_id"))

    op.drop_table("study_authors")
    with op.batch_alter_table("research_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_research_links_target_study_id"))

    op.drop_table("research_links")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comments_thread_id"))
        batch_op.drop_index(batch_op.f("ix_comments_parent_id"))
        batch_op.drop_index(batch_op.f("ix_comments_last_seen"))

    op.drop_table("comments")
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_threads_post_id"))
        batch_op.drop_index(batch_op.f("ix_threads_last_seen"))
        batch_op.drop_index(batch_op.f("ix_threads_last_run_id"))
        batch_op.drop_index(batch_op.f("ix_threads_changed_at"))

    op.drop_table("threads")
    with op.batch_alter_table("studies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_studies_published"))
        batch_op.drop_index(batch_op.f("ix_studies_last_seen"))
        batch_op.drop_index(batch_op.f("ix_studies_last_run_id"))
        batch_op.drop_index(batch_op.f("ix_studies_journal_id"))
        batch_op.drop_index(batch_op.f("ix_studies_changed_at"))

    op.drop_table("studies")
    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_history_run_id"))
        batch_op.drop_index("ix_history_entity")

    op.drop_table("history")
    op.drop_table("crawl_locks")
    op.drop_table("journals")
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crawl_runs_spider"))

    op.drop_table("crawl_runs")
    op.drop_table("authors")
