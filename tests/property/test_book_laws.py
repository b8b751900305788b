"""Book laws under random sequences of drawdowns, statement receipts, auto-debits (some failing),
prepayment requests and end-of-day runs on SQLite through the real unit of work. After every step
the ledger balances; every fen received is principal, interest, penalty or suspense; stored
schedules owe the outstanding; receivables = recognised − received per loan; 待查款项 = the
unmatched lines; no line's use exceeds its limit."""

from __future__ import annotations

import contextlib
import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st
from tests.world import ACCOUNT, World

from loomcredit.adapters.migrations import upgrade_database
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork, make_engine
from loomcredit.domain.errors import CreditLineError
from loomcredit.domain.ledger import Account
from loomcredit.domain.loan import LoanStatus
from loomcredit.domain.money import Money
from loomcredit.service_layer import servicing

step = st.one_of(
    st.tuples(st.just("draw"), st.integers(1_000_00, 200_000_00)),
    st.tuples(st.just("pay"), st.integers(1, 60_000_00)),
    st.tuples(st.just("stranger"), st.integers(1, 10_000_00)),
    st.tuples(st.just("debit"), st.integers(0, 1)),
    st.tuples(st.just("prepay"), st.integers(1_000_00, 50_000_00)),
    st.tuples(st.just("eod"), st.integers(1, 40)),
)


def check(w: World) -> None:
    """The laws."""
    zero = Money.zero()
    with w.uow() as uow:
        tb = uow.ledger.trial_balance()
        loans = uow.loans.find()
        lines = uow.lines.find()
        receipts = [r for x in loans for r in uow.receipts.for_loan(x.loan_id)]
        waiting = uow.payments.lines(unmatched_only=True)
        books = {x.loan_id: uow.ledger.loan_balances(x.loan_id) for x in loans}
        # principal repaid: what receipts paid, and what end of day applied from suspense
        applied = {
            x.loan_id: -sum(
                (
                    e.amount_on(Account.LOAN_PRINCIPAL, x.currency)
                    for e in uow.ledger.entries_for(x.loan_id)
                    if e.entry_id.startswith("sus-")
                ),
                zero,
            )
            for x in loans
        }
    assert sum(m.minor for m in tb.values()) == 0
    drawn = sum((x.terms.principal for x in loans), zero)
    received = sum((r.amount for r in receipts), zero)
    outstanding = sum((x.outstanding for x in loans), zero)
    # every fen received went to principal, interest, penalty or is held in suspense
    kept = sum(
        (x.accrual.interest_received + x.accrual.penalty_paid + x.suspense for x in loans), zero
    )
    assert received == (drawn - outstanding) + kept
    assert tb.get(Account.LOAN_PRINCIPAL, zero) == outstanding
    for x in loans:
        repaid = sum((r.principal for r in receipts if r.loan_id == x.loan_id), applied[x.loan_id])
        assert x.outstanding == x.terms.principal - repaid, x.loan_id
        owed = sum((i.principal_unpaid for i in x.instalments), zero)
        assert owed == x.outstanding, x.loan_id
        # per loan, the ledger holds what the loan says: receivable = recognised - received
        b = books[x.loan_id]
        assert b.get(Account.LOAN_PRINCIPAL, zero) == x.outstanding, x.loan_id
        assert b.get(Account.INTEREST_RECEIVABLE, zero) == x.accrual.interest_receivable
        assert b.get(Account.PENALTY_RECEIVABLE, zero) == x.accrual.penalty_receivable
        assert b.get(Account.INTEREST_INCOME, zero) == -x.accrual.interest_recognised
        assert b.get(Account.PENALTY_INCOME, zero) == -x.accrual.penalty_recognised
        assert b.get(Account.SUSPENSE, zero) == -x.suspense
        assert x.accrual.interest_recognised >= x.accrual.interest_received
        if x.status is LoanStatus.CLOSED:
            assert x.accrual.interest_receivable == zero
    assert tb.get(Account.INTEREST_RECEIVABLE, zero) == sum(
        (x.accrual.interest_receivable for x in loans), zero
    )
    assert tb.get(Account.PENALTY_RECEIVABLE, zero) == sum(
        (x.accrual.penalty_receivable for x in loans), zero
    )
    assert tb.get(Account.SUSPENSE, zero) == -sum((x.suspense for x in loans), zero)
    assert tb.get(Account.UNIDENTIFIED, zero) == -sum((e.line.amount for e in waiting), zero)
    for line in lines:
        assert line.utilised + line.reserved <= line.terms.limit


@settings(max_examples=25, deadline=None)
@given(st.lists(step, min_size=1, max_size=10))
# paid before the due date: held in suspense, applied (principal too) by end of day
@example([("draw", 120_000_00), ("pay", 20_000_00), ("eod", 35)])
# a failed debit, overdue, a short payment, a stranger's credit, then a prepayment
@example(
    [
        ("draw", 120_000_00),
        ("eod", 31),
        ("debit", 1),
        ("eod", 10),
        ("pay", 1_000_00),
        ("stranger", 5_00),
        ("prepay", 10_000_00),
        ("eod", 5),
    ]
)
def test_the_books_keep_their_laws(steps: list[tuple[str, int]]) -> None:
    """Random steps keep every law after every step."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'b.db'}"
        upgrade_database(url)
        engine = make_engine(url)
        w = World(make_uow=lambda: SqlAlchemyUnitOfWork(engine, b"p" * 32, b"a" * 32))
        line_id = w.open_line("500000")
        loans: list[int] = []
        refs = 0
        for kind, value in steps:
            if kind == "draw":
                # beyond what is left on the line: refused, nothing booked
                with contextlib.suppress(CreditLineError):
                    loans.append(w.draw(line_id, Money(value).amount_str()))
            elif kind in ("pay", "stranger"):
                refs += 1
                account = ACCOUNT if kind == "pay" else "9999000011112222"
                w.statement(w.credit(f"S{refs}", Money(value).amount_str(), account=account))
            elif kind == "debit":
                w.auto_debit(failing=frozenset({ACCOUNT}) if value else frozenset())
            elif kind == "prepay" and loans:
                loan = w.loan(loans[-1])
                if loan.status is LoanStatus.ACTIVE:
                    with w.uow() as uow:
                        principal = min(Money(value), loan.undue_principal(w.today))
                        if principal.is_positive():
                            servicing.request_prepayment(
                                uow, w.firm, loan.loan_id, now=w.now, principal=principal
                            )
                            uow.commit()
                    w.auto_debit()
            elif kind == "eod":
                w.close_days_until(w.business_date() + timedelta(days=value))
            check(w)
        engine.dispose()
