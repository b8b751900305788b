"""SQLAlchemy 2 tables of the lending service (Core, no mapped classes).

Money is BIGINT fen plus a CHAR(3) currency; accrued fractions of a fen are BIGINT in 1e-8 fen
(exact integer arithmetic in set-based SQL on both databases; SQLite has no exact NUMERIC);
timestamps are timezone-aware. One metadata serves SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (
    CHAR,
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()


def _money(name: str) -> Column[int]:
    return Column(name, BigInteger, nullable=False, server_default="0")


users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("enterprise_uscc", String(18), nullable=True),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

applications = Table(
    "applications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uscc", String(18), nullable=False, index=True),
    Column("legal_rep_id", String(18), nullable=True),  # unused since 0002: stored encrypted
    Column("legal_rep_enc", Text, nullable=True),  # AES-256-GCM, base64 (DOMAIN.md §2)
    Column("legal_rep_hash", String(64), nullable=True, index=True),  # HMAC-SHA256 join key
    _money("amount_fen"),
    Column("approved_fen", BigInteger, nullable=True),  # since 0003: null until approved
    Column("currency", CHAR(3), nullable=False, server_default="CNY"),
    Column("term_months", Integer, nullable=False),
    Column("method", String(20), nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("band", String(20), nullable=False),
    Column("annual_rate", String(20), nullable=False),
    Column("penalty_uplift", String(10), nullable=False, server_default="0.5"),
    Column("decision_json", Text, nullable=False),
    Column("as_of", Date, nullable=True),  # since 0004: the date the decision was made as of
    Column("created_by", String(64), nullable=False),
    Column("updated_by", String(64), nullable=False),
    Column("reviewed_by", String(64), nullable=True),
    Column("review_comment", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

loans = Table(
    "loans",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("application_id", ForeignKey("applications.id"), nullable=False, unique=True),
    Column("disbursement_key", String(100), nullable=False, unique=True),
    Column("uscc", String(18), nullable=False, index=True),
    _money("principal_fen"),
    Column("currency", CHAR(3), nullable=False, server_default="CNY"),
    Column("annual_rate", String(20), nullable=False),
    Column("penalty_uplift", String(10), nullable=False),
    Column("method", String(20), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("status", String(20), nullable=False, index=True),
    _money("outstanding_fen"),
    Column("rate_ppm", Integer, nullable=False),
    Column("uplift_pct", Integer, nullable=False),
    # Penalty + compound interest accrued, in 1e-8 fen (exact integers on SQLite and PostgreSQL).
    Column("accrued_penalty_e8", BigInteger, nullable=False, server_default="0"),
    # Since 0005: normal interest accrued in the current period, not yet due (1e-8 fen), and
    # income recognised (accrued or billed, posted to the receivable) and received to date.
    Column("accrued_interest_e8", BigInteger, nullable=False, server_default="0"),
    _money("interest_recognised_fen"),
    _money("interest_received_fen"),
    _money("penalty_recognised_fen"),
    _money("penalty_paid_fen"),
    _money("suspense_fen"),
    Column("dpd", Integer, nullable=False, server_default="0"),
    Column("bucket", String(3), nullable=False, server_default="M0"),
    Column("grade", Integer, nullable=False, server_default="1"),
    Column("disbursed_at", DateTime(timezone=True), nullable=False),
)

installments = Table(
    "installments",
    metadata,
    Column("loan_id", ForeignKey("loans.id"), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("due_on", Date, nullable=False, index=True),
    _money("principal_fen"),
    _money("interest_fen"),
    _money("principal_paid_fen"),
    _money("interest_paid_fen"),
)

journal_entries = Table(
    "journal_entries",
    metadata,
    Column("id", String(80), primary_key=True),
    Column("loan_id", ForeignKey("loans.id"), nullable=True, index=True),
    Column("booked_on", Date, nullable=False),
    Column("description", String(200), nullable=False),
    Column("reverses", String(80), nullable=True, unique=True),
)

postings = Table(
    "postings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entry_id", ForeignKey("journal_entries.id"), nullable=False, index=True),
    Column("account", String(30), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("currency", CHAR(3), nullable=False),
)

repayments = Table(
    "repayments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("loan_id", ForeignKey("loans.id"), nullable=False, index=True),
    Column("idempotency_key", String(100), nullable=False, unique=True),
    _money("amount_fen"),
    Column("received_on", Date, nullable=False),
    Column("early", Integer, nullable=False, server_default="0"),
    _money("principal_fen"),
    _money("interest_fen"),
    _money("penalty_fen"),
    _money("suspense_fen"),
)

eod_runs = Table(
    "eod_runs",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("loans", Integer, nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
)

loan_days = Table(
    "loan_days",
    metadata,
    Column("loan_id", ForeignKey("loans.id"), primary_key=True),
    Column("as_of", Date, primary_key=True),
    Column("dpd", Integer, nullable=False),
    Column("bucket", String(3), nullable=False),
    Column("grade", Integer, nullable=False),
    _money("overdue_principal_fen"),
    _money("overdue_interest_fen"),
    Column("penalty_accrual_e8", BigInteger, nullable=False),
    # Since 0005: normal interest accrued that day, and income recognised that day (fen).
    Column("interest_accrual_e8", BigInteger, nullable=False, server_default="0"),
    Column("interest_fen", BigInteger, nullable=False, server_default="0"),
    Column("penalty_fen", BigInteger, nullable=False, server_default="0"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("loan_id", ForeignKey("loans.id"), nullable=False),
    Column("installment", Integer, nullable=False),
    Column("kind", String(10), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("created_for", Date, nullable=False),
    UniqueConstraint("loan_id", "installment", "kind", name="uq_outbox_reminder"),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("last_seq", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(40), nullable=False),
    Column("subject", String(80), nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
