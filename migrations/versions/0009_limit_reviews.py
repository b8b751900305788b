"""Dynamic limit review: one row per credit line and month with what the review arrived at.

``limit_reviews`` keeps the limit in force, the approved limit, the target, the outcome
(unchanged, applied, proposed, not reviewed), the build-up it came from (PD, base limit, the month's
seasonal factor, every candidate limit) as JSON, and the approval request of a proposed change.
A unique index on (line_id, month) makes re-running a month's review a no-op.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the table."""
    op.create_table(
        "limit_reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("current_fen", sa.BigInteger(), nullable=False),
        sa.Column("approved_fen", sa.BigInteger(), nullable=False),
        sa.Column("target_fen", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False, server_default="CNY"),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("basis_json", sa.Text(), nullable=True),
        sa.Column("reason_zh", sa.Text(), nullable=False, server_default=""),
        sa.Column("reason_en", sa.Text(), nullable=False, server_default=""),
        sa.Column("approval_id", sa.Integer(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(["line_id"], ["credit_lines.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "uq_limit_reviews_line_month", "limit_reviews", ["line_id", "month"], unique=True
    )
    op.create_index("ix_limit_reviews_month", "limit_reviews", ["month"])


def downgrade() -> None:
    """Drop it (reviews are operational records; the line keeps its limit)."""
    op.drop_table("limit_reviews")
