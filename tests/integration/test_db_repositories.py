"""The SQLAlchemy repositories on SQLite and PostgreSQL: every aggregate goes in and comes back
equal, optimistic saves refuse stale copies, unique keys are DuplicateKey, and a loan's schedule
survives a prepayment reschedule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select, text
from tests.lending_fixtures import database_url

from loomcredit.adapters import orm
from loomcredit.adapters.ledger_guard import install_ledger_guards
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork, make_engine
from loomcredit.domain.application import Application, ApplicationStatus, Verdict
from loomcredit.domain.approval import (
    ApprovalKind,
    ApprovalRequest,
    ApprovalStatus,
    BackValuedReceiptOrder,
    DrawdownOrder,
    ReversalOrder,
    RoleGrantOrder,
    WriteOffOrder,
)
from loomcredit.domain.credit_line import CreditLine, LineKind, LineStatus, LineTerms
from loomcredit.domain.decision.bands import Band
from loomcredit.domain.decision.outcome import CreditDecision, RateBuildUp, SuggestedPlan
from loomcredit.domain.decision.plan import PlanShape
from loomcredit.domain.decision.policy import ProductKind
from loomcredit.domain.delinquency import Bucket, Grade
from loomcredit.domain.end_of_day import DayClose, Reminder
from loomcredit.domain.ledger import Account, JournalEntry, Posting, entry_of, reversal_of
from loomcredit.domain.loan import Loan, LoanRef, LoanStatus
from loomcredit.domain.money import Money, Rate
from loomcredit.domain.payments import (
    DebitInstruction,
    DebitStatus,
    MatchOutcome,
    PrepaymentRequest,
    PrepaymentStatus,
    Receipt,
    ReceiptSource,
    StatementEntry,
    StatementImport,
    StatementLine,
    StatementLineStatus,
    credit_totals,
)
from loomcredit.domain.schedule import Method, build_schedule
from loomcredit.service_layer.audit import verify_chain
from loomcredit.service_layer.unit_of_work import (
    DuplicateKey,
    EodCounts,
    QueuedReminder,
    StaleAggregate,
)
from loomcredit.service_layer.users import Role, UserAccount

pytestmark = pytest.mark.integration

PII_KEY = bytes(range(32))
AUDIT_KEY = b"audit-key-for-tests"
USCC = "91330603MA2B00000X"
REP_ID = "360426199101010071"
NOW = datetime(2026, 1, 5, 9, 30, 15, 123456, tzinfo=UTC)
START = date(2026, 1, 5)
CNY = "CNY"


def fen(yuan: str) -> Money:
    """Money from yuan text."""
    return Money.parse(yuan)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh database with the head schema and the ledger guards."""
    for url in database_url(request.param, tmp_path):
        eng = make_engine(url)
        orm.metadata.create_all(eng)
        with eng.begin() as conn:
            install_ledger_guards(conn)
        yield eng
        eng.dispose()


def uow(engine: Engine) -> SqlAlchemyUnitOfWork:
    """A unit of work with the test keys."""
    return SqlAlchemyUnitOfWork(engine, PII_KEY, AUDIT_KEY)


def decision(limit: str = "500000") -> CreditDecision:
    """A decision with every part set: build-up, suggested plan and record."""
    shape = PlanShape("custom", (0, 0, 120, 100), True, "季节性", "seasonal")
    record = {"as_of": "2026-01-04", "plan": {"method": "custom", "weights": [0, 0, 120, 100]}}
    return CreditDecision(
        band=Band.REVIEW,
        annual_rate=Decimal("0.0435"),
        limit=fen(limit),
        pd=Decimal("0.0123"),
        engine="loom-decision p1 / m2",
        decision_id="D0123456789abcdef0123",
        reasons=("R1: 收入 / income",),
        band_reasons=("人工 / review",),
        rate_build_up=RateBuildUp(Decimal("0.0300"), Decimal("0.0135"), Decimal("0.0440"), "floor"),
        plan=SuggestedPlan(shape, date(2026, 1, 4)),
        product_kind=ProductKind.REVOLVING,
        record_json=json.dumps(record, ensure_ascii=False, sort_keys=True),
    )


def application(**changes: object) -> Application:
    """A submitted application (in review)."""
    app = Application.submit(
        uscc=USCC,
        amount=fen("300000"),
        term_months=4,
        method="custom",
        decision=decision(),
        as_of=date(2026, 1, 4),
        penalty_uplift=Decimal("0.5"),
        by="officer",
        at=NOW,
        legal_rep_id=REP_ID,
    )
    return replace(app, **changes)  # type: ignore[arg-type]


