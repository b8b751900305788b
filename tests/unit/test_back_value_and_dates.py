"""Dates: money is booked on the business date; end of day refuses tomorrow; a back-valued
receipt is booked today with its value date and the loan recomputed — exactly as if it had been
booked on the day — after a second risk manager approves it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from tests.world import USCC, World

from loomcredit.domain.approval import BackValuedReceiptOrder
from loomcredit.domain.errors import FourEyesViolation
from loomcredit.domain.ledger import Account
from loomcredit.domain.money import Money
from loomcredit.domain.payments import ReceiptSource
from loomcredit.service_layer import approvals, eod, origination
from loomcredit.service_layer.errors import InvalidRequestError
from loomcredit.service_layer.users import AccessDeniedError

M = Money.parse
DUE = date(2026, 4, 2)
LATER = date(2026, 4, 12)


def _overdue_world() -> tuple[World, int]:
    """A loan whose first instalment's auto-debit failed on the due date."""
    w = World()
    loan_id = w.draw(w.open_line("300000"), "120000")
    w.close_days_until(DUE)
    w.auto_debit(failing=frozenset({"6222000011112222"}))
    return w, loan_id


def test_end_of_day_refuses_a_date_after_today() -> None:
    """A day that has not happened cannot be closed."""
    w = World()
    with w.uow() as uow, pytest.raises(InvalidRequestError, match="after today"):
        eod.run_eod(uow, w.ops, date(2026, 3, 3), now=w.now)


def test_a_decision_for_another_date_needs_the_right() -> None:
    """Applications are decided as of the business date; an officer cannot pick another."""
    w = World()
    with w.uow() as uow:
        with pytest.raises(AccessDeniedError, match="business date"):
            origination.create_application(
                uow,
                w.decider,
                w.officer,
                uscc=USCC,
                amount=M("100000"),
                term=12,
                method="annuity",
                now=w.now,
                as_of=date(2026, 2, 1),
            )
        view = origination.create_application(
            uow,
            w.decider,
            w.officer,
            uscc=USCC,
            amount=M("100000"),
            term=12,
            method="annuity",
            now=w.now,
        )
    assert view.app.as_of == w.today
    assert w.decider.asked[-1][1] == w.today


def test_a_back_valued_receipt_equals_booking_it_on_the_day() -> None:
    """Paid on the due date but confirmed ten days later: once recomputed, the loan and its
    books equal a twin whose payment was booked on the due date (penalty reversed)."""
    late, loan_id = _overdue_world()
    due = late.loan(loan_id).amount_due(DUE)
    late.close_days_until(LATER)
    assert late.loan(loan_id).dpd == 9
    assert late.loan(loan_id).accrual.penalty_recognised.is_positive()

    on_time = World()
    twin = on_time.draw(on_time.open_line("300000"), "120000")
    on_time.close_days_until(DUE)
    on_time.statement(on_time.credit("PAID-ON-TIME", due.amount_str()))
    on_time.close_days_until(LATER)

    order = BackValuedReceiptOrder(loan_id, due, DUE, "CONFIRMED-0402")
    with late.uow() as uow:
        req = approvals.request_approval(
            uow,
            late.risk,
            order,
            reason="bank confirms the debit of 04-02 went through",
            now=late.now,
        )
        approvals.approve(uow, late.risk2, req.request_id, now=late.now)
        uow.commit()
    a, b = late.loan(loan_id), on_time.loan(twin)
    assert (a.outstanding, a.suspense, a.dpd, a.bucket) == (
        b.outstanding,
        b.suspense,
        b.dpd,
        b.bucket,
    )
    assert a.instalments == b.instalments
    assert a.accrual == b.accrual
    with late.uow() as uow, on_time.uow() as uow2:
        books_a, books_b = uow.ledger.loan_balances(loan_id), uow2.ledger.loan_balances(twin)
        receipt = uow.receipts.by_bank_ref("CONFIRMED-0402")
    nonzero = lambda d: {k: v for k, v in d.items() if not v.is_zero()}  # noqa: E731
    assert nonzero(books_a) == nonzero(books_b)
    assert receipt is not None
    assert receipt.source is ReceiptSource.BACK_VALUED
    assert (receipt.value_date, receipt.booked_on) == (DUE, LATER)
    with late.uow() as uow:
        entry = uow.ledger.entry(receipt.entry_id)
        day = uow.book.loan_day(loan_id, date(2026, 4, 5))
    assert entry is not None
    assert (entry.booked_on, entry.value_date) == (LATER, DUE)
    assert entry.amount_on(Account.PENALTY_INCOME).is_positive()  # the penalty reversed
    assert day is not None
    assert day.dpd == 3


def test_a_back_valued_receipt_needs_a_second_risk_manager() -> None:
    """The requester cannot approve; an officer cannot ask; a reason is required."""
    w, loan_id = _overdue_world()
    w.close_days_until(LATER)
    order = BackValuedReceiptOrder(loan_id, M("100"), DUE, "REF-1")
    with w.uow() as uow:
        with pytest.raises(AccessDeniedError):
            approvals.request_approval(uow, w.officer, order, reason="x", now=w.now)
        with pytest.raises(InvalidRequestError, match="reason"):
            approvals.request_approval(uow, w.risk, order, reason=" ", now=w.now)
        req = approvals.request_approval(uow, w.risk, order, reason="confirmed", now=w.now)
        with pytest.raises(FourEyesViolation):
            approvals.approve(uow, w.risk, req.request_id, now=w.now)


def test_a_value_date_on_or_after_the_business_date_is_not_back_valued() -> None:
    """Only a day already closed is back-valued."""
    w, loan_id = _overdue_world()
    today = w.business_date()
    with w.uow() as uow, pytest.raises(InvalidRequestError, match="not before"):
        approvals.request_approval(
            uow,
            w.risk,
            BackValuedReceiptOrder(loan_id, M("100"), today, "R"),
            reason="x",
            now=w.now,
        )


def test_money_events_take_the_day_lock_shared_and_eod_exclusive() -> None:
    """A receipt holds the book's day shared; end of day holds it exclusively."""
    w, _loan_id = _overdue_world()
    with w.uow() as uow:
        from loomcredit.service_layer import payments

        payments.import_statement(
            uow, w.ops, [w.credit("B", "1.00")], file_name="f", sha256="s", now=w.now
        )
        assert uow.day_holds == [False]
    with w.uow() as uow:
        eod.run_eod(uow, w.ops, w.today, now=datetime(2026, 4, 2, 21, tzinfo=UTC))
        assert uow.day_holds == [True]
