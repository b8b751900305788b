"""Migration 0006 on a book written at revision 0005 (SQLite and PostgreSQL): the old rows read
through the new repositories, disbursed applications open credit lines, the journal keeps its
balances and is guarded from then on; an upgraded empty database has the schema of orm.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, inspect, text
from sqlalchemy.exc import DBAPIError
from tests.lending_fixtures import database_url

from loomcredit.adapters import orm
from loomcredit.adapters.ledger_guard import install_ledger_guards
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork, make_engine
from loomcredit.domain.application import ApplicationStatus
from loomcredit.domain.credit_line import LineKind, LineStatus
from loomcredit.domain.ledger import Account
from loomcredit.domain.loan import Loan, LoanRef, LoanStatus
from loomcredit.domain.money import Money, Rate
from loomcredit.domain.payments import ReceiptSource
from loomcredit.domain.schedule import Method, build_schedule
from loomcredit.service_layer.audit import GENESIS, record_hash, verify_chain

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
AUDIT_KEY = b"migration-test-audit-key"
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
START = date(2026, 1, 5)


def alembic_upgrade(url: str, revision: str) -> None:
    """``alembic upgrade`` as ``bootstrap.service.upgrade_database`` runs it."""
    cfg = Config(str(MIGRATIONS / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, revision)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database."""
    yield from database_url(request.param, tmp_path)


def rows(engine: Engine, table: str, items: list[dict[str, Any]]) -> None:
    """Plain INSERTs, as the 0005 code wrote them."""
    with engine.begin() as conn:
        for item in items:
            cols = ", ".join(item)
            conn.execute(
                text(f"INSERT INTO {table} ({cols}) VALUES ({', '.join(':' + c for c in item)})"),
                item,
            )


def app_row(app_id: int, status: str, amount: int, approved: int | None) -> dict[str, Any]:
    """An application as 0005 stored it."""
    decision = json.dumps(
        {
            "band": "auto_approve",
            "annual_rate": "0.045",
            "limit": amount,
            "pd": "0.01",
            "reasons": [],
            "engine": "fallback-rules-v1",
            "decision_id": f"D{app_id}",
        }
    )
    return {
        "id": app_id,
        "uscc": "91330603MA2B00000X",
        "amount_fen": amount,
        "approved_fen": approved,
        "currency": "CNY",
        "term_months": 3,
        "method": "annuity",
        "status": status,
        "band": "auto_approve",
        "annual_rate": "0.045",
        "penalty_uplift": "0.5",
        "decision_json": decision,
        "as_of": START,
        "created_by": "officer",
        "updated_by": "firm",
        "created_at": T0,
        "updated_at": datetime(2026, 1, 4, 10, 0, tzinfo=UTC),
    }


# The 0005 book: a ¥100,000 loan of 3 annuity instalments at 4.5 %, the first paid on its due
# date 2026-02-05 (¥33,458.42 principal + ¥375.00 interest), one accrual the night before.
P1, I1 = 3_345_842, 37_500
ENTRIES = {
    "disb-1": [("LOAN_PRINCIPAL", 10_000_000), ("SETTLEMENT", -10_000_000)],
    "acr-1-2026-02-04": [("INTEREST_RECEIVABLE", 36_250), ("INTEREST_INCOME", -36_250)],
    "rep-1": [
        ("SETTLEMENT", P1 + I1),
        ("LOAN_PRINCIPAL", -P1),
        ("INTEREST_RECEIVABLE", -36_250),
        ("INTEREST_INCOME", -1_250),
    ],
}


