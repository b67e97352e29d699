"""crawl_runs.status holds up to 32 characters (``finished_with_journal`` is 21)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 00:00:00.000000

SQLite does not enforce a VARCHAR's length, so only PostgreSQL's column changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "crawl_runs", "status", type_=sa.String(length=32), existing_type=sa.String(length=16)
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE crawl_runs SET status = 'finished' WHERE status = 'finished_with_journal'"
        )
        op.alter_column(
            "crawl_runs", "status", type_=sa.String(length=16), existing_type=sa.String(length=32)
        )
