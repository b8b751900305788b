"""Use case: a back-valued receipt (倒起息) — booked today with its value date, the loan
recomputed from it, the difference posted as one entry (``domain/replay.py``).

A back-valued event needs a risk manager's right, a reason and a second risk manager's
approval (``approvals.py``); it never changes a closed day: loan-days already recorded stay as
they were, the correction is today's entry.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from loomcredit.domain.approval import ApprovalRequest, BackValuedReceiptOrder
from loomcredit.domain.delinquency import Grade
from loomcredit.domain.errors import LoanStateError, NotFound
from loomcredit.domain.ledger import Account, entry_of
from loomcredit.domain.loan import Loan, LoanEvent, LoanStatus
from loomcredit.domain.payments import Receipt, ReceiptSource, StatementLineStatus
from loomcredit.domain.replay import MoneyEvent, recompute_legs, replay
from loomcredit.service_layer.eod import business_date, money_day
from loomcredit.service_layer.errors import InvalidRequestError
from loomcredit.service_layer.servicing import receipt_entry_id
from loomcredit.service_layer.unit_of_work import UnitOfWork
from loomcredit.service_layer.users import User

BACK_VALUED_DESCRIPTION = "back-valued receipt, loan recomputed 倒起息重算"


def check_back_value(uow: UnitOfWork, order: BackValuedReceiptOrder, now: datetime) -> Loan:
    """What must hold for a back-valued receipt (checked when asked and again when approved)."""
    today = business_date(uow, now)
    loan = uow.loans.get(order.loan_id)
    if loan is None:
        raise NotFound(f"loan {order.loan_id} does not exist")
    if loan.status is not LoanStatus.ACTIVE:
        raise LoanStateError(f"loan {order.loan_id} is {loan.status.value}; it takes no receipts")
    if not order.amount.is_positive():
        raise InvalidRequestError("a receipt must be a positive amount")
    if order.value_date >= today:
        raise InvalidRequestError(
            f"value date {order.value_date} is not before the business date {today}: book it "
            "as an ordinary receipt"
        )
    if order.value_date < loan.terms.start_date:
        raise InvalidRequestError(
            f"value date {order.value_date} is before the loan started ({loan.terms.start_date})"
        )
    if not order.bank_ref.strip() or uow.receipts.by_bank_ref(order.bank_ref) is not None:
        raise InvalidRequestError(f"bank reference {order.bank_ref!r} is empty or booked already")
    if loan.restructured_on is not None:
        raise LoanStateError(
            f"loan {order.loan_id} was restructured on {loan.restructured_on}; a recompute replays "
            "the original schedule and would undo it, so book the receipt as an ordinary one"
        )
    if uow.loans.original(order.loan_id) is None:
        raise LoanStateError(
            f"loan {order.loan_id} was booked before original schedules were kept; it cannot be "
            "recomputed"
        )
    if order.statement_line_id:
        entry = uow.payments.line(order.statement_line_id)
        if entry is None or entry.status is not StatementLineStatus.UNMATCHED:
            raise InvalidRequestError(
                f"statement line {order.statement_line_id} is not waiting in the queue"
            )
        if (entry.line.bank_ref, entry.line.amount, entry.line.value_date) != (
            order.bank_ref,
            order.amount,
            order.value_date,
        ):
            raise InvalidRequestError("the receipt must be the statement line as the bank sent it")
    return loan


def book_back_valued(
    uow: UnitOfWork,
    approver: User,
    request: ApprovalRequest,
    order: BackValuedReceiptOrder,
    now: datetime,
) -> Receipt:
    """Book an approved back-valued receipt and recompute the loan from its value date."""
    on = money_day(uow, now)
    check_back_value(uow, order, now)
    loan = uow.loans.get(order.loan_id, lock=True)
    original = uow.loans.original(order.loan_id)
    if loan is None or original is None:  # pragma: no cover - checked just above
        raise NotFound(f"loan {order.loan_id} cannot be recomputed")
    history = uow.receipts.for_loan(order.loan_id)
    events = [MoneyEvent(r.value_date, r.amount, r.early, r.bank_ref) for r in history]
    events.append(MoneyEvent(order.value_date, order.amount, False, order.bank_ref))
    events.sort(key=lambda ev: ev.value_date)  # stable: booking order within a day
    result = replay(original, events, closed_through=uow.book.last_eod_date())
    source = Account.UNIDENTIFIED if order.statement_line_id else Account.SETTLEMENT
    legs = recompute_legs(result.loan, uow.ledger.loan_balances(loan.loan_id), order.amount, source)
    rep = result.repayments[order.bank_ref]
    receipt = Receipt(
        0,
        loan.loan_id,
        order.bank_ref,
        order.amount,
        order.value_date,
        on,
        False,
        rep.principal,
        rep.interest,
        rep.penalty,
        rep.suspense,
        ReceiptSource.BACK_VALUED,
        receipt_entry_id(order.bank_ref, back_valued=True),
    )
    receipt_id = uow.receipts.add(receipt)
    entry_id = receipt.entry_id
    uow.ledger.post(
        entry_of(entry_id, on, BACK_VALUED_DESCRIPTION, legs, value_date=order.value_date),
        loan.loan_id,
    )
    fresh = result.loan
    restored = loan.outstanding - fresh.outstanding
    fresh.ref, fresh.version = loan.ref, loan.version
    fresh.grade = Grade(max(loan.grade, fresh.grade))  # the floor never lifts a grade
    fresh.events = [LoanEvent("recomputed", on, order.amount, f"value date {order.value_date}")]
    uow.loans.save(fresh)
    if restored.is_positive():
        line = uow.lines.get(loan.ref.line_id, lock=True)
        if line is not None:
            line.restore(restored, on)
            uow.lines.save(line)
    if order.statement_line_id:
        entry = uow.payments.line(order.statement_line_id, lock=True)
        if entry is not None:
            entry.status, entry.loan_id, entry.receipt_id = (
                StatementLineStatus.BOOKED,
                loan.loan_id,
                receipt_id,
            )
            entry.resolved_by, entry.resolution = approver.name, "booked back-valued"
            uow.payments.save_line(entry)
    uow.audit.append(
        approver.name,
        "receipt.back_valued",
        f"loan:{loan.loan_id}",
        {
            "amount_fen": order.amount.minor,
            "value_date": order.value_date.isoformat(),
            "bank_ref": order.bank_ref,
            "entry": entry_id,
            "requested_by": request.requested_by,
            "reason": request.reason,
        },
        now,
    )
    return replace(receipt, receipt_id=receipt_id, entry_id=entry_id)
