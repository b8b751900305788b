"""Post-loan monitoring: early-warning alerts and the steps people take on them.

``alerts`` holds one row per borrower and rule while the alert is open (a partial unique index on
(uscc, rule) where the status is not closed); ``alert_steps`` each acknowledgement, action and
closing, with who, when and a comment. ``froze_line`` marks an alert for which the monitor froze
the borrower's undrawn line at once (a person confirms the freeze or lifts it).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_NOT_CLOSED = sa.text("status <> 'closed'")


def upgrade() -> None:
    """Create the two tables."""
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(40), nullable=False),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("evidence_json", sa.Text(), nullable=False),
        sa.Column("first_seen", sa.Date(), nullable=False),
        sa.Column("last_seen", sa.Date(), nullable=False),
        sa.Column("assignee", sa.String(64), nullable=False, server_default=""),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("froze_line", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("version", sa.Integer(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(["line_id"], ["credit_lines.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alerts_line_id", "alerts", ["line_id"])
    op.create_index("ix_alerts_status_level", "alerts", ["status", "level"])
    op.create_index(
        "uq_alerts_open_rule",
        "alerts",
        ["uscc", "rule"],
        unique=True,
        sqlite_where=_NOT_CLOSED,
        postgresql_where=_NOT_CLOSED,
    )
    op.create_table(
        "alert_steps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False, server_default=""),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alert_steps_alert_id", "alert_steps", ["alert_id"])


def downgrade() -> None:
    """Drop them (alerts are operational records, not the book)."""
    op.drop_table("alert_steps")
    op.drop_table("alerts")