def seed_0005(engine: Engine) -> list[tuple[int, datetime, str, str, str, str, str, str]]:
    """Fill a 0005 database; returns the audit records written (for the chain)."""
    rows(engine, "users", [
        {"name": n, "role": r, "password_hash": "h", "created_at": T0}
        for n, r in (("officer", "officer"), ("firm", "applicant"))
    ])  # fmt: skip
    rows(engine, "applications", [
        app_row(1, "disbursed", 12_000_000, 10_000_000),
        app_row(2, "accepted", 5_000_000, None),
        app_row(3, "in_review", 8_000_000, None),
    ])  # fmt: skip
    rows(engine, "loans", [{
        "id": 1, "application_id": 1, "disbursement_key": "disb-key-1",
        "uscc": "91330603MA2B00000X", "principal_fen": 10_000_000, "currency": "CNY",
        "annual_rate": "0.045", "penalty_uplift": "0.5", "method": "annuity",
        "start_date": START, "status": "active", "outstanding_fen": 10_000_000 - P1,
        "rate_ppm": 45_000, "uplift_pct": 50, "accrued_penalty_e8": 0, "penalty_paid_fen": 0,
        "suspense_fen": 0, "dpd": 0, "bucket": "M0", "grade": 1, "disbursed_at": T0,
        "accrued_interest_e8": 0, "interest_recognised_fen": I1, "interest_received_fen": I1,
        "penalty_recognised_fen": 0,
    }])  # fmt: skip
    rows(engine, "installments", [
        {"loan_id": 1, "number": 1, "due_on": date(2026, 2, 5), "principal_fen": P1,
         "interest_fen": I1, "principal_paid_fen": P1, "interest_paid_fen": I1},
        {"loan_id": 1, "number": 2, "due_on": date(2026, 3, 5), "principal_fen": 3_358_389,
         "interest_fen": 24_953, "principal_paid_fen": 0, "interest_paid_fen": 0},
        {"loan_id": 1, "number": 3, "due_on": date(2026, 4, 5), "principal_fen": 3_295_769,
         "interest_fen": 12_359, "principal_paid_fen": 0, "interest_paid_fen": 0},
    ])  # fmt: skip
    for entry_id, legs in ENTRIES.items():
        booked = date(2026, 2, 4) if entry_id.startswith("acr") else START
        booked = date(2026, 2, 5) if entry_id == "rep-1" else booked
        rows(engine, "journal_entries", [
            {"id": entry_id, "loan_id": 1, "booked_on": booked, "description": entry_id}
        ])  # fmt: skip
        rows(engine, "postings", [
            {"entry_id": entry_id, "account": a, "amount_fen": f, "currency": "CNY"}
            for a, f in legs
        ])  # fmt: skip
    rows(engine, "repayments", [{
        "id": 1, "loan_id": 1, "idempotency_key": "pay-1", "amount_fen": P1 + I1,
        "received_on": date(2026, 2, 5), "early": 0, "principal_fen": P1, "interest_fen": I1,
        "penalty_fen": 0, "suspense_fen": 0,
    }])  # fmt: skip
    rows(engine, "eod_runs", [
        {"as_of": date(2026, 2, 4), "loans": 1, "finished_at": T0},
        {"as_of": date(2026, 2, 5), "loans": 1, "finished_at": T0},
    ])  # fmt: skip
    rows(engine, "loan_days", [
        {"loan_id": 1, "as_of": d, "dpd": 0, "bucket": "M0", "grade": 1,
         "overdue_principal_fen": 0, "overdue_interest_fen": 0, "penalty_accrual_e8": 0,
         "interest_accrual_e8": 125_000_000_000, "interest_fen": f, "penalty_fen": 0}
        for d, f in ((date(2026, 2, 4), 36_250), (date(2026, 2, 5), 0))
    ])  # fmt: skip
    rows(engine, "outbox", [
        {"loan_id": 1, "installment": 2, "kind": "T-7", "due_on": date(2026, 3, 5),
         "created_for": date(2026, 2, 26)}
    ])  # fmt: skip
    chain, prev = [], GENESIS
    for seq, action in enumerate(("application.created", "loan.disbursed", "eod.run"), 1):
        at = T0.replace(minute=seq, microsecond=seq * 1001)
        detail = json.dumps({"n": seq})
        digest = record_hash(seq, at, "officer", action, "loan:1", detail, prev)
        chain.append((seq, at, "officer", action, "loan:1", detail, prev, digest))
        prev = digest
    rows(engine, "audit_log", [
        dict(zip(("seq", "at", "actor", "action", "subject", "detail", "prev_hash", "hash"), r,
                 strict=True))
        for r in chain
    ])  # fmt: skip
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_head SET last_seq = 3, last_hash = :h WHERE id = 1"), {"h": prev}
        )
    return chain


def add_leg(conn: Connection, entry_id: str, fen: int) -> None:
    """A posting added to a stored entry, by plain SQL."""
    conn.execute(
        text(
            "INSERT INTO postings (entry_id, account, amount_fen, currency) "
            "VALUES (:e, 'SUSPENSE', :f, 'CNY')"
        ),
        {"e": entry_id, "f": fen},
    )


