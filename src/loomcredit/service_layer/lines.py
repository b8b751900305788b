"""Use cases: credit lines (授信额度) and drawdowns (用信).

A drawdown is requested by the borrower or its officer: the amount is reserved on the line at
once (so concurrent requests never exceed the limit) and an approval request is made; a person
with the disbursement right who did not make, change or review the application approves it, and
only then is the loan booked and the money paid out (放款), on the business date, on the
decision's plan for the amount drawn. Rejecting or cancelling gives the reservation back.
A risk manager can freeze (冻结), unfreeze or reduce (压降) a line, with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from loomcredit.domain.approval import (
    ApprovalRequest,
    DrawdownOrder,
    LimitReviewOrder,
    LineReductionOrder,
)
from loomcredit.domain.credit_line import CreditLine, LineStatus
from loomcredit.domain.errors import CreditLineError, CurrencyMismatch, NotFound
from loomcredit.domain.ledger import entry_of
from loomcredit.domain.loan import Loan, LoanRef
from loomcredit.domain.money import Money
from loomcredit.service_layer.eod import business_date, money_day
from loomcredit.service_layer.errors import (
    ConcurrentChangeError,
    IdempotencyConflictError,
    InvalidRequestError,
)
from loomcredit.service_layer.loan_plan import LoanPlan, loan_plan
from loomcredit.service_layer.unit_of_work import DuplicateKey, StaleAggregate, UnitOfWork
from loomcredit.service_layer.users import Action, Role, User, require, require_enterprise

DISBURSEMENT_DESCRIPTION = "disbursement 放款"


@dataclass(frozen=True, slots=True)
class LineView:
    """A line as its users see it: the line, what is available on the business date, and the
    loans drawn on it."""

    line: CreditLine
    available: Money
    on: date
    loans: tuple[Loan, ...]


def _line(uow: UnitOfWork, line_id: int, *, lock: bool = False) -> CreditLine:
    line = uow.lines.get(line_id, lock=lock)
    if line is None:
        raise NotFound(f"credit line {line_id} does not exist")
    return line


def list_lines(uow: UnitOfWork, user: User, *, now: datetime) -> list[LineView]:
    """Lines the user may see (an applicant its own), with availability on the business date."""
    require(user, Action.READ_LOAN)
    uscc = user.enterprise_uscc if user.role is Role.APPLICANT else None
    on = business_date(uow, now)
    return [LineView(line, line.available(on), on, ()) for line in uow.lines.find(uscc=uscc)]


def get_line(uow: UnitOfWork, user: User, line_id: int, *, now: datetime) -> LineView:
    """One line with its loans."""
    require(user, Action.READ_LOAN)
    line = _line(uow, line_id)
    require_enterprise(user, line.terms.uscc)
    on = business_date(uow, now)
    loans = tuple(uow.loans.find(line_id=line_id))
    return LineView(line, line.available(on), on, loans)


def _save_line(uow: UnitOfWork, line: CreditLine) -> None:
    try:
        uow.lines.save(line)
    except StaleAggregate:
        raise ConcurrentChangeError(
            f"credit line {line.line_id} changed at the same time; retry"
        ) from None


def _check_key(key: str) -> None:
    if not key or len(key) > 100:
        raise IdempotencyConflictError("an Idempotency-Key of 1-100 characters is required")


def _same_request(uow: UnitOfWork, key: str, line_id: int, amount: Money) -> ApprovalRequest | None:
    """The request this key already made, if any (another request's key conflicts)."""
    done = uow.approvals.by_key(key)
    if done is None:
        return None
    order = done.order
    if not isinstance(order, DrawdownOrder) or (order.line_id, order.amount) != (line_id, amount):
        raise IdempotencyConflictError("this Idempotency-Key was used for another request")
    return done


def request_drawdown(
    uow: UnitOfWork, user: User, line_id: int, amount: Money, *, key: str, now: datetime
) -> ApprovalRequest:
    """用信申请: reserve ``amount`` on the line and ask for the disbursement to be approved.

    The same key returns the same request. Raises :class:`LimitExceeded` beyond what is
    available, :class:`LineNotAvailable` on a frozen, expired or closed line.
    """
    require(user, Action.REQUEST_DRAWDOWN)
    _check_key(key)
    done = _same_request(uow, key, line_id, amount)
    if done is not None:
        return done
    on = money_day(uow, now)
    line = _line(uow, line_id, lock=True)
    require_enterprise(user, line.terms.uscc)
    done = _same_request(uow, key, line_id, amount)  # made while we waited for the line's lock
    if done is not None:
        return done
    app = uow.applications.get(line.terms.application_id)
    if app is None:  # pragma: no cover - a line always has its application
        raise NotFound(f"application {line.terms.application_id} does not exist")
    line.reserve(amount, on)
    request = ApprovalRequest.make(
        DrawdownOrder(line_id, amount, key),
        requested_by=user.name,
        reason=f"drawdown of {amount.format()} on {on}",
        at=now,
        excluded=app.makers,
        key=key,
    )
    try:
        uow.approvals.add(request)
    except DuplicateKey:
        raise IdempotencyConflictError(
            "a concurrent request used this Idempotency-Key; retry to read it"
        ) from None
    _save_line(uow, line)
    uow.audit.append(
        user.name,
        "drawdown.requested",
        f"line:{line_id}",
        {"amount_fen": amount.minor, "approval": request.request_id, "key": key},
        now,
    )
    return request


def drawdown_plan(
    uow: UnitOfWork, user: User, line_id: int, amount: Money, *, now: datetime
) -> LoanPlan:
    """The schedule a drawdown of ``amount`` on the business date would be booked on."""
    require(user, Action.READ_LOAN)
    line = _line(uow, line_id)
    require_enterprise(user, line.terms.uscc)
    app = uow.applications.get(line.terms.application_id)
    if app is None:  # pragma: no cover
        raise NotFound(f"application {line.terms.application_id} does not exist")
    return loan_plan(app, business_date(uow, now), amount)


def disburse_drawdown(
    uow: UnitOfWork, approver: User, request: ApprovalRequest, order: DrawdownOrder, now: datetime
) -> Loan:
    """Carry out an approved drawdown: draw on the line, book the loan on the decision's plan on
    the business date, pay out (Dr 贷款本金 / Cr 结算). Once per key."""
    if uow.loans.by_key(order.key) is not None:
        raise IdempotencyConflictError(f"drawdown {order.key} was disbursed already")
    on = money_day(uow, now)
    line = _line(uow, order.line_id, lock=True)
    app = uow.applications.get(line.terms.application_id)
    if app is None:  # pragma: no cover
        raise NotFound(f"application {line.terms.application_id} does not exist")
    line.draw(order.amount, on)
    plan = loan_plan(app, on, order.amount)
    loan = Loan.open(
        plan.schedule,
        LoanRef(0, line.line_id, app.app_id, line.terms.uscc, order.key),
        app.penalty_uplift,
    )
    try:
        uow.loans.add(loan, at=now)
    except DuplicateKey:
        raise IdempotencyConflictError(
            "a concurrent approval disbursed this drawdown; retry to read it"
        ) from None
    uow.ledger.post(
        entry_of(f"disb-{loan.loan_id}", on, DISBURSEMENT_DESCRIPTION, loan.disbursement_legs()),
        loan.loan_id,
    )
    _save_line(uow, line)
    uow.audit.append(
        approver.name,
        "loan.disbursed",
        f"loan:{loan.loan_id}",
        {
            "amount_fen": order.amount.minor,
            "key": order.key,
            "line": line.line_id,
            "requested_by": request.requested_by,
            "approval": request.request_id,
        },
        now,
    )
    return loan


def release_drawdown(uow: UnitOfWork, order: DrawdownOrder, on: date, reason: str) -> None:
    """Give a rejected or cancelled drawdown's reservation back."""
    line = _line(uow, order.line_id, lock=True)
    line.release(order.amount, on, reason)
    _save_line(uow, line)


def _manage(uow: UnitOfWork, user: User, line_id: int, reason: str) -> CreditLine:
    require(user, Action.MANAGE_LINE)
    if not reason.strip():
        raise InvalidRequestError("a reason is required")
    return _line(uow, line_id, lock=True)


def freeze_line(
    uow: UnitOfWork, user: User, line_id: int, *, reason: str, now: datetime
) -> CreditLine:
    """冻结 the undrawn limit (the loans drawn run on)."""
    line = _manage(uow, user, line_id, reason)
    line.freeze(reason, business_date(uow, now))
    _save_line(uow, line)
    uow.audit.append(user.name, "line.frozen", f"line:{line_id}", {"reason": reason}, now)
    return line


def unfreeze_line(
    uow: UnitOfWork, user: User, line_id: int, *, reason: str, now: datetime
) -> CreditLine:
    """Lift a freeze."""
    line = _manage(uow, user, line_id, reason)
    line.unfreeze(reason, business_date(uow, now))
    _save_line(uow, line)
    uow.audit.append(user.name, "line.unfrozen", f"line:{line_id}", {"reason": reason}, now)
    return line


def reduce_line(
    uow: UnitOfWork, user: User, line_id: int, new_limit: Money, *, reason: str, now: datetime
) -> CreditLine:
    """压降 Lower a line's limit."""
    line = _manage(uow, user, line_id, reason)
    before = line.limit
    line.reduce(new_limit, reason, business_date(uow, now))
    _save_line(uow, line)
    uow.audit.append(
        user.name,
        "line.reduced",
        f"line:{line_id}",
        {"from_fen": before.minor, "to_fen": new_limit.minor, "reason": reason},
        now,
    )
    return line


def check_reduction(uow: UnitOfWork, order: LineReductionOrder) -> None:
    """Refuse, when it is asked for, a reduction that could not be carried out."""
    line = _line(uow, order.line_id)
    if line.status is LineStatus.CLOSED:
        raise InvalidRequestError(f"credit line {line.line_id} is closed")
    try:
        line.check_reduction(order.new_limit)
    except (CreditLineError, CurrencyMismatch) as exc:
        raise InvalidRequestError(str(exc)) from None


def reduce_approved(
    uow: UnitOfWork,
    approver: User,
    request: ApprovalRequest,
    order: LineReductionOrder,
    now: datetime,
) -> CreditLine:
    """Carry out an approved reduction (压降) on the business date; when it is the action on an
    alert, the alert records it (acknowledged if nobody had, then actioned)."""
    line = _line(uow, order.line_id, lock=True)
    before = line.limit
    line.reduce(order.new_limit, request.reason, business_date(uow, now))
    _save_line(uow, line)
    uow.audit.append(
        approver.name,
        "line.reduced",
        f"line:{line.line_id}",
        {
            "from_fen": before.minor,
            "to_fen": order.new_limit.minor,
            "reason": request.reason,
            "requested_by": request.requested_by,
            "approval": request.request_id,
            "alert": order.alert_id,
        },
        now,
    )
    alert = uow.alerts.get(order.alert_id, lock=True) if order.alert_id else None
    if alert is not None and alert.is_open:
        alert.record_action(
            by=approver.name,
            at=now,
            comment=f"额度压降 line reduced {before} → {order.new_limit} "
            f"(approval {request.request_id}, asked by {request.requested_by}): {request.reason}",
        )
        uow.alerts.save(alert)
    return line


def check_adjustment(uow: UnitOfWork, order: LimitReviewOrder) -> None:
    """Refuse, when it is asked for, an adjustment that could not be carried out."""
    line = uow.lines.get(order.line_id)
    if line is None:
        raise NotFound(f"credit line {order.line_id} does not exist")
    if line.status is LineStatus.CLOSED:
        raise InvalidRequestError(f"credit line {line.line_id} is closed")
    if order.new_limit.currency != line.currency or order.new_limit == line.limit:
        raise InvalidRequestError(
            f"credit line {line.line_id}'s limit is already {line.limit.format()}"
        )


def adjust_approved(
    uow: UnitOfWork,
    approver: User,
    request: ApprovalRequest,
    order: LimitReviewOrder,
    now: datetime,
) -> CreditLine:
    """Carry out an approved adjustment on the business date, and record it on the review."""
    line = uow.lines.get(order.line_id, lock=True)
    if line is None:
        raise NotFound(f"credit line {order.line_id} does not exist")
    before = line.limit
    try:
        line.adjust(order.new_limit, f"额度动态调整 (approval {request.request_id})",
                    business_date(uow, now))  # fmt: skip
    except (CreditLineError, CurrencyMismatch) as exc:
        raise InvalidRequestError(str(exc)) from None
    uow.lines.save(line)
    review = uow.reviews.get(order.review_id)
    if review is not None:
        review.reason_zh += f"；已审批 approved by {approver.name}"
        review.reason_en += f"; approved by {approver.name}"
        uow.reviews.save(review)
    uow.audit.append(
        approver.name,
        "line.adjusted",
        f"line:{line.line_id}",
        {"from_fen": before.minor, "to_fen": order.new_limit.minor, "review": order.review_id,
         "approval": request.request_id, "requested_by": request.requested_by},
        now,
    )  # fmt: skip
    return line
