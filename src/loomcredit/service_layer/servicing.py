"""Use cases: loans after disbursement — reading them, the payoff quote, the borrower's early
repayment request, booking money the bank received, write-off and its reversal, restructuring.

Money reaches a loan only from the bank (``payments.py``: auto-debit settlement, statement lines,
the exceptions queue; ``recompute.py``: back-valued receipts). :func:`book_receipt` is the one
place a receipt becomes a repayment: on the business date, under the book's shared day lock.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import replace
from datetime import date, datetime

from loomcredit.domain.approval import (
    ApprovalRequest,
    CallInOrder,
    RestructureOrder,
    ReversalOrder,
    WriteOffOrder,
)
from loomcredit.domain.credit_line import LineStatus
from loomcredit.domain.errors import LoanStateError, NotFound
from loomcredit.domain.ledger import Account, entry_of
from loomcredit.domain.loan import Loan, LoanStatus, PayoffQuote, WriteOff
from loomcredit.domain.money import Money
from loomcredit.domain.payments import PrepaymentRequest, PrepaymentStatus, Receipt, ReceiptSource
from loomcredit.domain.restructuring import Restructured
from loomcredit.service_layer.audit import AuditDetail
from loomcredit.service_layer.eod import book_repayment, business_date, money_day
from loomcredit.service_layer.errors import InvalidRequestError
from loomcredit.service_layer.unit_of_work import UnitOfWork
from loomcredit.service_layer.users import Action, Role, User, require, require_enterprise

REPAYMENT_DESCRIPTION = "repayment 还款"


def _loan(uow: UnitOfWork, loan_id: int, *, lock: bool = False) -> Loan:
    loan = uow.loans.get(loan_id, lock=lock)
    if loan is None:
        raise NotFound(f"loan {loan_id} does not exist")
    return loan


def get_loan(uow: UnitOfWork, user: User, loan_id: int) -> Loan:
    """A loan the user may read (an applicant only its own)."""
    require(user, Action.READ_LOAN)
    loan = _loan(uow, loan_id)
    require_enterprise(user, loan.ref.uscc)
    return loan


def list_loans(uow: UnitOfWork, user: User) -> list[Loan]:
    """Loans the user may see."""
    require(user, Action.READ_LOAN)
    uscc = user.enterprise_uscc if user.role is Role.APPLICANT else None
    return uow.loans.find(uscc=uscc)


def receipts(uow: UnitOfWork, user: User, loan_id: int) -> list[Receipt]:
    """A loan's receipts."""
    get_loan(uow, user, loan_id)
    return uow.receipts.for_loan(loan_id)


def payoff_quote(
    uow: UnitOfWork, user: User, loan_id: int, *, now: datetime, on: date | None = None
) -> PayoffQuote:
    """提前还款试算 on ``on`` (default the business date; never a day already closed)."""
    loan = get_loan(uow, user, loan_id)
    today = business_date(uow, now)
    day = on or today
    if day < today:
        raise InvalidRequestError(
            f"a quote is for the business date {today} or later, not the closed day {day}"
        )
    return loan.payoff_quote(day)


def request_prepayment(
    uow: UnitOfWork,
    user: User,
    loan_id: int,
    *,
    now: datetime,
    principal: Money | None = None,
    on: date | None = None,
) -> tuple[PrepaymentRequest, PayoffQuote]:
    """The borrower asks to repay early on ``on`` — everything, or ``principal`` of the principal
    not yet due. Quoted at once; the auto-debit of that day takes the money, or a statement line
    naming the loan settles it. The borrower never posts the money itself."""
    require(user, Action.REQUEST_PREPAYMENT)
    quote = payoff_quote(uow, user, loan_id, now=now, on=on)
    if principal is not None and not (
        principal.is_positive() and principal <= quote.principal_not_due
    ):
        raise InvalidRequestError(
            f"principal to prepay must be positive and at most the "
            f"{quote.principal_not_due.format()} not yet due"
        )
    request = PrepaymentRequest(0, loan_id, quote.on, principal, user.name)
    uow.payments.add_prepayment(request)
    uow.audit.append(
        user.name,
        "prepayment.requested",
        f"loan:{loan_id}",
        {
            "on": quote.on.isoformat(),
            "principal_fen": None if principal is None else principal.minor,
            "payoff_fen": quote.payoff.minor,
        },
        now,
    )
    return request, quote


def prepayment_amount(loan: Loan, request: PrepaymentRequest) -> Money:
    """What an early repayment request costs on its day: due + interest to date + principal."""
    quote = loan.payoff_quote(request.on)
    if request.principal is None:
        return quote.payoff
    asked = quote.due + quote.interest_to_date + min(request.principal, quote.principal_not_due)
    return max(Money.zero(asked.currency), asked - quote.held)


