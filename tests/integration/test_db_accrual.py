"""Accrual accounting on SQLite and PostgreSQL through the real unit of work: normal interest
accrued nightly by end of day and trued up to the instalment on its due date; an early repayment
(asked for by the borrower, paid by the bank) charges interest to date and reschedules the rest;
a payoff leaves nothing receivable; a custom plan keeps its shape when part is prepaid; write-off
takes the receivables and its reversal restores them; past 90 days income is reversed and
interest is income only when paid."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from tests.fakes import FakeDecider
from tests.integration.test_db_eod import (
    FIRST_DUE,
    PRINCIPAL_FEN,
    START,
    Books,
    balances,
    entry_ids,
    nights,
    open_loan,
    run,
)
from tests.integration.test_db_eod import books as books  # the fixture, on both databases

from loomcredit.domain.approval import ReversalOrder, WriteOffOrder
from loomcredit.domain.decision.outcome import CreditDecision, SuggestedPlan
from loomcredit.domain.decision.plan import PlanShape
from loomcredit.domain.errors import LoanStateError
from loomcredit.domain.ledger import Account
from loomcredit.domain.loan import LoanStatus
from loomcredit.domain.money import Money
from loomcredit.domain.payments import PrepaymentStatus, loan_reference
from loomcredit.domain.schedule import Method
from loomcredit.service_layer import approvals, servicing
from loomcredit.service_layer.decisioning import DecisionRequest

pytestmark = pytest.mark.integration
M = Money.parse


@dataclass
class CustomPlanDecider(FakeDecider):
    """The fake decision, with a custom principal plan (自定义本金计划) of fixed weights."""

    weights: tuple[int, ...] = (0, 0, 30, 30, 40)

    def decide(self, request: DecisionRequest, as_of: date) -> CreditDecision:
        shape = PlanShape(
            "custom", self.weights, True, "淡季只付息", "interest only through troughs"
        )
        return replace(super().decide(request, as_of), plan=SuggestedPlan(shape, as_of))


def test_normal_interest_accrues_nightly_and_is_trued_up_on_the_due_date(books: Books) -> None:
    """31 nights from disbursement to the day before the first due date accrue ¥120,000.00 ×
    4.5 % × 31/360 = ¥465.00 as receivable income; on the due date the income becomes the
    instalment's contractual interest (a full month, ¥120,000.00 × 4.5 %/12 = ¥450.00) plus that
    night on the balance left."""
    w = books()
    loan_id = open_loan(w)
    w.close_days_until(FIRST_DUE)  # end of day Jan 5 … Feb 4
    tb = balances(w)
    assert tb[Account.INTEREST_RECEIVABLE] == 46_500 == nights(PRINCIPAL_FEN, 31)
    assert tb[Account.INTEREST_INCOME] == -46_500
    exact_e8 = Decimal(PRINCIPAL_FEN) * Decimal("0.045") * 31 / 360 * 100_000_000
    assert w.loan(loan_id).accrual.interest_e8 == int(exact_e8)
    w.close_days_until(FIRST_DUE + timedelta(days=1))
    first = w.loan(loan_id).instalments[0]
    assert first.interest == M("450.00")
    after = PRINCIPAL_FEN - first.principal.minor
    tb = balances(w)
    assert tb[Account.INTEREST_RECEIVABLE] == 45_000 + nights(after, 1)
    assert tb[Account.INTEREST_INCOME] == -(45_000 + nights(after, 1))
    assert sum(tb.values()) == 0


def test_end_of_day_twice_for_a_date_posts_no_second_accrual(books: Books) -> None:
    """One accrual entry per loan and day: running a date again changes neither the ledger nor
    the number of entries."""
    w = books()
    loan_id = open_loan(w)
    w.close_days_until(START + timedelta(days=4))  # Jan 5 … Jan 8
    ids = entry_ids(w, loan_id)
    assert ids == [f"disb-{loan_id}"] + [f"acr-{loan_id}-2026-01-0{d}" for d in (5, 6, 7, 8)]
    before = balances(w)
    assert before[Account.INTEREST_RECEIVABLE] == nights(PRINCIPAL_FEN, 4)  # ¥60.00
    assert run(w, START + timedelta(days=3)).already
    assert entry_ids(w, loan_id) == ids
    assert balances(w) == before


def test_early_repayment_charges_interest_to_date_and_reschedules_the_rest(books: Books) -> None:
    """First instalment debited on time; on Feb 20 the firm asks to prepay ¥30,000.00 of principal
    and that day's auto-debit takes it with the 15 nights since Feb 5 on the balance: a settled
    line dated Feb 20 records it, and the 11 lines left owe exactly the balance left on the same
    due dates, the first charging only Feb 20 … Mar 4."""
    w = books()
    loan_id = open_loan(w)
    w.close_days_until(FIRST_DUE)
    on_time = w.auto_debit()
    first = w.loan(loan_id).instalments[0]
    assert [r.amount for r in on_time.paid] == [first.principal + first.interest]
    w.close_days_until(date(2026, 2, 20))
    before = w.loan(loan_id).instalments
    balance = PRINCIPAL_FEN - first.principal.minor
    to_date = nights(balance, 15)
    with w.uow() as uow:
        _, quote = servicing.request_prepayment(
            uow, w.firm, loan_id, now=w.now, principal=M("30000")
        )
        uow.commit()
    assert quote.interest_to_date.minor == to_date
    debit = w.auto_debit()
    (receipt,) = debit.paid
    assert receipt.early
    assert receipt.amount.minor == to_date + 3_000_000
    assert (receipt.interest.minor, receipt.principal.minor, receipt.suspense.minor) == (
        to_date,
        3_000_000,
        0,
    )
    insts = w.loan(loan_id).instalments
    settled = insts[1]
    assert (settled.number, settled.due_on, settled.interest.minor, settled.principal.minor) == (
        2,
        date(2026, 2, 20),
        to_date,
        3_000_000,
    )
    assert settled.is_settled
    rest, left = insts[2:], balance - 3_000_000
    assert [i.number for i in rest] == list(range(3, 14))
    assert [i.due_on for i in rest] == [i.due_on for i in before[1:]]
    assert rest[0].due_on == date(2026, 3, 5)
    assert rest[0].interest.minor == nights(left, 13)
    assert sum(i.principal.minor for i in rest) == left == w.loan(loan_id).outstanding.minor
    level = [i.principal.minor + i.interest.minor for i in rest[1:-1]]
    assert max(level) - min(level) <= 1  # level instalments again after the stub period
    with w.uow() as uow:
        (asked,) = uow.payments.prepayments(loan_id=loan_id, open_only=False)
    assert asked.status is PrepaymentStatus.SETTLED
    w.close_days_until(date(2026, 3, 5))  # end of day Feb 20 … Mar 4
    tb = balances(w)
    assert tb[Account.INTEREST_RECEIVABLE] == rest[0].interest.minor  # accrual meets the stub
    assert tb[Account.LOAN_PRINCIPAL] == left
    assert sum(tb.values()) == 0


def test_paying_off_early_closes_the_loan_with_nothing_receivable(books: Books) -> None:
    """A payoff asked for on Jan 25 and paid by a statement credit that day (the 20 nights since
    Jan 5 on ¥120,000.00 at 4.5 % are ¥300.00) closes the loan; nothing is receivable and the
    interest income is what was paid."""
    w = books()
    loan_id = open_loan(w)
    w.close_days_until(date(2026, 1, 25))
    to_date = nights(PRINCIPAL_FEN, 20)
    assert to_date == 30_000
    with w.uow() as uow:
        _, quote = servicing.request_prepayment(uow, w.firm, loan_id, now=w.now)
        uow.commit()
    assert quote.payoff.minor == PRINCIPAL_FEN + to_date
    w.statement(w.credit("PAYOFF", quote.payoff.amount_str(), memo=loan_reference(loan_id)))
    with w.uow() as uow:
        (receipt,) = uow.receipts.for_loan(loan_id)
    assert receipt.early
    assert (receipt.principal.minor, receipt.interest.minor, receipt.suspense.minor) == (
        PRINCIPAL_FEN,
        to_date,
        0,
    )
    loan = w.loan(loan_id)
    assert loan.status is LoanStatus.CLOSED
    assert loan.accrual.interest_recognised == loan.accrual.interest_received == Money(to_date)
    tb = balances(w)
    assert Account.INTEREST_RECEIVABLE not in tb
    assert Account.LOAN_PRINCIPAL not in tb
    assert tb[Account.INTEREST_INCOME] == -to_date
    assert sum(tb.values()) == 0
    ids = entry_ids(w, loan_id)
    w.close_days_until(date(2026, 1, 27))  # a closed loan accrues nothing
    assert entry_ids(w, loan_id) == ids


def test_a_custom_plan_keeps_its_shape_when_part_is_prepaid(books: Books) -> None:
    """A ¥100,000.00 loan on a 0/0/30/30/40 plan prepays ¥50,000.00 after 10 nights: the
    interest-only months stay interest-only, the principal left follows the old weights
    (¥15,000/¥15,000/¥20,000) on the same due dates, and the first line charges Jan 30 … Feb 19."""
    w = books(CustomPlanDecider())
    w.today = date(2026, 1, 20)
    loan_id = w.draw(w.open_line("100000", term=5), "100000")
    plan = w.loan(loan_id).instalments
    assert w.loan(loan_id).terms.method is Method.CUSTOM
    assert [i.principal for i in plan] == [M(p) for p in ("0", "0", "30000", "30000", "40000")]
    assert [i.due_on for i in plan] == [date(2026, m, 20) for m in range(2, 7)]
    w.close_days_until(date(2026, 1, 30))  # Jan 20 … Jan 29
    to_date = nights(10_000_000, 10)  # ¥125.00
    with w.uow() as uow:
        servicing.request_prepayment(uow, w.firm, loan_id, now=w.now, principal=M("50000"))
        uow.commit()
    w.statement(w.credit("PART", Money(5_000_000 + to_date).amount_str()))
    rows = w.loan(loan_id).instalments
    assert (rows[0].due_on, rows[0].principal_paid, rows[0].interest_paid.minor) == (
        date(2026, 1, 30),
        M("50000"),
        to_date,
    )
    rest = rows[1:]
    assert [r.principal for r in rest] == [M(p) for p in ("0", "0", "15000", "15000", "20000")]
    assert [r.due_on for r in rest] == [i.due_on for i in plan]
    assert rest[0].interest.minor == nights(5_000_000, 21)  # Jan 30 … Feb 19
    assert all(r.interest.is_positive() for r in rest)  # interest only, not a holiday
    assert w.loan(loan_id).outstanding == M("50000")
    assert sum(balances(w).values()) == 0


def test_write_off_takes_the_receivables_with_the_principal_and_reversal_restores_them(
    books: Books,
) -> None:
    """After 10 nights (¥50,000.00 × 4.5 % × 10/360 = ¥62.50) a write-off approved by a second
    risk manager moves principal and the interest receivable to WRITE_OFF in one entry; a
    written-off loan accrues nothing; the approved reversal puts both back (the write-off entry
    stays, a second reversal is refused) and accrual goes on from there."""
    w = books()
    loan_id = open_loan(w, "50000")
    w.close_days_until(START + timedelta(days=10))  # Jan 5 … Jan 14
    accrued = nights(5_000_000, 10)
    assert accrued == 6_250
    with w.uow() as uow:
        req = approvals.request_approval(
            uow, w.risk, WriteOffOrder(loan_id), reason="no recovery", now=w.now
        )
        entry = approvals.approve(uow, w.risk2, req.request_id, now=w.now).result
        uow.commit()
    tb = balances(w)
    assert tb[Account.WRITE_OFF] == 5_000_000 + accrued
    assert Account.LOAN_PRINCIPAL not in tb
    assert Account.INTEREST_RECEIVABLE not in tb
    assert w.loan(loan_id).status is LoanStatus.WRITTEN_OFF
    w.close_days_until(START + timedelta(days=11))  # Jan 15: nothing accrues
    assert Account.INTEREST_RECEIVABLE not in balances(w)
    with w.uow() as uow:
        rev = approvals.request_approval(
            uow, w.ops, ReversalOrder(loan_id, entry), reason="in error", now=w.now
        )
        approvals.approve(uow, w.risk, rev.request_id, now=w.now)
        uow.commit()
    tb = balances(w)
    assert Account.WRITE_OFF not in tb
    assert (tb[Account.LOAN_PRINCIPAL], tb[Account.INTEREST_RECEIVABLE]) == (5_000_000, accrued)
    loan = w.loan(loan_id)
    assert loan.status is LoanStatus.ACTIVE
    assert loan.accrual.interest_receivable == Money(accrued)
    with w.uow() as uow:
        assert uow.ledger.entry(entry) is not None  # nothing is edited
        assert uow.ledger.is_reversed(entry)
        with pytest.raises(LoanStateError):
            approvals.request_approval(
                uow, w.ops, ReversalOrder(loan_id, entry), reason="again", now=w.now
            )
    w.close_days_until(START + timedelta(days=12))  # Jan 16: the 11th night accrued
    assert balances(w)[Account.INTEREST_RECEIVABLE] == nights(5_000_000, 11)


def penalty_fen(overdue_by_night: list[int]) -> int:
    """Penalty and compound interest at 4.5 % × 1.5 on each night's overdue amount, ACT/360,
    rounded half up once (fen)."""
    exact = sum(Decimal(o) * Decimal("0.0675") / 360 for o in overdue_by_night)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_past_ninety_days_income_is_reversed_and_interest_is_income_only_when_paid(
    books: Books,
) -> None:
    """非应计: nothing is ever paid. On May 6 (90 days) the loan carries the billed interest, two
    nights since May 5 and the penalty as receivables; on May 7 (91 days) what was recognised and
    not received leaves income and the receivables; accrual goes on off the books; when the bank
    credits what is due, that interest and penalty are income at once, and the cured loan
    accrues into income again (the nights since May 5)."""
    w = books()
    loan_id = open_loan(w)
    insts = w.loan(loan_id).instalments
    due4 = insts[:4]  # Feb 5, Mar 5, Apr 5, May 5
    undue = PRINCIPAL_FEN - sum(i.principal.minor for i in due4)
    owed = [i.principal.minor + i.interest.minor for i in due4]
    overdue_by_night = (
        [owed[0]] * 28  # Feb 6 … Mar 5
        + [sum(owed[:2])] * 31  # Mar 6 … Apr 5
        + [sum(owed[:3])] * 30  # Apr 6 … May 5
        + [sum(owed)] * 1  # May 6
    )
    w.close_days_until(date(2026, 5, 7))  # end of day Jan 5 … May 6
    assert w.loan(loan_id).dpd == 90
    tb = balances(w)
    assert tb[Account.INTEREST_RECEIVABLE] == sum(i.interest.minor for i in due4) + nights(undue, 2)
    assert tb[Account.PENALTY_RECEIVABLE] == penalty_fen(overdue_by_night)
    w.close_days_until(date(2026, 5, 8))
    assert w.loan(loan_id).dpd == 91
    tb = balances(w)
    for account in (
        Account.INTEREST_RECEIVABLE,
        Account.PENALTY_RECEIVABLE,
        Account.INTEREST_INCOME,
        Account.PENALTY_INCOME,
    ):
        assert account not in tb, account
    before = w.loan(loan_id).accrual.penalty_e8
    w.close_days_until(date(2026, 5, 9))
    assert w.loan(loan_id).accrual.penalty_e8 > before  # still accrues, off the books
    assert Account.PENALTY_INCOME not in balances(w)
    due = w.loan(loan_id).amount_due(date(2026, 5, 9))
    w.statement(w.credit("CURE", due.amount_str()))
    with w.uow() as uow:
        (receipt,) = uow.receipts.for_loan(loan_id)
    assert receipt.interest.minor == sum(i.interest.minor for i in due4)
    assert receipt.principal.minor == PRINCIPAL_FEN - undue
    assert receipt.penalty.is_positive()
    tb = balances(w)
    assert tb[Account.INTEREST_INCOME] == -receipt.interest.minor
    assert tb[Account.PENALTY_INCOME] == -receipt.penalty.minor
    assert Account.INTEREST_RECEIVABLE not in tb
    assert Account.PENALTY_RECEIVABLE not in tb
    w.close_days_until(date(2026, 5, 11))  # May 9, May 10
    assert w.loan(loan_id).dpd == 0
    tb = balances(w)
    assert tb[Account.INTEREST_RECEIVABLE] == nights(undue, 6)  # May 5 … May 10, into income
    assert tb[Account.INTEREST_INCOME] == -(receipt.interest.minor + nights(undue, 6))
    assert sum(tb.values()) == 0
