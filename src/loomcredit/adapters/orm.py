"""SQLAlchemy 2 tables of the lending service (Core, no mapped classes).

Money is BIGINT fen plus a CHAR(3) currency; accrued fractions of a fen are BIGINT in 1e-8 fen
(exact integer arithmetic in set-based SQL on both databases; SQLite has no exact NUMERIC);
timestamps are timezone-aware. One metadata serves SQLite and PostgreSQL.

The journal is guarded by the database itself (``adapters/ledger_guard.py``): no posting of zero,
no UPDATE or DELETE of an entry or a posting, and an entry must balance per currency with at least
two postings when the transaction commits. On SQLite the commit-time check is the deferred foreign
key from ``journal_entries.id`` to ``balanced_entries`` (rendered on SQLite only), a table the
posting triggers keep; PostgreSQL uses deferred constraint triggers instead.
"""

from __future__ import annotations

from sqlalchemy import (
    CHAR,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

metadata = MetaData()


def _money(name: str) -> Column[int]:
    return Column(name, BigInteger, nullable=False, server_default="0")


def _currency() -> Column[str]:
    return Column("currency", CHAR(3), nullable=False, server_default="CNY")


users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("enterprise_uscc", String(18), nullable=True),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled_at", DateTime(timezone=True), nullable=True),  # since 0006
    Column("token_epoch", Integer, nullable=False, server_default="0"),  # since 0006
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
    _currency(),
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
    Column("settlement_account", String(32), nullable=True),  # since 0006: named at signing
)

