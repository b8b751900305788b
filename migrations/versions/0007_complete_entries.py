"""A posted journal entry is complete: the database refuses a posting added to it later.

``journal_entries.n_postings`` records how many postings each entry has (filled in from the
postings stored); the ledger guards (``adapters/ledger_guard.py``) then refuse a posting beyond
that number at once and an entry whose postings fall short of it at commit. Before, a pair of
balanced postings could be added to an entry committed long ago.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from loomcredit.adapters.ledger_guard import install_ledger_guards

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_COUNT = (
    "UPDATE journal_entries SET n_postings = "
    "(SELECT COUNT(*) FROM postings p WHERE p.entry_id = journal_entries.id)"
)


def upgrade() -> None:
    """Add the column, count each stored entry's postings, reinstall the guards."""
    bind = op.get_bind()
    # The append-only guard refuses the UPDATE that fills the column in: lift it for this step
    # only (install_ledger_guards puts every guard back, in its new form).
    if bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS ledger_journal_entries_no_update")
    else:
        op.execute("DROP TRIGGER IF EXISTS ledger_append_only ON journal_entries")
    op.add_column(
        "journal_entries",
        sa.Column("n_postings", sa.Integer(), nullable=False, server_default="0"),
    )
    op.execute(_COUNT)
    install_ledger_guards(bind)


def downgrade() -> None:
    """Not supported, as for 0006: the journal is append-only."""
    raise NotImplementedError(
        "0007 cannot be downgraded: restore the backup taken before the upgrade instead"
    )
