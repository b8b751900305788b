"""Follow-up tasks on alerts (贷后跟进任务): a site visit or documents asked of the firm, with its
assignee, due date and findings. One open task of a kind per alert (a partial unique index).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    """Create the table."""
    op.create_table(
        "follow_up_tasks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("assignee", sa.String(64), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("documents_json", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("closed_by", sa.String(64), nullable=False, server_default=""),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("findings", sa.Text(), nullable=False, server_default=""),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_follow_up_tasks_assignee", "follow_up_tasks", ["assignee", "status"])
    op.create_index("uq_follow_up_open", "follow_up_tasks", ["alert_id", "kind"], unique=True,
                    sqlite_where=_OPEN, postgresql_where=_OPEN)  # fmt: skip


def downgrade() -> None:
    """Drop it."""
    op.drop_table("follow_up_tasks")
