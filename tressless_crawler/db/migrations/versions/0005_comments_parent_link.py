"""comments.parent_id keeps the parent's id always; comments.parent_link links a stored parent

Revision ID: 0005
Revises: 0007
Create Date: 2026-12-05 22:10:00.000000

``parent_id`` was a foreign key, so a reply whose parent was not on the crawled page (a
permalink or "context" view, a stub not expanded) lost its parent. It is now plain text, and
the new ``parent_link`` is the foreign key, set when the parent comment is stored.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0005"
down_revision = "0007"
branch_labels = None
depends_on = None


# On SQLite a foreign key is only dropped by rebuilding the table (Alembic's batch mode), and
# the rebuild fails on the view that reads ``comments`` and loses the search index's triggers
# (revision 0007): both are taken down before and put back after, as 0007 defines them.
# Revision 0007's module, as Alembic loaded it (an import by package path fails where the
# project runs from an egg, as under Scrapyd).
SEARCH = "0007"


def _without_dependents() -> Any:
    if op.get_bind().dialect.name != "sqlite":
        return None
    search = context.script.get_revision(SEARCH).module
    op.execute("DROP VIEW IF EXISTS thread_overview")
    for name in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS comments_fts_{name}")
    return search


def _restore_dependents(search: Any) -> None:
    if search is None:
        return
    op.execute(search.THREAD_OVERVIEW.format(study_ids=search.STUDY_IDS["sqlite"]))
    for statement in search._external("comments", "id", ("body",)):
        if not statement.startswith("CREATE VIRTUAL TABLE"):  # the index itself stays
            op.execute(statement)


def upgrade() -> None:
    search = _without_dependents()
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_comments_parent_id_comments"), type_="foreignkey")
        batch_op.add_column(sa.Column("parent_link", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_comments_parent_link_comments"),
            "comments",
            ["parent_link"],
            ["comment_id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_comments_parent_link"), ["parent_link"], unique=False)
    op.execute("UPDATE comments SET parent_link = parent_id WHERE parent_id IS NOT NULL")
    _restore_dependents(search)


def downgrade() -> None:
    # Only stored parents fit the foreign key again. Read first: on SQLite the table is
    # rebuilt, and dropping the old one sets the new table's references to it to NULL.
    conn = op.get_bind()
    links = conn.execute(
        sa.text("SELECT comment_id, parent_link FROM comments WHERE parent_link IS NOT NULL")
    ).all()
    op.execute("UPDATE comments SET parent_id = NULL")
    search = _without_dependents()
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comments_parent_link"))
        batch_op.drop_constraint(batch_op.f("fk_comments_parent_link_comments"), type_="foreignkey")
        batch_op.drop_column("parent_link")
        batch_op.create_foreign_key(
            batch_op.f("fk_comments_parent_id_comments"),
            "comments",
            ["parent_id"],
            ["comment_id"],
            ondelete="SET NULL",
        )
    if links:
        conn.execute(
            sa.text("UPDATE comments SET parent_id = :parent WHERE comment_id = :comment"),
            [{"parent": parent, "comment": comment} for comment, parent in links],
        )
    _restore_dependents(search)