def open_line(u: SqlAlchemyUnitOfWork, app_id: int, account: str = "6222000011112222") -> int:
    """An active revolving line on an application."""
    line = CreditLine.open(
        LineTerms(
            app_id, USCC, LineKind.REVOLVING, fen("500000"), START, date(2027, 1, 5), "D1", account
        )
    )
    return u.lines.add(line)


def new_loan(line_id: int, app_id: int, key: str, principal: str = "120000") -> Loan:
    """A 12-month annuity at 6 % starting on START."""
    sched = build_schedule(fen(principal), Rate("0.06"), 12, START, Method.ANNUITY)
    return Loan.open(sched, LoanRef(0, line_id, app_id, USCC, key), Decimal("0.5"))


def stored(loan: Loan) -> Loan:
    """What a read gives back: the same loan without its unsaved events."""
    return replace(loan, events=[], instalments=[replace(i) for i in loan.instalments])


def book_loan(engine: Engine, key: str = "k1") -> tuple[int, int, int]:
    """Application, line and loan committed; their ids."""
    with uow(engine) as u:
        app_id = u.applications.add(application())
        line_id = open_line(u, app_id)
        loan_id = u.loans.add(new_loan(line_id, app_id, key))
        u.commit()
    return app_id, line_id, loan_id


# -- users -----------------------------------------------------------------------------------------
def test_user_round_trip_and_duplicate_name(engine: Engine) -> None:
    """A user comes back as stored; a changed one as changed; a second of the name is refused."""
    bob = UserAccount("bob", Role.OFFICER, None, "argon2$x", NOW)
    firm = UserAccount("firm", Role.APPLICANT, USCC, "argon2$y", NOW)
    with uow(engine) as u:
        u.users.add(bob)
        u.users.add(firm)
        with pytest.raises(DuplicateKey):
            u.users.add(UserAccount("bob", Role.ADMIN, None, "h", NOW))
        u.commit()
    disabled = replace(bob, role=Role.REVIEWER, disabled_at=NOW + timedelta(days=1), token_epoch=3)
    with uow(engine) as u:
        assert u.users.get("bob") == bob
        u.users.save(disabled)
        u.commit()
    with uow(engine) as u:
        assert u.users.get("bob") == disabled
        assert [a.name for a in u.users.find()] == ["bob", "firm"]
        assert u.users.get("nobody") is None


# -- applications ----------------------------------------------------------------------------------
def test_application_round_trip_keeps_decision_and_encrypts_the_resident_id(
    engine: Engine,
) -> None:
    """Every field of the application and its decision comes back; the ID is never in clear."""
    app = application()
    with uow(engine) as u:
        app_id = u.applications.add(app)
        u.commit()
    assert app_id == app.app_id > 0
    with uow(engine) as u:
        assert u.applications.get(app_id) == app
        raw = u.conn.execute(select(orm.applications)).one()
    assert REP_ID not in " ".join(str(v) for v in raw)
    assert raw.legal_rep_id is None
    assert raw.legal_rep_hash
    later = NOW + timedelta(hours=2)
    with uow(engine) as u:
        loaded = u.applications.get(app_id, lock=True)
        assert loaded is not None
        loaded.review(Verdict.APPROVE, by="reviewer", at=later, comment="ok", approved=None)
        loaded.accept(settlement_account="6222000011112222", by="firm", at=later)
        u.applications.save(loaded)
        u.commit()
    with uow(engine) as u:
        again = u.applications.get(app_id)
        assert again is not None
        assert again.status is ApplicationStatus.ACCEPTED
        assert again.approved == fen("300000")
        assert again.settlement_account == "6222000011112222"
        assert again.legal_rep_id == REP_ID
        assert again == loaded
        assert [a.app_id for a in u.applications.find(status=ApplicationStatus.ACCEPTED)] == [
            app_id
        ]
        assert u.applications.find(status=ApplicationStatus.IN_REVIEW) == []


