"""The notice outbox (one row per notice and recipient channel, with its delivery state) and the
borrowers' console inbox (站内信).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the tables."""
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("installment", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("created_for", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("currency", sa.CHAR(3), nullable=False, server_default="CNY"),
        sa.Column("dpd", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("address_enc", sa.Text(), nullable=False),
        sa.Column("language", sa.String(10), nullable=False, server_default="zh-CN"),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("policy_version", sa.String(60), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(40), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False, server_default=""),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "loan_id", "installment", "kind", "channel", "contact_id", name="uq_notices_delivery"
        ),
    )
    op.create_index("ix_notices_loan_id", "notices", ["loan_id"])
    op.create_index("ix_notices_uscc", "notices", ["uscc"])
    op.create_index("ix_notices_due", "notices", ["status", "next_attempt_at"])
    op.create_table(
        "inbox_messages",
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_inbox_messages_uscc", "inbox_messages", ["uscc"])


def downgrade() -> None:
    """Drop them."""
    op.drop_table("inbox_messages")
    op.drop_table("notices")
