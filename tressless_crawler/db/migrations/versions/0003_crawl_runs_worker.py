"""crawl_runs.worker: the process that ran the crawl, as distributed workers name it

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 14:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("worker", sa.String(length=128), nullable=True))
        batch_op.create_index(batch_op.f("ix_crawl_runs_worker"), ["worker"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crawl_runs_worker"))
        batch_op.drop_column("worker")