def test_referral_without_plan_or_record_round_trips(engine: Engine) -> None:
    """A referral: no PD, no limit, no plan, no record."""
    referral = CreditDecision.referral(
        code="NO_MODEL",
        text_zh="无模型",
        text_en="no model",
        annual_rate=Decimal("0.05"),
        rate_build_up=None,
        engine="loom-decision p1 / -",
        currency=CNY,
    )
    app = application(decision=referral, legal_rep_id=None)
    with uow(engine) as u:
        u.applications.add(app)
        u.commit()
    with uow(engine) as u:
        back = u.applications.get(app.app_id)
    assert back == app
    assert back is not None
    assert back.decision.is_referral
    assert back.decision.plan is None


def test_an_old_row_reads_with_its_plan_from_the_record_and_disbursed_as_accepted(
    engine: Engine,
) -> None:
    """A row in the layout before 0006 (no product kind, plan only inside the record)."""
    record = {
        "as_of": "2025-12-31",
        "plan": {
            "method": "custom",
            "weights": [0, 90, 110],
            "seasonal": True,
            "reason_zh": "淡季",
            "reason_en": "trough",
        },
        "band": "auto_approve",
    }
    doc = {
        "band": "auto_approve",
        "annual_rate": "0.045",
        "limit": 20_000_000,
        "pd": "0.02",
        "reasons": ["r"],
        "rate_build_up": {"lpr_1y": "0.03", "spread": "0.015"},
        "engine": "fallback-rules-v1",
        "record": record,
    }
    with uow(engine) as u:
        u.conn.execute(
            insert(orm.applications).values(
                id=7,
                uscc=USCC,
                amount_fen=15_000_000,
                currency=CNY,
                term_months=3,
                method="annuity",
                status="disbursed",
                band="auto_approve",
                annual_rate="0.045",
                penalty_uplift="0.5",
                decision_json=json.dumps(doc),
                created_by="o",
                updated_by="o",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        u.commit()
    with uow(engine) as u:
        app = u.applications.get(7)
    assert app is not None
    assert app.status is ApplicationStatus.ACCEPTED
    assert app.as_of == date(2025, 12, 31)  # no as_of column: the record's date
    assert app.approved is None
    assert app.approved_amount == Money(15_000_000)
    d = app.decision
    assert d.plan == SuggestedPlan(
        PlanShape("custom", (0, 90, 110), True, "淡季", "trough"), date(2025, 12, 31)
    )
    assert d.product_kind is ProductKind.TERM
    assert d.limit == Money(20_000_000)
    assert d.rate_build_up == RateBuildUp(Decimal("0.03"), Decimal("0.015"), None, "")
    assert json.loads(d.record_json) == record
    assert d.record_json == json.dumps(record, ensure_ascii=False, sort_keys=True)


# -- credit lines ----------------------------------------------------------------------------------
def test_line_round_trip_and_optimistic_save(engine: Engine) -> None:
    """A saved line's version goes up by one; a copy read before that save is stale."""
    with uow(engine) as u:
        app_id = u.applications.add(application())
        line_id = open_line(u, app_id)
        with pytest.raises(DuplicateKey):
            open_line(u, app_id)  # one line per application
        u.commit()
    with uow(engine) as u:
        first, second = u.lines.get(line_id, lock=True), u.lines.get(line_id)
        assert first is not None
        assert second is not None
        assert first.version == 0
        assert first.limit == fen("500000")
        first.reserve(fen("200000"), START)
        u.lines.save(first)
        assert first.version == 1
        second.freeze("late filings", START)
        with pytest.raises(StaleAggregate):
            u.lines.save(second)
        with pytest.raises(StaleAggregate):
            u.lines.save_many([second])
        u.commit()
    with uow(engine) as u:
        line = u.lines.get(line_id)
        assert line is not None
        assert (line.version, line.reserved, line.status) == (1, fen("200000"), LineStatus.ACTIVE)
        assert line.available(START) == fen("300000")
        assert line.terms.settlement_account == "6222000011112222"
        line.draw(fen("200000"), START)
        line.reduce(fen("400000"), "cluster slowdown", START)
        u.lines.save_many([line])
        u.commit()
    with uow(engine) as u:
        back = u.lines.for_application(app_id)
        assert back is not None
        assert back == replace(line, events=[])
        assert back.terms.limit == fen("500000")
        assert back.limit == fen("400000")
        assert back.version == 2
        assert u.lines.get_many([line_id, 999], lock=True) == {line_id: back}
        assert u.lines.find(uscc=USCC) == [back]
        assert u.lines.find(uscc="other") == []


# -- loans -----------------------------------------------------------------------------------------
def test_loan_round_trip_duplicate_key_and_original(engine: Engine) -> None:
    """A new loan comes back equal, its key cannot book a second loan, and original() is the loan
    as disbursed even after it has been repaid."""
    with uow(engine) as u:
        app_id = u.applications.add(application())
        line_id = open_line(u, app_id)
        loan = new_loan(line_id, app_id, "key-1")
        loan_id = u.loans.add(loan)
        assert loan.loan_id == loan_id > 0
        with pytest.raises(DuplicateKey):
            u.loans.add(new_loan(line_id, app_id, "key-1"))
        u.commit()
    as_disbursed = stored(loan)
    with uow(engine) as u:
        assert u.loans.get(loan_id) == as_disbursed
        assert u.loans.by_key("key-1") == as_disbursed
        first_due = loan.instalments[0].due_on
        loaded = u.loans.get(loan_id, lock=True)
        assert loaded is not None
        loaded.repay(loaded.amount_due(first_due), first_due)
        u.loans.save(loaded)
        u.commit()
    with uow(engine) as u:
        repaid = u.loans.get(loan_id)
        original = u.loans.original(loan_id)
    assert repaid is not None
    assert repaid.instalments[0].is_settled
    assert repaid.version == 1
    assert original == as_disbursed
    assert original is not None
    assert original.outstanding == fen("120000")


def test_loan_save_after_a_prepayment_renumbers_the_schedule(engine: Engine) -> None:
    """Prepaying on 2026-04-15 keeps instalments 1-3, adds a settled line 4 dated that day and
    renumbers the nine undue due dates 5-13; the store holds exactly that schedule."""
    _, _, loan_id = book_loan(engine)
    with uow(engine) as u:
        loan = u.loans.get(loan_id, lock=True)
        assert loan is not None
        due = [i.due_on for i in loan.instalments]
        for on in due[:3]:
            loan.repay(loan.amount_due(on), on)
        on = date(2026, 4, 15)
        loan.repay(fen("50000"), on, early=True)
        u.loans.save(loan)
        u.commit()
    numbers = [i.number for i in loan.instalments]
    assert numbers == list(range(1, 14))
    assert [i.due_on for i in loan.instalments] == [*due[:3], on, *due[3:]]
    assert sum(i.principal.minor for i in loan.instalments) == 12_000_000
    with uow(engine) as u:
        back = u.loans.get(loan_id)
        rows = u.conn.execute(
            select(orm.installments.c.number)
            .where(orm.installments.c.loan_id == loan_id)
            .order_by(orm.installments.c.number)
        ).scalars()
        assert list(rows) == numbers
    assert back == stored(loan)
    assert back is not None
    assert back.version == 1


def test_a_stale_loan_is_refused_and_nothing_of_it_is_written(engine: Engine) -> None:
    """Two copies read at the same version: the second save raises and writes nothing."""
    _, _, loan_id = book_loan(engine)
    with uow(engine) as u:
        a, b = u.loans.get(loan_id), u.loans.get(loan_id)
        assert a is not None
        assert b is not None
        on = a.instalments[0].due_on
        a.repay(fen("1000"), on)
        u.loans.save(a)
        b.repay(fen("2000"), on)
        with pytest.raises(StaleAggregate):
            u.loans.save_many([b])
        u.commit()
    with uow(engine) as u:
        back = u.loans.get(loan_id)
    assert back == stored(a)


def test_get_many_save_many_find_and_accounts(engine: Engine) -> None:
    """Several loans read and written at once; the lookups by status, line and account."""
    with uow(engine) as u:
        app_a = u.applications.add(application())
        app_b = u.applications.add(application())
        line_a = open_line(u, app_a, "6222000011110001")
        line_b = open_line(u, app_b, "6222000011110002")
        ids = [
            u.loans.add(new_loan(line_a, app_a, "a1", "10000")),
            u.loans.add(new_loan(line_a, app_a, "a2", "20000")),
            u.loans.add(new_loan(line_b, app_b, "b1", "30000")),
        ]
        u.commit()
    with uow(engine) as u:
        loans = u.loans.get_many([*ids, 4242], lock=True)
        assert sorted(loans) == ids
        assert [ln.terms.principal for ln in loans.values()] == [
            fen("10000"),
            fen("20000"),
            fen("30000"),
        ]
        closing = loans[ids[1]]
        closing.repay(closing.payoff_quote(START + timedelta(days=3)).payoff, START, early=True)
        loans[ids[2]].dpd, loans[ids[2]].bucket = 5, Bucket.M1
        u.loans.save_many(loans.values())
        u.commit()
    with uow(engine) as u:
        again = u.loans.get_many(ids)
        assert again == {k: stored(v) for k, v in loans.items()}
        assert [ln.version for ln in again.values()] == [0, 1, 1]
        assert again[ids[1]].status is LoanStatus.CLOSED
        assert u.loans.active_ids() == [ids[0], ids[2]]
        assert [ln.loan_id for ln in u.loans.find(line_id=line_a)] == ids[:2]
        assert [ln.loan_id for ln in u.loans.find(status=LoanStatus.CLOSED)] == [ids[1]]
        accounts = u.loans.accounts()
    assert {k: [(a.loan_id, a.active) for a in v] for k, v in accounts.items()} == {
        "6222000011110001": [(ids[0], True), (ids[1], False)],
        "6222000011110002": [(ids[2], True)],
    }


def test_loans_with_suspense_due(engine: Engine) -> None:
    """Only an active loan with suspense and something unpaid due by the day is listed."""
    _, _, loan_id = book_loan(engine)
    with uow(engine) as u:
        loan = u.loans.get(loan_id)
        assert loan is not None
        loan.repay(fen("100"), START + timedelta(days=1))  # nothing due yet: all suspense
        u.loans.save(loan)
        first_due = loan.instalments[0].due_on
        assert loan.suspense == fen("100")
        assert u.loans.with_suspense_due(first_due - timedelta(days=1)) == []
        assert u.loans.with_suspense_due(first_due) == [loan_id]


# -- receipts --------------------------------------------------------------------------------------
def receipt(loan_id: int, ref: str, yuan: str, **changes: object) -> Receipt:
    """A receipt of ``yuan`` split as principal only."""
    r = Receipt(
        0,
        loan_id,
        ref,
        fen(yuan),
        START,
        START,
        False,
        fen(yuan),
        Money(0),
        Money(0),
        Money(0),
        ReceiptSource.STATEMENT,
        "",
    )
    return replace(r, **changes)  # type: ignore[arg-type]


def test_receipts_round_trip_bank_ref_once_and_entry_found(engine: Engine) -> None:
    """Receipts come back in booking order; a bank reference is booked once; the entry named
    after the receipt is its entry."""
    _, _, loan_id = book_loan(engine)
    with uow(engine) as u:
        first = u.receipts.add(receipt(loan_id, "B1", "100"))
        ids = u.receipts.add_many(
            [
                receipt(loan_id, "B2", "200", early=True),
                receipt(
                    loan_id,
                    "B3",
                    "300",
                    source=ReceiptSource.BACK_VALUED,
                    value_date=START - timedelta(days=1),
                    entry_id="bv-x",
                ),
            ]
        )
        assert ids == [first + 1, first + 2]
        with pytest.raises(DuplicateKey):
            u.receipts.add(receipt(loan_id, "B1", "1"))
        with pytest.raises(DuplicateKey):
            u.receipts.add_many([receipt(loan_id, "B9", "1"), receipt(loan_id, "B2", "1")])
        u.ledger.post(
            entry_of(
                f"rep-{first}",
                START,
                "repayment",
                ((Account.SETTLEMENT, fen("100")), (Account.LOAN_PRINCIPAL, fen("-100"))),
            ),
            loan_id,
        )
        u.commit()
    with uow(engine) as u:
        got = u.receipts.for_loan(loan_id)
        assert [r.bank_ref for r in got] == ["B1", "B2", "B3"]
        assert got[0] == receipt(loan_id, "B1", "100", receipt_id=first, entry_id=f"rep-{first}")
        assert got[1] == receipt(loan_id, "B2", "200", receipt_id=ids[0], early=True)
        assert got[2].entry_id == "bv-x"
        assert got[2].value_date == START - timedelta(days=1)
        assert u.receipts.by_bank_ref("B3") == got[2]
        assert u.receipts.by_bank_ref("B9") is None  # the refused batch left nothing
        assert u.receipts.known_refs(["B1", "B3", "B7"]) == {"B1", "B3"}
        assert u.receipts.known_refs([]) == set()


# -- approvals -------------------------------------------------------------------------------------
def test_approvals_round_trip_every_order_and_pending_oldest_first(engine: Engine) -> None:
    """Each kind of order comes back typed; pending filters by kind and subject."""
    orders = [
        DrawdownOrder(3, fen("1234.56"), "dd-1"),
        WriteOffOrder(7),
        ReversalOrder(7, "wo-7-2026-03-01"),
        BackValuedReceiptOrder(7, fen("99.01"), date(2026, 2, 27), "BANK-1", 12),
        RoleGrantOrder("carol", "applicant", USCC, "argon2$z"),
        RoleGrantOrder("dave", "reviewer"),
    ]
    made = []
    with uow(engine) as u:
        for k, order in enumerate(orders):
            req = ApprovalRequest.make(
                order,
                requested_by="rm1",
                reason=f"reason {k}",
                at=NOW + timedelta(minutes=k),
                excluded=frozenset({"officer", "reviewer"}),
                key=f"key-{k}" if k % 2 == 0 else None,
            )
            u.approvals.add(req)
            made.append(req)
        with pytest.raises(DuplicateKey):
            u.approvals.add(ApprovalRequest.make(WriteOffOrder(1), requested_by="x", reason="r",
                                                 at=NOW, key="key-0"))  # fmt: skip
        u.commit()
    with uow(engine) as u:
        assert [u.approvals.get(r.request_id) for r in made] == made
        assert u.approvals.by_key("key-2") == made[2]
        assert u.approvals.pending() == made
        assert u.approvals.pending(kinds=[ApprovalKind.ROLE_GRANT]) == made[4:]
        assert u.approvals.pending(subject="loan:7") == made[1:4]
        decided = made[1]
        decided.approve(by="rm2", at=NOW + timedelta(hours=1), comment="fine")
        u.approvals.save(decided)
        u.commit()
    with uow(engine) as u:
        back = u.approvals.get(decided.request_id, lock=True)
        assert back == decided
        assert back.status is ApprovalStatus.APPROVED
        assert [r.request_id for r in u.approvals.pending(subject="loan:7")] == [
            made[2].request_id,
            made[3].request_id,
        ]


# -- payments --------------------------------------------------------------------------------------
def test_statement_lines_instructions_and_prepayments_round_trip(engine: Engine) -> None:
    """Imports, lines (import 0 is none), auto-debit instructions and prepayment requests."""
    _, _, loan_id = book_loan(engine)
    line = StatementLine("S1", START, "6222000011112222", "某纺织", fen("500"), "LN00000001")
    other = StatementLine("S2", START, "999999999", "?", fen("70"), "")
    with uow(engine) as u:
        import_id = u.payments.add_import(
            StatementImport(0, "stmt.csv", "ab" * 32, "ops", START, 2, 1, 1, 0, 0)
        )
        queued = StatementEntry(
            0, 0, other, StatementLineStatus.UNMATCHED, MatchOutcome.UNMATCHED, "no account"
        )
        booked = StatementEntry(
            0, import_id, line, StatementLineStatus.BOOKED, MatchOutcome.MATCHED, "ok", loan_id
        )
        ids = u.payments.add_lines([queued, booked])
        with pytest.raises(DuplicateKey):
            u.payments.add_lines([replace(queued, line=replace(other, amount=fen("1")))])
        instruction = DebitInstruction("ad-1-2026-01-05", loan_id, "6222", fen("10"), START)
        u.payments.add_instruction(instruction, "AD20260105")
        with pytest.raises(DuplicateKey):
            u.payments.add_instruction(instruction, "AD20260105")
        whole = PrepaymentRequest(0, loan_id, START, None, "firm")
        part = PrepaymentRequest(0, loan_id, START + timedelta(days=1), fen("5000"), "firm")
        u.payments.add_prepayment(whole)
        u.payments.add_prepayment(part)
        u.commit()
    queued.line_id, booked.line_id = ids
    with uow(engine) as u:
        assert u.payments.line(ids[0]) == queued
        assert u.payments.lines() == [queued, booked]
        assert u.payments.lines(unmatched_only=True) == [queued]
        assert u.payments.lines(value_date=START + timedelta(days=1)) == []
        assert u.payments.known_lines(["S1", "S3"]) == {"S1"}
        resolved = u.payments.line(ids[0], lock=True)
        assert resolved is not None
        resolved.status, resolved.resolved_by, resolved.resolution = (
            StatementLineStatus.RETURNED,
            "ops2",
            "not ours",
        )
        u.payments.save_line(resolved)
        assert u.payments.instruction(instruction.instruction_id) == (
            instruction,
            DebitStatus.SENT,
        )
        u.payments.set_instruction(
            instruction.instruction_id, DebitStatus.FAILED, reason="余额不足", bank_ref="C1"
        )
        assert u.payments.prepayments(loan_id=loan_id) == [whole, part]
        whole.status = PrepaymentStatus.SETTLED
        u.payments.save_prepayment(whole)
        u.commit()
    with uow(engine) as u:
        assert u.payments.line(ids[0]) == resolved
        assert u.payments.instructions(on=START) == [(instruction, DebitStatus.FAILED)]
        assert u.payments.prepayments(loan_id=loan_id) == [part]
        assert u.payments.prepayments(on=START, open_only=False) == [whole]


def test_bulk_written_text_comes_back_as_written(engine: Engine) -> None:
    """Lines written in bulk (COPY on PostgreSQL) keep tabs, newlines, backslashes, quotes,
    Chinese and empty strings, and None stays NULL, whatever the row before held."""
    _, _, loan_id = book_loan(engine)
    odd = ["a\tb", "line1\nline2\r\n", "back\\slash \\N", "引号'\"", "", "\\.", "  "]
    entries = [
        StatementEntry(
            0,
            0,
            StatementLine(f"T{k}", START, f"62{k:04d}", text_, fen("1"), text_[::-1]),
            StatementLineStatus.UNMATCHED if k % 2 else StatementLineStatus.BOOKED,
            MatchOutcome.UNMATCHED if k % 2 else MatchOutcome.MATCHED,
            text_ + "原因",
            None if k % 2 else loan_id,
        )
        for k, text_ in enumerate(odd)
    ]
    with uow(engine) as u:
        ids = u.payments.add_lines(entries)
        u.commit()
    for entry, line_id in zip(entries, ids, strict=True):
        entry.line_id = line_id
    with uow(engine) as u:
        assert u.payments.lines() == entries


def test_credit_totals_in_sql_equal_the_domain_rule(engine: Engine) -> None:
    """The store's GROUP BY gives what :func:`credit_totals` gives over the same lines: credits
    of the value date only (debits and other days left out), by status."""
    _, _, loan_id = book_loan(engine)
    other_day = START + timedelta(days=1)
    statuses = [StatementLineStatus.BOOKED, StatementLineStatus.UNMATCHED,
                StatementLineStatus.RETURNED, StatementLineStatus.IGNORED]  # fmt: skip
    entries = [
        StatementEntry(
            0,
            0,
            StatementLine(
                f"C{k}",
                other_day if k % 7 == 3 else START,
                "6222",
                "某纺织",
                Money(-(k * 100) if k % 5 == 4 else 1_000 + k * 37),
                "",
            ),
            statuses[k % 4],
            MatchOutcome.MATCHED,
            "",
            loan_id if k % 4 == 0 else None,
        )
        for k in range(40)
    ]
    with uow(engine) as u:
        u.payments.add_lines(entries)
        u.commit()
    with uow(engine) as u:
        for day in (START, other_day, START + timedelta(days=9)):
            assert u.payments.credit_totals(day) == credit_totals(u.payments.lines(value_date=day))
        totals = u.payments.credit_totals(START)
    assert len(totals) == 4  # every status has credits that day
    assert sum(t.lines for t in totals) == sum(
        1 for e in entries if e.line.value_date == START and e.line.amount.is_positive()
    )


# -- ledger ----------------------------------------------------------------------------------------
def test_journal_entries_round_trip_and_balances(engine: Engine) -> None:
    """Entries come back with their postings and value date; balances sum what was posted."""
    _, _, loan_id = book_loan(engine)
    disb = entry_of(
        "disb-1",
        START,
        "disbursement",
        ((Account.LOAN_PRINCIPAL, fen("1000")), (Account.SETTLEMENT, fen("-1000"))),
    )
    back_valued = JournalEntry(
        "bv-1",
        START + timedelta(days=2),
        "back-valued",
        (Posting(Account.SETTLEMENT, fen("300")), Posting(Account.LOAN_PRINCIPAL, fen("-300"))),
        value_date=START,
    )
    usd = JournalEntry(
        "fx-1",
        START,
        "usd",
        (
            Posting(Account.SETTLEMENT, Money(500, "USD")),
            Posting(Account.SUSPENSE, Money(-500, "USD")),
        ),
    )
    with uow(engine) as u:
        u.ledger.post(back_valued, loan_id)
        u.ledger.post_many([(disb, loan_id), (usd, None)])
        with pytest.raises(DuplicateKey):
            u.ledger.post(disb, loan_id)
        u.commit()
    with uow(engine) as u:
        assert u.ledger.entry("disb-1") == disb
        assert u.ledger.entry("bv-1") == back_valued
        assert u.ledger.entry("nope") is None
        assert u.ledger.entries_for(loan_id) == [disb, back_valued]
        assert u.ledger.trial_balance() == {
            Account.LOAN_PRINCIPAL: fen("700"),
            Account.SETTLEMENT: fen("-700"),
        }
        assert u.ledger.loan_balances(loan_id) == u.ledger.trial_balance()
        assert not u.ledger.is_reversed("disb-1")
        u.ledger.post(reversal_of(disb, "rev-disb-1", START + timedelta(days=3)), loan_id)
        with pytest.raises(DuplicateKey):  # an entry is reversed once
            u.ledger.post(reversal_of(disb, "rev2-disb-1", START + timedelta(days=3)), loan_id)
        u.commit()
    with uow(engine) as u:
        assert u.ledger.is_reversed("disb-1")
        assert u.ledger.trial_balance() == {
            Account.LOAN_PRINCIPAL: fen("-300"),
            Account.SETTLEMENT: fen("300"),
        }
        raw = u.conn.execute(text("SELECT DISTINCT account FROM postings ORDER BY 1")).scalars()
        assert list(raw) == ["LOAN_PRINCIPAL", "SETTLEMENT", "SUSPENSE"]


# -- book ------------------------------------------------------------------------------------------
def test_book_days_loan_days_and_reminders(engine: Engine) -> None:
    """A date is claimed once; a recorded loan-day comes back with the reminders of the day;
    a reminder is queued once."""
    _, _, loan_id = book_loan(engine)
    d1, d2 = date(2026, 1, 29), date(2026, 1, 30)
    r7 = Reminder(loan_id, 1, "T-7", date(2026, 2, 5))
    r3 = Reminder(loan_id, 1, "T-3", date(2026, 2, 2))
    day = DayClose(
        d1, 3, Bucket.M1, Grade.SPECIAL_MENTION, fen("10.01"), fen("0.50"), 123, 456, 7, -2,
        True, False, 90, (r7,), CNY,
    )  # fmt: skip
    with uow(engine) as u:
        u.book.hold_day(exclusive=True)
        assert u.book.last_eod_date() is None
        assert u.book.start_day(d1, NOW)
        assert not u.book.start_day(d1, NOW)
        u.book.record_day(loan_id, day)
        assert u.book.queue_reminders([r7], d1) == 1
        u.book.finish_day(EodCounts(d1, 1, 1, 1))
        u.commit()
    with uow(engine) as u:
        u.book.hold_day(exclusive=False)
        assert u.book.start_day(d2, NOW)
        assert u.book.queue_reminders([r7, r3], d2) == 1
        u.commit()
    with uow(engine) as u:
        assert (u.book.first_eod_date(), u.book.last_eod_date()) == (d1, d2)
        assert u.book.loan_day(loan_id, d1) == day
        assert u.book.loan_day(loan_id, d2) is None
        assert u.book.reminders() == [QueuedReminder(r7, d1), QueuedReminder(r3, d2)]
        assert u.book.reminders(created_for=d2) == [QueuedReminder(r3, d2)]
        run = u.conn.execute(select(orm.eod_runs).where(orm.eod_runs.c.as_of == d1)).one()
        assert (run.loans, run.accrual_entries, run.reminders) == (1, 1, 1)


# -- audit -----------------------------------------------------------------------------------------
def test_audit_chain_appends_keyed_and_verifies(engine: Engine) -> None:
    """Records chain under the key and the sealed head; another key does not verify."""
    with uow(engine) as u:
        assert u.audit.head() is None
        u.audit.append("alice", "login", "user:alice", {"ok": True}, NOW)
        u.audit.append("bob", "review", "application:1", {"amount_fen": 5, "note": None}, NOW)
        u.commit()
    with uow(engine) as u:
        records = list(u.audit.records())
        head = u.audit.head()
    assert [(r.seq, r.actor, r.keyed) for r in records] == [(1, "alice", True), (2, "bob", True)]
    assert records[0].at == NOW
    assert records[1].prev_hash == records[0].hash
    assert head is not None
    assert (head.seq, head.hash) == (2, records[1].hash)
    assert verify_chain(records, head, AUDIT_KEY).ok
    assert not verify_chain(records, head, b"another key").ok
