"""Collection cases (催收案件): one open case per borrower (a partial unique index on the USCC
where the status is open), its bucket moves, the contacts made on it and the promises to pay.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_OPEN = sa.text("status = 'open'")


def _money(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=False, server_default="0")


def _currency() -> sa.Column[str]:
    return sa.Column("currency", sa.CHAR(3), nullable=False, server_default="CNY")


def upgrade() -> None:
    """Create the four tables."""
    op.create_table(
        "collection_cases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("close_reason", sa.String(20), nullable=True),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("last_seen_on", sa.Date(), nullable=False),
        sa.Column("bucket", sa.String(3), nullable=False),
        sa.Column("dpd", sa.Integer(), nullable=False),
        _money("principal_fen"),
        _money("interest_fen"),
        _money("penalty_fen"),
        _money("compound_fen"),
        _money("exposure_fen"),
        _currency(),
        sa.Column("loan_ids", sa.Text(), nullable=False, server_default=""),
        sa.Column("pd", sa.String(20), nullable=True),
        sa.Column("season_factors", sa.Text(), nullable=True),
        sa.Column("collector", sa.String(64), nullable=False, server_default=""),
        sa.Column("next_action_on", sa.Date(), nullable=False),
        sa.Column("priority_fen", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("dispute_open", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("escalation", sa.String(20), nullable=False, server_default=""),
        sa.Column("escalation_ids", sa.Text(), nullable=False, server_default=""),
        sa.Column("version", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_collection_cases_uscc", "collection_cases", ["uscc"])
    op.create_index(
        "ix_collection_cases_status_priority", "collection_cases", ["status", "priority_fen"]
    )
    op.create_index(
        "uq_collection_cases_open_uscc",
        "collection_cases",
        ["uscc"],
        unique=True,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )
    op.create_table(
        "case_bucket_moves",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("moved_on", sa.Date(), nullable=False),
        sa.Column("from_bucket", sa.String(3), nullable=True),
        sa.Column("to_bucket", sa.String(3), nullable=False),
        sa.Column("dpd", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["collection_cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_bucket_moves_case_id", "case_bucket_moves", ["case_id"])
    op.create_table(
        "case_activities",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.ForeignKeyConstraint(["case_id"], ["collection_cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_activities_case_id", "case_activities", ["case_id"])
    op.create_table(
        "case_promises",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        _money("amount_fen"),
        _currency(),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("settled_fen", sa.BigInteger(), nullable=True),
        sa.Column("evaluated_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["collection_cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_promises_case_id", "case_promises", ["case_id"])


def downgrade() -> None:
    """Drop them."""
    for table in ("case_promises", "case_activities", "case_bucket_moves", "collection_cases"):
        op.drop_table(table)
