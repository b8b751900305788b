"""Store the legal representative's resident ID encrypted (AES-256-GCM) with an HMAC join key.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the encrypted and hashed columns."""
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("legal_rep_enc", sa.Text(), nullable=True))
        batch.add_column(sa.Column("legal_rep_hash", sa.String(length=64), nullable=True))
        batch.create_index("ix_applications_legal_rep_hash", ["legal_rep_hash"])


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("applications") as batch:
        batch.drop_index("ix_applications_legal_rep_hash")
        batch.drop_column("legal_rep_hash")
        batch.drop_column("legal_rep_enc")
