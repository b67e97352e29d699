"""crawl_locks.frontier: the shared frontier whose workers hold the lock together

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 16:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crawl_locks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("frontier", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crawl_locks", schema=None) as batch_op:
        batch_op.drop_column("frontier")
