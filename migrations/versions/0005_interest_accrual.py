"""Daily accrual of normal interest and accrual accounting of interest and penalty (计提).

Loans gain the normal interest accrued in the current period (1e-8 fen) and the income
recognised and received to date; each loan-day records what was accrued and recognised.
Existing loans were on a cash basis (income credited when paid): they start with recognised =
received, so the next end of day books what is billed and accrued but unpaid as receivable.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_LOANS = (
    "accrued_interest_e8",
    "interest_recognised_fen",
    "interest_received_fen",
    "penalty_recognised_fen",
)
_DAYS = ("interest_accrual_e8", "interest_fen", "penalty_fen")


def upgrade() -> None:
    """Add the columns and start existing loans from what they have received."""
    with op.batch_alter_table("loans") as batch:
        for name in _LOANS:
            batch.add_column(sa.Column(name, sa.BigInteger(), nullable=False, server_default="0"))
    with op.batch_alter_table("loan_days") as batch:
        for name in _DAYS:
            batch.add_column(sa.Column(name, sa.BigInteger(), nullable=False, server_default="0"))
    op.execute(
        """
        UPDATE loans SET
            interest_received_fen = COALESCE((SELECT SUM(i.interest_paid_fen) FROM installments i
                                              WHERE i.loan_id = loans.id), 0),
            interest_recognised_fen = COALESCE((SELECT SUM(i.interest_paid_fen)
                                                FROM installments i
                                                WHERE i.loan_id = loans.id), 0),
            penalty_recognised_fen = penalty_paid_fen
        """
    )


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("loan_days") as batch:
        for name in _DAYS:
            batch.drop_column(name)
    with op.batch_alter_table("loans") as batch:
        for name in _LOANS:
            batch.drop_column(name)
