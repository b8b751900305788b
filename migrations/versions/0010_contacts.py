"""Borrowers' registered contacts (登记联系人): who notices go to and who collections may contact.

Mobile numbers and e-mail addresses are personal information (PIPL): stored AES-256-GCM encrypted
with a keyed hash beside each (to find a duplicate without decrypting).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the table."""
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("phone_enc", sa.Text(), nullable=True),
        sa.Column("phone_hash", sa.String(64), nullable=True),
        sa.Column("email_enc", sa.Text(), nullable=True),
        sa.Column("email_hash", sa.String(64), nullable=True),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("registered_by", sa.String(64), nullable=False),
        sa.Column("retired_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_contacts_uscc", "contacts", ["uscc"])


def downgrade() -> None:
    """Drop it."""
    op.drop_table("contacts")