def book_receipt(
    uow: UnitOfWork,
    loan: Loan,
    amount: Money,
    *,
    bank_ref: str,
    source: ReceiptSource,
    booked_on: date,
    early: bool = False,
    from_account: Account = Account.SETTLEMENT,
) -> Receipt:
    """Apply money the bank received to a locked loan and book it (the caller holds the day lock
    and has checked the bank reference is new): the loan's waterfall, the entry, the receipt."""
    rep = loan.repay(amount, booked_on, early=early, source=from_account)
    uow.loans.save(loan)
    entry_id = receipt_entry_id(bank_ref)
    receipt = Receipt(
        0,
        loan.loan_id,
        bank_ref,
        amount,
        rep.value_date,
        booked_on,
        early,
        rep.principal,
        rep.interest,
        rep.penalty,
        rep.suspense,
        source,
        entry_id,
    )
    receipt_id = uow.receipts.add(receipt)
    book_repayment(uow, loan, rep, entry_id, booked_on, REPAYMENT_DESCRIPTION)
    return replace(receipt, receipt_id=receipt_id)


def receipt_entry_id(bank_ref: str, *, back_valued: bool = False) -> str:
    """The journal entry id of a receipt: one per bank reference (so never booked twice)."""
    return f"{'bv' if back_valued else 'rep'}-{bank_ref}"


def settle_prepayments(uow: UnitOfWork, loan: Loan, on: date) -> bool:
    """Mark the loan's open prepayment requests for ``on`` settled; True if there was one (the
    receipt then books as an early repayment)."""
    open_ = uow.payments.prepayments(loan_id=loan.loan_id, on=on)
    for request in open_:
        request.status = PrepaymentStatus.SETTLED
        uow.payments.save_prepayment(request)
    return bool(open_)


# -- write-off and reversal (carried out on a second person's approval) ---------------------------
def check_write_off(uow: UnitOfWork, loan_id: int) -> Loan:
    """A loan that can be written off (active, with principal)."""
    loan = _loan(uow, loan_id)
    if loan.status is not LoanStatus.ACTIVE or not loan.outstanding.is_positive():
        raise LoanStateError(
            f"loan {loan_id} is {loan.status.value}; only active loans with principal"
        )
    return loan


def write_off(
    uow: UnitOfWork, approver: User, request: ApprovalRequest, order: WriteOffOrder, now: datetime
) -> str:
    """核销 on the business date: principal and receivables off the books in one entry."""
    on = money_day(uow, now)
    loan = _loan(uow, order.loan_id, lock=True)
    done = loan.write_off(on)
    uow.loans.save(loan)
    entry_id = f"wo-{loan.loan_id}-{on.isoformat()}"
    uow.ledger.post(entry_of(entry_id, on, "write-off 核销", done.legs), loan.loan_id)
    uow.audit.append(
        approver.name,
        "loan.written_off",
        f"loan:{loan.loan_id}",
        {
            "amount_fen": done.principal.minor,
            "interest_fen": done.interest.minor,
            "penalty_fen": done.penalty.minor,
            "entry": entry_id,
            "requested_by": request.requested_by,
            "approval": request.request_id,
        },
        now,
    )
    return entry_id


def _write_off_of(uow: UnitOfWork, loan: Loan, entry_id: str) -> WriteOff:
    entry = uow.ledger.entry(entry_id)
    if entry is None or not entry_id.startswith(f"wo-{loan.loan_id}-"):
        raise NotFound(f"no write-off {entry_id} on loan {loan.loan_id}")
    cur = loan.currency
    legs = tuple((p.account, p.amount) for p in entry.postings)
    return WriteOff(
        -entry.amount_on(Account.LOAN_PRINCIPAL, cur),
        -entry.amount_on(Account.INTEREST_RECEIVABLE, cur),
        -entry.amount_on(Account.PENALTY_RECEIVABLE, cur),
        legs,
    )


def check_reversal(uow: UnitOfWork, loan_id: int, entry_id: str) -> None:
    """A write-off that can be reversed."""
    loan = _loan(uow, loan_id)
    _write_off_of(uow, loan, entry_id)
    if uow.ledger.is_reversed(entry_id) or loan.status is not LoanStatus.WRITTEN_OFF:
        raise LoanStateError(f"write-off {entry_id} has already been reversed")