credit_lines = Table(
    "credit_lines",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("application_id", ForeignKey("applications.id"), nullable=False, unique=True),
    Column("uscc", String(18), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    _money("limit_fen"),  # the limit in force
    _money("original_limit_fen"),  # the limit opened with (LineTerms.limit)
    _money("utilised_fen"),
    _money("reserved_fen"),
    _currency(),
    Column("status", String(20), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("opened_on", Date, nullable=False),
    Column("expires_on", Date, nullable=False),
    Column("decision_id", String(64), nullable=False, server_default=""),
    Column("settlement_account", String(32), nullable=False, index=True),
    Column("version", Integer, nullable=False, server_default="0"),
)

loans = Table(
    "loans",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # A line may be drawn more than once (revolving): since 0006 not unique per application.
    Column("application_id", ForeignKey("applications.id"), nullable=False, index=True),
    Column("line_id", ForeignKey("credit_lines.id"), nullable=False, index=True),  # since 0006
    Column("disbursement_key", String(100), nullable=False, unique=True),
    Column("uscc", String(18), nullable=False, index=True),
    _money("principal_fen"),
    _currency(),
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
    Column("version", Integer, nullable=False, server_default="0"),  # since 0006
    # Since 0013: the last restructuring (展期/重组) and the last day of its watch period.
    Column("restructured_on", Date, nullable=True),
    Column("watch_until", Date, nullable=True),
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

# Since 0006: the schedule as disbursed (a recompute replays a loan from it).
original_installments = Table(
    "original_installments",
    metadata,
    Column("loan_id", ForeignKey("loans.id"), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("due_on", Date, nullable=False),
    _money("principal_fen"),
    _money("interest_fen"),
)

# Since 0006, SQLite only in use: ids of the entries whose postings balance (ledger_guard.py).
balanced_entries = Table(
    "balanced_entries",
    metadata,
    Column("id", String(80), primary_key=True),
)

journal_entries = Table(
    "journal_entries",
    metadata,
    Column("id", String(80), primary_key=True),
    Column("loan_id", ForeignKey("loans.id"), nullable=True, index=True),
    Column("booked_on", Date, nullable=False),
    Column("value_date", Date, nullable=False),  # since 0006 (older entries: booked_on)
    Column("description", String(200), nullable=False),
    Column("reverses", String(80), nullable=True, unique=True),
    # Since 0007: how many postings the entry has; the database refuses one more (ledger_guard).
    Column("n_postings", Integer, nullable=False, server_default="0"),
    ForeignKeyConstraint(
        ["id"],
        ["balanced_entries.id"],
        name="fk_journal_entries_balanced",
        deferrable=True,
        initially="DEFERRED",
    ).ddl_if(dialect="sqlite"),
)

postings = Table(
    "postings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entry_id", ForeignKey("journal_entries.id"), nullable=False, index=True),
    Column("account", String(30), nullable=False),  # Account.name, e.g. LOAN_PRINCIPAL
    Column("amount_fen", BigInteger, nullable=False),
    Column("currency", CHAR(3), nullable=False),
    CheckConstraint("amount_fen <> 0", name="ck_postings_amount_nonzero"),
)

repayments = Table(
    "repayments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("loan_id", ForeignKey("loans.id"), nullable=False, index=True),
    # The API's idempotency key before 0006; since then the bank reference again.
    Column("idempotency_key", String(100), nullable=False, unique=True),
    _money("amount_fen"),
    _currency(),  # since 0006
    Column("received_on", Date, nullable=False),  # the value date
    Column("early", Integer, nullable=False, server_default="0"),
    _money("principal_fen"),
    _money("interest_fen"),
    _money("penalty_fen"),
    _money("suspense_fen"),
    # Since 0006: the bank's reference (older rows: their idempotency key), value and booking
    # dates, where the money came from, and the journal entry it made.
    Column("bank_ref", String(100), nullable=False, unique=True),
    Column("value_date", Date, nullable=False),
    Column("booked_on", Date, nullable=False),
    Column("source", String(20), nullable=False),
    Column("entry_id", String(80), nullable=False, server_default=""),
)

eod_runs = Table(
    "eod_runs",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("loans", Integer, nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("accrual_entries", Integer, nullable=False, server_default="0"),  # since 0006
    Column("reminders", Integer, nullable=False, server_default="0"),  # since 0006
)

loan_days = Table(
    "loan_days",
    metadata,
    Column("loan_id", ForeignKey("loans.id"), primary_key=True),
    Column("as_of", Date, primary_key=True),
    Column("dpd", Integer, nullable=False),
    Column("bucket", String(3), nullable=False),
    Column("grade", Integer, nullable=False),  # the day's floor grade
    _money("overdue_principal_fen"),
    _money("overdue_interest_fen"),
    Column("penalty_accrual_e8", BigInteger, nullable=False),
    # Since 0005: normal interest accrued that day, and income recognised that day (fen).
    Column("interest_accrual_e8", BigInteger, nullable=False, server_default="0"),
    Column("interest_fen", BigInteger, nullable=False, server_default="0"),
    Column("penalty_fen", BigInteger, nullable=False, server_default="0"),
    # Since 0006: whether an instalment fell due that day, non-accrual and its threshold.
    Column("due_today", Boolean, nullable=False, server_default=false()),
    Column("non_accrual", Boolean, nullable=False, server_default=false()),
    Column("non_accrual_after", Integer, nullable=False, server_default="90"),
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

# Since 0006: the book's day lock (one row; end of day holds it exclusively, money events shared).
book_day = Table(
    "book_day",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    CheckConstraint("id = 1", name="ck_book_day_single_row"),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("last_seq", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("mac", String(64), nullable=True),  # since 0006: the head's own MAC (keyed chain)
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
    Column("keyed", Boolean, nullable=False, server_default=false()),  # since 0006
)

# -- since 0006: four eyes, statements, auto-debit, prepayment requests -------------------------
approval_requests = Table(
    "approval_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),
    Column("subject", String(80), nullable=False, index=True),
    Column("order_json", Text, nullable=False),  # the typed order, tagged by kind
    Column("requested_by", String(64), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False),
    Column("excluded", Text, nullable=False, server_default="[]"),  # JSON list of user names
    Column("status", String(20), nullable=False),
    Column("decided_by", String(64), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("comment", Text, nullable=False, server_default=""),
    Column("idempotency_key", String(100), nullable=True, unique=True),
    Index("ix_approval_requests_status_kind", "status", "kind"),
)

statement_imports = Table(
    "statement_imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("file_name", String(255), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("imported_by", String(64), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("lines", Integer, nullable=False),
    Column("booked", Integer, nullable=False),
    Column("unmatched", Integer, nullable=False),
    Column("duplicates", Integer, nullable=False),
    Column("ignored", Integer, nullable=False),
)

statement_lines = Table(
    "statement_lines",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("import_id", ForeignKey("statement_imports.id"), nullable=True),  # None: no import
    Column("bank_ref", String(100), nullable=False, unique=True),
    Column("value_date", Date, nullable=False, index=True),
    Column("account", String(32), nullable=False),
    Column("counterparty", String(200), nullable=False, server_default=""),
    _money("amount_fen"),
    _currency(),
    Column("memo", Text, nullable=False, server_default=""),
    Column("status", String(20), nullable=False, index=True),
    Column("outcome", String(20), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("loan_id", ForeignKey("loans.id"), nullable=True),
    Column("receipt_id", ForeignKey("repayments.id"), nullable=True),
    Column("resolved_by", String(64), nullable=True),
    Column("resolution", Text, nullable=False, server_default=""),
)

debit_instructions = Table(
    "debit_instructions",
    metadata,
    Column("instruction_id", String(80), primary_key=True),
    Column("loan_id", ForeignKey("loans.id"), nullable=False, index=True),
    Column("account", String(32), nullable=False),
    _money("amount_fen"),
    _currency(),
    Column("debit_on", Date, nullable=False, index=True),  # DebitInstruction.on
    Column("early", Boolean, nullable=False, server_default=false()),
    Column("batch_id", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("bank_ref", String(100), nullable=False, server_default=""),
)

prepayment_requests = Table(
    "prepayment_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("loan_id", ForeignKey("loans.id"), nullable=False, index=True),
    Column("requested_for", Date, nullable=False),  # PrepaymentRequest.on
    Column("principal_fen", BigInteger, nullable=True),  # None: everything
    _currency(),
    Column("requested_by", String(64), nullable=False),
    Column("status", String(20), nullable=False),
)

# -- since 0008: post-loan monitoring (alerts) ----------------------------------------------------
_NOT_CLOSED = text("status <> 'closed'")

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uscc", String(18), nullable=False),
    Column("line_id", ForeignKey("credit_lines.id"), nullable=False, index=True),
    Column("rule", String(40), nullable=False),
    Column("level", String(10), nullable=False),
    Column("status", String(20), nullable=False),
    Column("evidence_json", Text, nullable=False),  # [{feature, value, baseline, as_of, …}]
    Column("first_seen", Date, nullable=False),
    Column("last_seen", Date, nullable=False),
    Column("assignee", String(64), nullable=False, server_default=""),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("escalated_at", DateTime(timezone=True), nullable=True),
    # the monitor froze the undrawn line when it raised the alert (a person confirms or lifts)
    Column("froze_line", Boolean, nullable=False, server_default=false()),
    Column("version", Integer, nullable=False, server_default="0"),
    Index("ix_alerts_status_level", "status", "level"),
    # one open alert per borrower and rule: re-running the monitor refreshes it
    Index(
        "uq_alerts_open_rule",
        "uscc",
        "rule",
        unique=True,
        sqlite_where=_NOT_CLOSED,
        postgresql_where=_NOT_CLOSED,
    ),
)

alert_steps = Table(
    "alert_steps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", ForeignKey("alerts.id"), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
)

# -- since 0009: monthly limit reviews (额度动态调整) ------------------------------------------
limit_reviews = Table(
    "limit_reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("line_id", ForeignKey("credit_lines.id"), nullable=False),
    Column("uscc", String(18), nullable=False),
    Column("month", Date, nullable=False),  # the month the limit is for (its first day)
    Column("as_of", Date, nullable=False),
    Column("current_fen", BigInteger, nullable=False),
    Column("approved_fen", BigInteger, nullable=False),
    Column("target_fen", BigInteger, nullable=False),
    _currency(),
    Column("outcome", String(20), nullable=False),
    Column("basis_json", Text, nullable=True),  # {pd, base_limit, month_limit, components, …}
    Column("reason_zh", Text, nullable=False, server_default=""),
    Column("reason_en", Text, nullable=False, server_default=""),
    Column("approval_id", Integer, nullable=False, server_default="0"),
    # one review per line and month: re-running the month's review changes nothing
    Index("uq_limit_reviews_line_month", "line_id", "month", unique=True),
    Index("ix_limit_reviews_month", "month"),
)

# -- since 0010: borrowers' registered contacts (登记联系人), channels encrypted (PIPL) ----------
contacts = Table(
    "contacts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uscc", String(18), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    Column("phone_enc", Text, nullable=True),
    Column("phone_hash", String(64), nullable=True),
    Column("email_enc", Text, nullable=True),
    Column("email_hash", String(64), nullable=True),
    Column("registered_on", Date, nullable=False),
    Column("registered_by", String(64), nullable=False),
    Column("retired_on", Date, nullable=True),
)

# -- since 0014: follow-up tasks on alerts (贷后跟进任务) --------------------------------------
follow_up_tasks = Table(
    "follow_up_tasks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),
    Column("alert_id", ForeignKey("alerts.id"), nullable=False),
    Column("uscc", String(18), nullable=False),
    Column("line_id", Integer, nullable=False),
    Column("assignee", String(64), nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("requested_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("documents_json", Text, nullable=False, server_default="[]"),
    Column("note", Text, nullable=False, server_default=""),
    Column("status", String(20), nullable=False),
    Column("closed_by", String(64), nullable=False, server_default=""),
    Column("closed_on", Date, nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("findings", Text, nullable=False, server_default=""),
    Index("ix_follow_up_tasks_assignee", "assignee", "status"),
    # one open task of a kind per alert (closed ones are many)
    Index(
        "uq_follow_up_open",
        "alert_id",
        "kind",
        unique=True,
        sqlite_where=text("status = 'open'"),
        postgresql_where=text("status = 'open'"),
    ),
)

# -- since 0011: the notice outbox (one row per notice and recipient channel) and the inbox ------
# The address is personal information (PIPL): stored AES-256-GCM encrypted, as contacts are.
notices = Table(
    "notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("loan_id", ForeignKey("loans.id"), nullable=False, index=True),
    Column("uscc", String(18), nullable=False, index=True),
    Column("installment", Integer, nullable=False),
    Column("kind", String(10), nullable=False),  # T-7 … DUE, D1 … D14 …, BUREAU
    Column("created_for", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    _money("amount_fen"),
    _currency(),
    Column("dpd", Integer, nullable=False, server_default="0"),
    Column("channel", String(10), nullable=False),  # email | sms | inbox
    Column("contact_id", Integer, nullable=False, server_default="0"),  # 0: the inbox
    Column("address_enc", Text, nullable=False),
    Column("language", String(10), nullable=False, server_default="zh-CN"),
    Column("subject", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("policy_version", String(60), nullable=False),
    Column("status", String(12), nullable=False),  # queued → sending → delivered | failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("claimed_by", String(40), nullable=True),
    Column("last_error", Text, nullable=False, server_default=""),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint(
        "loan_id", "installment", "kind", "channel", "contact_id", name="uq_notices_delivery"
    ),
    Index("ix_notices_due", "status", "next_attempt_at"),
)

inbox_messages = Table(
    "inbox_messages",
    metadata,
    Column("key", String(40), primary_key=True),  # the delivery's idempotency key
    Column("uscc", String(18), nullable=False, index=True),
    Column("subject", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=False),
    Column("read_at", DateTime(timezone=True), nullable=True),
)

# -- since 0012: collection cases (催收案件), bucket moves, activities, promises to pay -----------
_CASE_OPEN = text("status = 'open'")
collection_cases = Table(
    "collection_cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uscc", String(18), nullable=False, index=True),
    Column("region", String(6), nullable=False),
    Column("status", String(10), nullable=False),
    Column("close_reason", String(20), nullable=True),
    Column("opened_on", Date, nullable=False),
    Column("closed_on", Date, nullable=True),
    Column("last_seen_on", Date, nullable=False),
    Column("bucket", String(3), nullable=False),
    Column("dpd", Integer, nullable=False),
    _money("principal_fen"),
    _money("interest_fen"),
    _money("penalty_fen"),
    _money("compound_fen"),
    _money("exposure_fen"),
    _currency(),
    Column("loan_ids", Text, nullable=False, server_default=""),  # "3,7": the loans in arrears
    Column("pd", String(20), nullable=True),
    Column("season_factors", Text, nullable=True),  # twelve factors, January first, "0.7,…"
    Column("collector", String(64), nullable=False, server_default=""),
    Column("next_action_on", Date, nullable=False),
    Column("priority_fen", BigInteger, nullable=False, server_default="0"),
    Column("dispute_open", Boolean, nullable=False, server_default=false()),
    Column("escalation", String(20), nullable=False, server_default=""),
    Column("escalation_ids", Text, nullable=False, server_default=""),  # approval request ids
    Column("version", Integer, nullable=False, server_default="0"),
    Index("ix_collection_cases_status_priority", "status", "priority_fen"),
    # one open case per borrower: two end-of-day runs cannot both open it
    Index(
        "uq_collection_cases_open_uscc",
        "uscc",
        unique=True,
        sqlite_where=_CASE_OPEN,
        postgresql_where=_CASE_OPEN,
    ),
)

case_bucket_moves = Table(
    "case_bucket_moves",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("collection_cases.id"), nullable=False, index=True),
    Column("moved_on", Date, nullable=False),
    Column("from_bucket", String(3), nullable=True),
    Column("to_bucket", String(3), nullable=False),
    Column("dpd", Integer, nullable=False),
)

case_activities = Table(
    "case_activities",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("collection_cases.id"), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("contact_id", Integer, nullable=True),
    Column("actor", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("note", Text, nullable=False, server_default=""),
)

case_promises = Table(
    "case_promises",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("collection_cases.id"), nullable=False, index=True),
    Column("made_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    _money("amount_fen"),
    _currency(),
    Column("actor", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("settled_fen", BigInteger, nullable=True),
    Column("evaluated_on", Date, nullable=True),
)
