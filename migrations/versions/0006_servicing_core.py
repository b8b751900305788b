"""The servicing core: credit lines, drawdowns, receipts from the bank, four eyes, statements,
auto-debit, prepayment requests, a keyed audit chain, and a journal the database guards.

Existing data is carried over:

* every application with a loan (status ``disbursed`` before) or accepted without one gets a
  one-off credit line: limit = the approved amount (or the amount asked), utilised = its loan's
  principal (nothing for an undisbursed one), active, opened on the loan's start date (or the day
  the application was last changed), expiring after the term; ``disbursed`` becomes ``accepted``
  and each loan gets its ``line_id``. Older rows never named a settlement account: their lines
  get the placeholder ``0000000000`` (statement lines from that "account" match by the loan
  reference in the memo only), to be corrected when the borrower names one;
* loans booked so far have no original schedule (a recompute refuses them);
* ``journal_entries.value_date`` = ``booked_on``; receipts (``repayments``) get their
  ``idempotency_key`` as bank reference, ``received_on`` as value and booking date, source
  ``legacy`` and the ``rep-<id>`` entry they made;
* ``loan_days`` learn whether an instalment fell due that day and whether the loan was past the
  non-accrual threshold (90 days, the rule in force since 0005);
* existing audit records are the unkeyed prefix of the chain (``keyed`` false, head not sealed);
* the ledger guards are installed (``adapters/ledger_guard.py``) after checking that every
  stored entry balances: the upgrade fails, naming them, if one does not.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from loomcredit.adapters.ledger_guard import backfill_balanced_entries, install_ledger_guards
from loomcredit.domain.daycount import add_months

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: Lines carried over from before settlement accounts were asked for (see the docstring).
PLACEHOLDER_ACCOUNT = "0000000000"
#: The non-accrual threshold the 0005 end of day applied (days past due).
NON_ACCRUAL_AFTER_DAYS = 90
#: Names unnamed constraints so SQLite's batch mode can find and drop them.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _money(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.BigInteger(), nullable=False, server_default="0")


def _currency() -> sa.Column[Any]:
    return sa.Column("currency", sa.CHAR(3), nullable=False, server_default="CNY")


def _users_and_applications() -> None:
    with op.batch_alter_table("users") as b:
        b.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
        b.add_column(sa.Column("token_epoch", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("applications") as b:
        b.add_column(sa.Column("settlement_account", sa.String(32), nullable=True))


def _credit_lines() -> None:
    op.create_table(
        "credit_lines",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Integer(), sa.ForeignKey("applications.id"), nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        _money("limit_fen"),
        _money("original_limit_fen"),
        _money("utilised_fen"),
        _money("reserved_fen"),
        _currency(),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("decision_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("settlement_account", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_id"),
    )
    op.create_index("ix_credit_lines_uscc", "credit_lines", ["uscc"])
    op.create_index("ix_credit_lines_settlement_account", "credit_lines", ["settlement_account"])


def _day(value: datetime) -> date:
    """The UTC date of a stored instant (SQLite gives naive UTC, PostgreSQL the session zone)."""
    return (value.astimezone(UTC) if value.tzinfo else value).date()


def _open_lines(bind: sa.Connection) -> None:
    """One one-off line per accepted or disbursed application (and any with a loan)."""
    apps = sa.table(
        "applications",
        sa.column("id", sa.Integer),
        sa.column("uscc", sa.String),
        sa.column("amount_fen", sa.BigInteger),
        sa.column("approved_fen", sa.BigInteger),
        sa.column("currency", sa.String),
        sa.column("term_months", sa.Integer),
        sa.column("status", sa.String),
        sa.column("decision_json", sa.Text),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    loans = sa.table(
        "loans",
        sa.column("id", sa.Integer),
        sa.column("application_id", sa.Integer),
        sa.column("principal_fen", sa.BigInteger),
        sa.column("start_date", sa.Date),
        sa.column("line_id", sa.Integer),
    )
    lines = sa.table(
        "credit_lines",
        *(
            sa.column(c)
            for c in (
                "id", "application_id", "uscc", "kind", "limit_fen", "original_limit_fen",
                "utilised_fen", "reserved_fen", "currency", "status", "reason", "opened_on",
                "expires_on", "decision_id", "settlement_account", "version",
            )
        ),
    )  # fmt: skip
    drawn: dict[int, list[Any]] = {}
    for loan in bind.execute(sa.select(loans).order_by(loans.c.id)):
        drawn.setdefault(loan.application_id, []).append(loan)
    wanted = sa.or_(apps.c.status.in_(["disbursed", "accepted"]), apps.c.id.in_(list(drawn)))
    for app in bind.execute(sa.select(apps).where(wanted).order_by(apps.c.id)).all():
        its = drawn.get(app.id, [])
        started = min((ln.start_date for ln in its), default=None)
        opened = started or _day(app.updated_at)  # accepted: the last change was the signing
        limit = app.approved_fen if app.approved_fen is not None else app.amount_fen
        try:
            decision_id = str(json.loads(app.decision_json or "{}").get("decision_id") or "")
        except ValueError:
            decision_id = ""
        line_id = bind.execute(
            sa.insert(lines)
            .values(
                application_id=app.id,
                uscc=app.uscc,
                kind="one_off",
                limit_fen=limit,
                original_limit_fen=limit,
                utilised_fen=sum(ln.principal_fen for ln in its),
                reserved_fen=0,
                currency=app.currency,
                status="active",
                reason="",
                opened_on=opened,
                expires_on=add_months(opened, max(1, app.term_months)),
                decision_id=decision_id,
                settlement_account=PLACEHOLDER_ACCOUNT,
                version=0,
            )
            .returning(lines.c.id)
        ).scalar_one()
        bind.execute(
            sa.update(loans).where(loans.c.application_id == app.id).values(line_id=line_id)
        )
    bind.execute(sa.update(apps).where(apps.c.status == "disbursed").values(status="accepted"))
    orphans = bind.execute(sa.select(sa.func.count()).where(loans.c.line_id.is_(None))).scalar()
    if orphans:  # pragma: no cover - every loan's application got a line just above
        raise RuntimeError(f"{orphans} loans have no credit line after the upgrade")


def _loans(bind: sa.Connection) -> None:
    with op.batch_alter_table("loans") as b:
        b.add_column(sa.Column("line_id", sa.Integer(), nullable=True))
        b.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
    _open_lines(bind)
    unique = next(
        (
            u["name"]
            for u in sa.inspect(bind).get_unique_constraints("loans")
            if u["column_names"] == ["application_id"]
        ),
        None,
    )
    # A revolving line may be drawn more than once: a loan is no longer unique per application.
    with op.batch_alter_table("loans", naming_convention=NAMING) as b:
        b.alter_column("line_id", existing_type=sa.Integer(), nullable=False)
        b.create_foreign_key("fk_loans_line_id", "credit_lines", ["line_id"], ["id"])
        b.drop_constraint(unique or "uq_loans_application_id", type_="unique")
        b.create_index("ix_loans_application_id", ["application_id"])
        b.create_index("ix_loans_line_id", ["line_id"])
    op.create_table(
        "original_installments",
        sa.Column("loan_id", sa.Integer(), sa.ForeignKey("loans.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        _money("principal_fen"),
        _money("interest_fen"),
        sa.PrimaryKeyConstraint("loan_id", "number"),
    )


def _journal(sqlite: bool) -> None:
    op.create_table(
        "balanced_entries",
        sa.Column("id", sa.String(80), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.add_column("journal_entries", sa.Column("value_date", sa.Date(), nullable=True))
    op.execute("UPDATE journal_entries SET value_date = booked_on")
    with op.batch_alter_table("journal_entries") as b:
        b.alter_column("value_date", existing_type=sa.Date(), nullable=False)
        if sqlite:  # SQLite's commit-time balance check (ledger_guard.py)
            b.create_foreign_key(
                "fk_journal_entries_balanced",
                "balanced_entries",
                ["id"],
                ["id"],
                deferrable=True,
                initially="DEFERRED",
            )
    with op.batch_alter_table("postings") as b:
        b.create_check_constraint("ck_postings_amount_nonzero", "amount_fen <> 0")


def _receipts() -> None:
    with op.batch_alter_table("repayments") as b:
        b.add_column(_currency())
        for name, kind in (
            ("bank_ref", sa.String(100)),
            ("value_date", sa.Date()),
            ("booked_on", sa.Date()),
            ("source", sa.String(20)),
        ):
            b.add_column(sa.Column(name, kind, nullable=True))
        b.add_column(sa.Column("entry_id", sa.String(80), nullable=False, server_default=""))
    entry = "'rep-' || CAST(repayments.id AS VARCHAR(20))"
    op.execute(
        f"""
        UPDATE repayments SET
            currency = COALESCE((SELECT l.currency FROM loans l WHERE l.id = repayments.loan_id),
                                'CNY'),
            bank_ref = idempotency_key,
            value_date = received_on,
            booked_on = received_on,
            source = 'legacy',
            entry_id = CASE WHEN EXISTS (SELECT 1 FROM journal_entries j WHERE j.id = {entry})
                            THEN {entry} ELSE '' END
        """
    )
    with op.batch_alter_table("repayments") as b:
        b.alter_column("bank_ref", existing_type=sa.String(100), nullable=False)
        b.alter_column("value_date", existing_type=sa.Date(), nullable=False)
        b.alter_column("booked_on", existing_type=sa.Date(), nullable=False)
        b.alter_column("source", existing_type=sa.String(20), nullable=False)
        b.create_unique_constraint("uq_repayments_bank_ref", ["bank_ref"])


def _end_of_day() -> None:
    with op.batch_alter_table("eod_runs") as b:
        b.add_column(sa.Column("accrual_entries", sa.Integer(), nullable=False, server_default="0"))
        b.add_column(sa.Column("reminders", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("loan_days") as b:
        for name in ("due_today", "non_accrual"):
            b.add_column(sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false()))
        b.add_column(
            sa.Column(
                "non_accrual_after",
                sa.Integer(),
                nullable=False,
                server_default=str(NON_ACCRUAL_AFTER_DAYS),
            )
        )
    op.execute(
        f"""
        UPDATE loan_days SET
            due_today = EXISTS (SELECT 1 FROM installments i
                                WHERE i.loan_id = loan_days.loan_id AND i.due_on = loan_days.as_of),
            non_accrual = (dpd > {NON_ACCRUAL_AFTER_DAYS})
        """
    )
    op.create_table(
        "book_day",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint("id = 1", name="ck_book_day_single_row"),
    )
    op.execute("INSERT INTO book_day (id) VALUES (1)")


def _audit() -> None:
    with op.batch_alter_table("audit_log") as b:
        b.add_column(sa.Column("keyed", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("audit_head") as b:
        b.add_column(sa.Column("mac", sa.String(64), nullable=True))


def _approvals_and_payments() -> None:
    dt = sa.DateTime(timezone=True)
    op.create_table(
        "approval_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("subject", sa.String(80), nullable=False),
        sa.Column("order_json", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("requested_at", dt, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("excluded", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", dt, nullable=True),
        sa.Column("comment", sa.Text(), nullable=False, server_default=""),
        sa.Column("idempotency_key", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_index("ix_approval_requests_subject", "approval_requests", ["subject"])
    op.create_index("ix_approval_requests_status_kind", "approval_requests", ["status", "kind"])
    op.create_table(
        "statement_imports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("imported_by", sa.String(64), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        *(
            sa.Column(n, sa.Integer(), nullable=False)
            for n in ("lines", "booked", "unmatched", "duplicates", "ignored")
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "statement_lines",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("import_id", sa.Integer(), sa.ForeignKey("statement_imports.id"), nullable=True),
        sa.Column("bank_ref", sa.String(100), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("account", sa.String(32), nullable=False),
        sa.Column("counterparty", sa.String(200), nullable=False, server_default=""),
        _money("amount_fen"),
        _currency(),
        sa.Column("memo", sa.Text(), nullable=False, server_default=""),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("loan_id", sa.Integer(), sa.ForeignKey("loans.id"), nullable=True),
        sa.Column("receipt_id", sa.Integer(), sa.ForeignKey("repayments.id"), nullable=True),
        sa.Column("resolved_by", sa.String(64), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("bank_ref"),
    )
    op.create_index("ix_statement_lines_value_date", "statement_lines", ["value_date"])
    op.create_index("ix_statement_lines_status", "statement_lines", ["status"])
    op.create_table(
        "debit_instructions",
        sa.Column("instruction_id", sa.String(80), nullable=False),
        sa.Column("loan_id", sa.Integer(), sa.ForeignKey("loans.id"), nullable=False),
        sa.Column("account", sa.String(32), nullable=False),
        _money("amount_fen"),
        _currency(),
        sa.Column("debit_on", sa.Date(), nullable=False),
        sa.Column("early", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("batch_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("bank_ref", sa.String(100), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("instruction_id"),
    )
    op.create_index("ix_debit_instructions_loan_id", "debit_instructions", ["loan_id"])
    op.create_index("ix_debit_instructions_debit_on", "debit_instructions", ["debit_on"])
    op.create_table(
        "prepayment_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("loan_id", sa.Integer(), sa.ForeignKey("loans.id"), nullable=False),
        sa.Column("requested_for", sa.Date(), nullable=False),
        sa.Column("principal_fen", sa.BigInteger(), nullable=True),
        _currency(),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_prepayment_requests_loan_id", "prepayment_requests", ["loan_id"])


def _resync_sequences(bind: sa.Connection) -> None:
    """PostgreSQL: move each serial id's sequence past the largest id stored (rows inserted with
    explicit ids, as seeding scripts do, leave it behind and the next insert would collide)."""
    for table in ("users", "applications", "loans", "postings", "repayments", "outbox"):
        bind.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table}"
            )
        )


def upgrade() -> None:
    """Apply, carrying the book over (see the module docstring)."""
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if not sqlite:
        _resync_sequences(bind)
    _users_and_applications()
    _credit_lines()
    _loans(bind)
    _journal(sqlite)
    _receipts()
    _end_of_day()
    _audit()
    _approvals_and_payments()
    backfill_balanced_entries(bind)  # raises, naming them, if a stored entry does not balance
    install_ledger_guards(bind)


def downgrade() -> None:
    """Not supported: the journal is append-only and lines, receipts and approvals have no
    place in the 0005 schema."""
    raise NotImplementedError(
        "0006 cannot be downgraded: restore the backup taken before the upgrade instead (the "
        "0005 schema has no credit lines, approvals or statement lines, and the ledger guards "
        "refuse the edits a downgrade would need)"
    )