def reverse_write_off(
    uow: UnitOfWork, approver: User, request: ApprovalRequest, order: ReversalOrder, now: datetime
) -> str:
    """冲正 a write-off with a mirror entry on the business date (never an edit)."""
    on = money_day(uow, now)
    loan = _loan(uow, order.loan_id, lock=True)
    check_reversal(uow, order.loan_id, order.entry_id)
    original = _write_off_of(uow, loan, order.entry_id)
    legs = loan.reverse_write_off(original, on)
    uow.loans.save(loan)
    rev_id = f"rev-{order.entry_id}"
    uow.ledger.post(
        entry_of(rev_id, on, "reversal 冲正", legs, reverses=order.entry_id), loan.loan_id
    )
    uow.audit.append(
        approver.name,
        "entry.reversed",
        f"loan:{loan.loan_id}",
        {"entry": order.entry_id, "requested_by": request.requested_by},
        now,
    )
    return rev_id


def check_call_in(uow: UnitOfWork, order: CallInOrder, now: datetime) -> None:
    """Refuse, when it is asked for, a call-in that would call nothing in."""
    if not _callable(uow, order.line_id, business_date(uow, now)):
        raise InvalidRequestError(
            f"credit line {order.line_id} has no active loan with instalments still to fall due"
        )


def _callable(uow: UnitOfWork, line_id: int, on: date) -> list[Loan]:
    return [
        loan
        for loan in uow.loans.find(line_id=line_id, status=LoanStatus.ACTIVE)
        if any(i.due_on > on for i in loan.instalments)
    ]


def call_in_approved(
    uow: UnitOfWork, approver: User, request: ApprovalRequest, order: CallInOrder, now: datetime
) -> str:
    """宣布提前到期 on the business date: every active loan of the line falls due at once (the
    principal not yet due and its interest to date), the line is frozen, and when it is the
    action on an alert the alert records it. Each loan's call is audited."""
    on = money_day(uow, now)
    loans = uow.loans.get_many([ln.loan_id for ln in _callable(uow, order.line_id, on)], lock=True)
    reason = f"提前到期 called in (approval {request.request_id}): {request.reason}"
    for loan in loans.values():
        due = loan.call_in(on, reason)
        uow.loans.save(loan)
        detail: AuditDetail = {"due_fen": due.minor, "on": on.isoformat(),
                               "approval": request.request_id,
                               "requested_by": request.requested_by}  # fmt: skip
        uow.audit.append(approver.name, "loan.called_in", f"loan:{loan.loan_id}", detail, now)
    line = uow.lines.get(order.line_id, lock=True)
    if line is not None and line.status is LineStatus.ACTIVE:
        line.freeze(reason, on)
        uow.lines.save(line)
        uow.audit.append(approver.name, "line.frozen", f"line:{line.line_id}",
                         {"reason": reason, "approval": request.request_id}, now)  # fmt: skip
    alert = uow.alerts.get(order.alert_id, lock=True) if order.alert_id else None
    if alert is not None and alert.is_open:
        alert.record_action(by=approver.name, at=now, comment=f"{reason} · {len(loans)} loan(s)")
        uow.alerts.save(alert)
    return f"line:{order.line_id}"


# -- restructuring (展期 / 调整还款计划, carried out on a risk manager's approval) -----------------
def check_restructure(uow: UnitOfWork, order: RestructureOrder, now: datetime) -> Restructured:
    """Refuse, when it is asked for and again when approved, a restructuring that cannot apply
    on the business date (a closed or written-off loan, a plan that does not fit): it is tried
    on a copy of the loan, and what it would do is returned."""
    loan = _loan(uow, order.loan_id)
    return deepcopy(loan).restructure(order.plan, business_date(uow, now), "check")


def restructure_approved(
    uow: UnitOfWork,
    approver: User,
    request: ApprovalRequest,
    order: RestructureOrder,
    now: datetime,
) -> str:
    """重组 on the business date: the new schedule and the watch period (no money moves, so no
    entry is posted). Audited with the approval and who asked for it."""
    on = money_day(uow, now)
    loan = _loan(uow, order.loan_id, lock=True)
    reason = f"重组 restructured (approval {request.request_id}): {request.reason}"
    done = loan.restructure(order.plan, on, reason)
    uow.loans.save(loan)
    detail: AuditDetail = {
        "plan": order.plan.label,
        "on": on.isoformat(),
        "principal_fen": done.principal.minor,
        "deferred_interest_fen": done.deferred_interest.minor,
        "penalty_owed_fen": done.penalty_owed.minor,
        "first_due": done.first_due.isoformat(),
        "maturity": done.maturity.isoformat(),
        "watch_until": done.watch_until.isoformat(),
        "approval": request.request_id,
        "requested_by": request.requested_by,
    }
    uow.audit.append(approver.name, "loan.restructured", f"loan:{loan.loan_id}", detail, now)
    return f"loan:{loan.loan_id}"
