"""Replaying a loan's history from disbursement gives back the loan as booked, to the fen — the
law a back-valued recompute rests on; and the fake books stay balanced with the loan identities."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.world import World

from loomcredit.domain.ledger import Account
from loomcredit.domain.loan import LoanStatus
from loomcredit.domain.money import Money
from loomcredit.domain.replay import MoneyEvent, replay
from loomcredit.service_layer import servicing

steps = st.lists(
    st.tuples(
        st.integers(1, 20),  # days to close before the step
        st.sampled_from(["pay", "prepay", "none"]),
        st.integers(100, 5_000_000),  # fen
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=15, deadline=None)
@given(steps, st.sampled_from(["annuity", "equal_principal", "interest_only"]))
def test_replaying_the_history_gives_back_the_loan(
    history: list[tuple[int, str, int]], method: str
) -> None:
    """Random days, receipts and prepayments: replay(original, receipts) == the loan."""
    w = World()
    loan_id = w.draw(w.open_line("300000", method=method), "200000")
    refs = 0
    for days, kind, fen in history:
        w.close_days_until(w.business_date() + timedelta(days=days))
        if w.loan(loan_id).status is not LoanStatus.ACTIVE:
            break
        if kind == "prepay":
            with w.uow() as uow:
                servicing.request_prepayment(
                    uow, w.firm, loan_id, now=w.now, principal=Money(min(fen, 100_000_00))
                )
                uow.commit()
            w.auto_debit()
        elif kind == "pay":
            refs += 1
            w.statement(w.credit(f"R{refs}", Money(fen).amount_str()))
    with w.uow() as uow:
        loan = uow.loans.get(loan_id)
        original = uow.loans.original(loan_id)
        receipts = uow.receipts.for_loan(loan_id)
        last = uow.book.last_eod_date()
        books = uow.ledger.loan_balances(loan_id)
    assert loan is not None
    assert original is not None
    events = [MoneyEvent(r.value_date, r.amount, r.early, r.bank_ref) for r in receipts]
    again = replay(original, events, closed_through=last).loan
    assert again.status is loan.status
    assert (again.outstanding, again.suspense, again.dpd, again.bucket, again.grade) == (
        loan.outstanding,
        loan.suspense,
        loan.dpd,
        loan.bucket,
        loan.grade,
    )
    assert again.instalments == loan.instalments
    assert again.accrual == loan.accrual
    # the loan's books follow its state (what a recompute relies on)
    zero = Money.zero()
    want = loan.account_balances(zero, zero)
    for account in (Account.LOAN_PRINCIPAL, Account.INTEREST_RECEIVABLE, Account.PENALTY_RECEIVABLE,
                    Account.INTEREST_INCOME, Account.PENALTY_INCOME, Account.SUSPENSE):  # fmt: skip
        assert books.get(account, zero) == want[account], account