def write_unbalanced(conn: Connection) -> None:
    """An entry with one posting, by plain SQL."""
    conn.execute(
        text(
            "INSERT INTO journal_entries (id, booked_on, value_date, description) "
            "VALUES ('bad', :d, :d, 'x')"
        ),
        {"d": START},
    )
    conn.execute(
        text(
            "INSERT INTO postings (entry_id, account, amount_fen, currency) "
            "VALUES ('bad', 'SETTLEMENT', 5, 'CNY')"
        )
    )


def trial(engine: Engine) -> dict[str, int]:
    """Balance per account, by plain SQL."""
    with engine.connect() as conn:
        got = conn.execute(text("SELECT account, SUM(amount_fen) FROM postings GROUP BY account"))
        return {a: int(s) for a, s in got}


def test_upgrade_carries_a_0005_book_over(url: str) -> None:
    """Lines for the accepted applications, the loan on its line, the receipt, the journal with
    value dates and its balances, loan-days, the audit chain; and the guards are on."""
    alembic_upgrade(url, "0005")
    old = make_engine(url)
    seed_0005(old)
    before = trial(old)
    old.dispose()
    alembic_upgrade(url, "head")
    engine = make_engine(url)
    with SqlAlchemyUnitOfWork(engine, None, AUDIT_KEY) as uow:
        loan = uow.loans.get(1)
        assert loan is not None
        line = uow.lines.get(loan.ref.line_id)
        assert line is not None
        assert (line.terms.application_id, line.terms.kind) == (1, LineKind.ONE_OFF)
        assert (line.limit, line.terms.limit) == (Money(10_000_000), Money(10_000_000))
        assert (line.utilised, line.reserved) == (Money(10_000_000), Money(0))
        assert (line.status, line.terms.decision_id) == (LineStatus.ACTIVE, "D1")
        assert (line.terms.opened_on, line.terms.expires_on) == (START, date(2026, 4, 5))
        assert line.terms.settlement_account == "0000000000"
        assert (loan.status, loan.version) == (LoanStatus.ACTIVE, 0)
        assert loan.outstanding == Money(10_000_000 - P1)
        assert [i.number for i in loan.instalments] == [1, 2, 3]
        assert [i.is_settled for i in loan.instalments] == [True, False, False]
        assert uow.loans.original(1) is None  # booked before original schedules were kept
        apps = {a.app_id: a for a in uow.applications.find()}
        assert apps[1].status is ApplicationStatus.ACCEPTED
        assert apps[2].status is ApplicationStatus.ACCEPTED
        assert apps[3].status is ApplicationStatus.IN_REVIEW
        undrawn = uow.lines.for_application(2)
        assert undrawn is not None
        assert (undrawn.limit, undrawn.utilised) == (Money(5_000_000), Money(0))
        assert undrawn.terms.opened_on == date(2026, 1, 4)  # when it was accepted
        assert undrawn.terms.expires_on == date(2026, 4, 4)
        assert uow.lines.for_application(3) is None
        receipt = uow.receipts.by_bank_ref("pay-1")
        assert receipt is not None
        assert (receipt.source, receipt.entry_id) == (ReceiptSource.LEGACY, "rep-1")
        assert receipt.value_date == receipt.booked_on == date(2026, 2, 5)
        assert (receipt.principal, receipt.interest) == (Money(P1), Money(I1))
        rep = uow.ledger.entry("rep-1")
        assert rep is not None
        assert rep.value_date == rep.booked_on == date(2026, 2, 5)
        assert [p.amount.minor for p in rep.postings] == [f for _, f in ENTRIES["rep-1"]]
        balance = uow.ledger.trial_balance()
        assert sum(m.minor for m in balance.values()) == 0
        assert {a.name: m.minor for a, m in balance.items()} == before
        assert balance[Account.LOAN_PRINCIPAL] == Money(10_000_000 - P1)
        due_day = uow.book.loan_day(1, date(2026, 2, 5))
        other_day = uow.book.loan_day(1, date(2026, 2, 4))
        assert due_day is not None
        assert other_day is not None
        assert (due_day.due_today, due_day.non_accrual) == (True, False)
        assert (other_day.due_today, other_day.interest_fen) == (False, 36_250)
        assert uow.book.last_eod_date() == date(2026, 2, 5)
        assert [q.reminder.kind for q in uow.book.reminders()] == ["T-7"]
        users = uow.users.find()
        assert [(u.name, u.disabled_at, u.token_epoch) for u in users] == [
            ("firm", None, 0),
            ("officer", None, 0),
        ]
        uow.book.hold_day(exclusive=True)  # the book_day row exists (PostgreSQL locks it)
        old_records, old_head = list(uow.audit.records()), uow.audit.head()
        assert [r.keyed for r in old_records] == [False, False, False]
        assert old_head is not None
        assert (old_head.seq, old_head.mac) == (3, None)
        uow.audit.append("admin", "db.upgraded", "db:0006", {"from": "0005"}, T0)
        uow.commit()
    with SqlAlchemyUnitOfWork(engine, None, AUDIT_KEY) as uow:
        records, head = list(uow.audit.records()), uow.audit.head()
        assert [r.keyed for r in records] == [False, False, False, True]
        assert records[3].prev_hash == old_records[2].hash
        assert verify_chain(records, head, AUDIT_KEY).ok
        # A second drawdown on the same application is allowed now (lines can revolve).
        sched = build_schedule(Money(100_000), Rate("0.045"), 3, START, Method.ANNUITY)
        ref = LoanRef(0, loan.ref.line_id, 1, loan.ref.uscc, "disb-key-2")
        assert uow.loans.add(Loan.open(sched, ref, loan.terms.penalty_uplift)) == 2
        assert uow.loans.original(2) is not None
        uow.commit()
    with pytest.raises(DBAPIError), engine.begin() as conn:  # now guarded: no edits ...
        conn.execute(text("UPDATE postings SET amount_fen = 1 WHERE entry_id = 'rep-1'"))
    with pytest.raises(DBAPIError), engine.begin() as conn:  # ... and no unbalanced entry
        write_unbalanced(conn)
    with engine.connect() as conn:  # each stored entry declares the postings it has (0007)
        declared = dict(conn.execute(text("SELECT id, n_postings FROM journal_entries")).all())
        stored = conn.execute(
            text("SELECT entry_id, COUNT(*) FROM postings GROUP BY entry_id")
        ).all()
    assert declared == dict(stored)
    with pytest.raises(DBAPIError, match="complete"), engine.begin() as conn:  # ... nor a leg
        add_leg(conn, "rep-1", 1)  # added to an old entry
    assert trial(engine) == before
    engine.dispose()


