"""SQLite times carry their offset: ``2020-10-31 03:59:49.000000+00:00``

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 14:00:00.000000

Every time was UTC already, but a SQLite file held it as text without an offset, so anything
reading the file itself (sqlite3, Datasette, pandas) saw a time in no zone. The crawler now
writes the offset (``tressless_crawler.db.types``); this adds it to the rows written before.
PostgreSQL's ``timestamptz`` holds the moment itself: nothing changes there.
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

SUFFIX = "+00:00"
# The time columns at revision 0009, as the migrations made them.
TIME_COLUMNS = {
    "crawl_runs": ("started_at", "finished_at"),
    "crawl_locks": ("acquired_at", "heartbeat_at"),
    "history": ("recorded_at",),
    "pages": ("fetched_at",),
    "studies": ("first_seen", "last_seen", "changed_at", "gone_at"),
    "threads": (
        "posted_at",
        "card_seen_at",
        "thread_crawled_at",
        "first_seen",
        "last_seen",
        "changed_at",
        "gone_at",
    ),
    "comments": ("posted_at", "first_seen", "last_seen", "changed_at", "gone_at"),
}


def upgrade() -> None:
    # only text that has no offset yet (a value SQLite took as a number is left as is)
    _rewrite("{c} || '" + SUFFIX + "'", "{c} NOT LIKE '%+__:__' AND {c} NOT LIKE '%Z'")


def downgrade() -> None:
    _rewrite("substr({c}, 1, length({c}) - " + str(len(SUFFIX)) + ")", "{c} LIKE '%" + SUFFIX + "'")


def _rewrite(value: str, where: str) -> None:
    """``SET c = value WHERE where`` for every time column ``c`` holding text, on SQLite."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, columns in TIME_COLUMNS.items():
        for column in columns:
            op.execute(
                f"UPDATE {table} SET {column} = {value.format(c=column)} "
                f"WHERE typeof({column}) = 'text' AND {where.format(c=column)}"
            )
