"""A plain receipt booked without the aggregate is what the aggregate books: wherever
``plain_repayment`` answers, ``Loan.repay`` gives the same split, legs and figures; and it answers
for every receipt that is plain (exactly what is due, nothing in suspense, no penalty owed, the
loan stays open)."""

from __future__ import annotations

import copy
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.world import World

from loomcredit.domain.loan import DueSummary, LoanStatus, plain_repayment
from loomcredit.domain.money import Money

history = st.lists(
    st.tuples(st.integers(1, 25), st.integers(0, 4_000_000)),  # days closed, fen paid (0: none)
    min_size=0,
    max_size=3,
)


@settings(max_examples=12, deadline=None)
@given(history, st.sampled_from(["annuity", "equal_principal", "interest_only"]),
       st.integers(-3, 3), st.integers(0, 20))  # fmt: skip
def test_plain_repayment_is_what_the_loan_books(
    steps: list[tuple[int, int]], method: str, off: int, days_late: int
) -> None:
    """Random histories (days closed, receipts of any size, some late), then a receipt of what
    is due on a due date (± ``off`` fen) ``days_late`` days after it."""
    w = World()
    loan_id = w.draw(w.open_line("300000", method=method), "200000")
    for k, (days, fen) in enumerate(steps):
        w.close_days_until(w.business_date() + timedelta(days=days))
        if w.loan(loan_id).status is not LoanStatus.ACTIVE:
            return
        if fen:
            w.statement(w.credit(f"R{k}", Money(fen).amount_str()))
    loan = w.loan(loan_id)
    if loan.status is not LoanStatus.ACTIVE:
        return
    today = w.business_date()
    nxt = min((i.due_on for i in loan.instalments if i.due_on >= today and not i.is_settled),
              default=None)  # fmt: skip
    if nxt is not None:
        w.close_days_until(nxt + timedelta(days=days_late))
        loan = w.loan(loan_id)
    on = w.business_date()
    if loan.status is not LoanStatus.ACTIVE:
        return
    summary = DueSummary.of(loan, on)
    due = loan.amount_due(on)
    for amount in {due + Money(off), due, Money(12_345)}:
        if not amount.is_positive():
            continue
        plain = plain_repayment(summary, amount, on)
        is_plain = (
            amount == due
            and summary.suspense.is_zero()
            and loan.accrual.penalty_due.is_zero()
            and summary.open_after
        )
        assert (plain is not None) == is_plain, (amount, due, summary)
        if plain is None:
            continue
        booked = copy.deepcopy(loan)
        rep = booked.repay(amount, on)
        assert plain.repayment == rep
        assert plain.outstanding == booked.outstanding
        assert plain.interest_recognised == booked.accrual.interest_recognised
        assert plain.interest_received == booked.accrual.interest_received
        assert (booked.accrual.penalty_recognised, booked.accrual.penalty_paid) == (
            loan.accrual.penalty_recognised,
            loan.accrual.penalty_paid,
        )
        assert booked.status is LoanStatus.ACTIVE
        assert booked.suspense == loan.suspense
        assert all(i.is_settled for i in booked.instalments if i.due_on <= on)
        assert [(i.number, i.principal_paid, i.interest_paid) for i in booked.instalments
                if i.due_on > on] == [(i.number, i.principal_paid, i.interest_paid)
                                      for i in loan.instalments if i.due_on > on]  # fmt: skip
