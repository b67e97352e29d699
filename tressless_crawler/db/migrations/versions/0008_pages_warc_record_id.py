"""pages.warc_record_id: the archived WARC response of the page's last content

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-05 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("warc_record_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_column("warc_record_id")
