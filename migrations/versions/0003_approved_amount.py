"""Keep the amount approved apart from the amount asked (a reviewer may approve less, never more
than the decision engine's limit without a risk manager's exception).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``approved_fen`` (null until approved; older rows fall back to the amount asked)."""
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("approved_fen", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    """Drop it."""
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("approved_fen")
