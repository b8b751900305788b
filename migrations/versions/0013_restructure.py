"""Restructuring (展期 / 调整还款计划): when a loan was last restructured and the last day of its
watch period (重组观察期) on ``loans``. The new schedule itself replaces the instalment rows (the
original schedule stays in ``original_installments``); the approval is an ``approval_requests``
row of kind ``restructure``, so no other table changes.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the two nullable dates (existing loans were never restructured)."""
    with op.batch_alter_table("loans") as batch:
        batch.add_column(sa.Column("restructured_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("watch_until", sa.Date(), nullable=True))


def downgrade() -> None:
    """Drop them (the restructured schedules stay; only the watch dates are lost)."""
    with op.batch_alter_table("loans") as batch:
        batch.drop_column("watch_until")
        batch.drop_column("restructured_on")
