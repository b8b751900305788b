"""Keep the date each application was decided as of (营业日期 / the data's point in time).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``as_of`` (null for rows decided before this migration)."""
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("as_of", sa.Date(), nullable=True))


def downgrade() -> None:
    """Drop it."""
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("as_of")