def test_upgrade_refuses_a_journal_that_does_not_balance(url: str) -> None:
    """An unbalanced entry already stored stops the upgrade, naming it."""
    alembic_upgrade(url, "0005")
    old = make_engine(url)
    seed_0005(old)
    rows(old, "journal_entries", [
        {"id": "broken-1", "loan_id": 1, "booked_on": START, "description": "x"}
    ])  # fmt: skip
    rows(old, "postings", [
        {"entry_id": "broken-1", "account": "SETTLEMENT", "amount_fen": 1, "currency": "CNY"}
    ])  # fmt: skip
    old.dispose()
    with pytest.raises(RuntimeError, match="broken-1"):
        alembic_upgrade(url, "head")


def _schema(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    insp, out = inspect(engine), {}
    for t in insp.get_table_names():
        if t == "alembic_version":
            continue
        out[t] = (
            sorted((c["name"], c["nullable"]) for c in insp.get_columns(t)),
            sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(t)),
            sorted(
                (tuple(f["constrained_columns"]), f["referred_table"])
                for f in insp.get_foreign_keys(t)
            ),
            sorted((tuple(x["column_names"]), bool(x["unique"])) for x in insp.get_indexes(t)),
            insp.get_pk_constraint(t)["constrained_columns"],
        )
    engine.dispose()
    return out


def test_a_migrated_database_has_the_schema_of_the_metadata(url: str, tmp_path: Path) -> None:
    """Columns, nullability, keys, unique constraints and indexes of 0001…0006 equal
    ``orm.metadata`` (so tests that build the schema with create_all test what runs)."""
    alembic_upgrade(url, "head")
    kind = "sqlite" if url.startswith("sqlite") else "postgresql"
    (tmp_path / "meta").mkdir()
    for other in database_url(kind, tmp_path / "meta"):
        engine = create_engine(other)
        orm.metadata.create_all(engine)
        with engine.begin() as conn:
            install_ledger_guards(conn)
        engine.dispose()
        assert _schema(url) == _schema(other)
