"""Use cases: four eyes (双人复核) on every money move and every role grant.

Disbursements are requested through ``lines.request_drawdown``; write-offs, reversals,
back-valued receipts and role grants through :func:`request_approval`. A request is approved by
another person who holds the kind's right (:data:`~loomcredit.service_layer.users.APPROVAL_RIGHTS`)
and who neither asked for it nor made or changed the case; approving carries the order out in the
same transaction, so an approval and its effect are never separated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from loomcredit.domain.approval import (
    ApprovalKind,
    ApprovalRequest,
    BackValuedReceiptOrder,
    CallInOrder,
    DrawdownOrder,
    LegalActionOrder,
    LimitReviewOrder,
    LineReductionOrder,
    Order,
    RestructureOrder,
    ReversalOrder,
    RoleGrantOrder,
    WriteOffOrder,
)
from loomcredit.domain.errors import NotFound
from loomcredit.service_layer import collections, lines, recompute, servicing, user_admin
from loomcredit.service_layer.eod import business_date
from loomcredit.service_layer.errors import IdempotencyConflictError, InvalidRequestError
from loomcredit.service_layer.unit_of_work import DuplicateKey, UnitOfWork
from loomcredit.service_layer.users import (
    APPROVAL_RIGHTS,
    AccessDeniedError,
    Action,
    User,
    may,
    require,
)

#: The right to ask for each kind (a disbursement is asked for as a drawdown).
REQUEST_RIGHTS: dict[ApprovalKind, Action] = {
    ApprovalKind.DISBURSEMENT: Action.REQUEST_DRAWDOWN,
    ApprovalKind.WRITE_OFF: Action.REQUEST_WRITE_OFF,
    ApprovalKind.REVERSAL: Action.REQUEST_REVERSAL,
    ApprovalKind.BACK_VALUE: Action.REQUEST_BACK_VALUE,
    ApprovalKind.ROLE_GRANT: Action.MANAGE_USERS,
    ApprovalKind.LINE_REDUCTION: Action.REQUEST_LINE_REDUCTION,
    ApprovalKind.LIMIT_REVIEW: Action.RUN_LIMIT_REVIEW,
    ApprovalKind.CALL_IN: Action.REQUEST_CALL_IN,
    ApprovalKind.RESTRUCTURE: Action.PROPOSE_RESTRUCTURE,
    ApprovalKind.LEGAL_ACTION: Action.REQUEST_LEGAL_ACTION,
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """A decided request and what carrying it out produced (a loan id, an entry id, a user)."""

    request: ApprovalRequest
    result: str


def _check(uow: UnitOfWork, order: Order, now: datetime) -> None:
    """Refuse an order that could not be carried out, when it is asked for."""
    if isinstance(order, WriteOffOrder):
        servicing.check_write_off(uow, order.loan_id)
    elif isinstance(order, ReversalOrder):
        servicing.check_reversal(uow, order.loan_id, order.entry_id)
    elif isinstance(order, BackValuedReceiptOrder):
        recompute.check_back_value(uow, order, now)
    elif isinstance(order, RoleGrantOrder):
        user_admin.check_grant(uow, order)
    elif isinstance(order, LineReductionOrder):
        lines.check_reduction(uow, order)
    elif isinstance(order, LimitReviewOrder):
        lines.check_adjustment(uow, order)
    elif isinstance(order, CallInOrder):
        servicing.check_call_in(uow, order, now)
    elif isinstance(order, RestructureOrder):
        servicing.check_restructure(uow, order, now)
    elif isinstance(order, LegalActionOrder):
        collections.check_legal_action(uow, order)
    elif isinstance(order, DrawdownOrder):
        raise InvalidRequestError("a drawdown is requested on its credit line")


def request_approval(
    uow: UnitOfWork,
    user: User,
    order: Order,
    *,
    reason: str,
    now: datetime,
    key: str | None = None,
) -> ApprovalRequest:
    """Ask for an order to be approved by someone else (a reason is required)."""
    require(user, REQUEST_RIGHTS[order.kind])
    if not reason.strip():
        raise InvalidRequestError("a request for approval needs a reason")
    if key is not None:
        done = uow.approvals.by_key(key)
        if done is not None:
            if done.order != order:
                raise IdempotencyConflictError("this Idempotency-Key was used for another request")
            return done
    _check(uow, order, now)
    if uow.approvals.pending(kinds=[order.kind], subject=order.subject):
        raise InvalidRequestError(
            f"a {order.kind.value} request for {order.subject} is already waiting for approval"
        )
    request = ApprovalRequest.make(order, requested_by=user.name, reason=reason, at=now, key=key)
    try:
        uow.approvals.add(request)
    except DuplicateKey:
        raise IdempotencyConflictError("a concurrent request used this Idempotency-Key") from None
    uow.audit.append(
        user.name,
        f"{order.kind.value}.requested",
        order.subject,
        {"approval": request.request_id, "reason": reason},
        now,
    )
    return request


def _load(uow: UnitOfWork, request_id: int) -> ApprovalRequest:
    request = uow.approvals.get(request_id, lock=True)
    if request is None:
        raise NotFound(f"approval request {request_id} does not exist")
    return request


def approve(
    uow: UnitOfWork, user: User, request_id: int, *, now: datetime, comment: str = ""
) -> Outcome:
    """Approve and carry out (never the requester, never a maker of the case)."""
    request = _load(uow, request_id)
    require(user, APPROVAL_RIGHTS[request.kind.value])
    request.approve(by=user.name, at=now, comment=comment)
    result = _carry_out(uow, user, request, now)
    uow.approvals.save(request)
    uow.audit.append(
        user.name,
        f"{request.kind.value}.approved",
        request.subject,
        {"approval": request.request_id, "requested_by": request.requested_by, "result": result},
        now,
    )
    return Outcome(request, result)


def _carry_out(uow: UnitOfWork, user: User, request: ApprovalRequest, now: datetime) -> str:
    order = request.order
    if isinstance(order, DrawdownOrder):
        return f"loan:{lines.disburse_drawdown(uow, user, request, order, now).loan_id}"
    if isinstance(order, WriteOffOrder):
        entry_id = servicing.write_off(uow, user, request, order, now)
        if order.case_id:
            collections.write_off_done(uow, order.case_id, business_date(uow, now))
        return entry_id
    if isinstance(order, LegalActionOrder):
        return collections.legal_action_approved(
            uow, user, request, order, now, business_date(uow, now)
        )
    if isinstance(order, ReversalOrder):
        return servicing.reverse_write_off(uow, user, request, order, now)
    if isinstance(order, BackValuedReceiptOrder):
        return recompute.book_back_valued(uow, user, request, order, now).entry_id
    if isinstance(order, LineReductionOrder):
        return f"line:{lines.reduce_approved(uow, user, request, order, now).line_id}"
    if isinstance(order, LimitReviewOrder):
        return f"line:{lines.adjust_approved(uow, user, request, order, now).line_id}"
    if isinstance(order, CallInOrder):
        return servicing.call_in_approved(uow, user, request, order, now)
    if isinstance(order, RestructureOrder):
        return servicing.restructure_approved(uow, user, request, order, now)
    return f"user:{user_admin.grant(uow, user, request, order, now).name}"


def reject(uow: UnitOfWork, user: User, request_id: int, *, now: datetime, comment: str) -> Outcome:
    """Reject with a comment; a drawdown's reservation goes back to the line."""
    if not comment.strip():
        raise InvalidRequestError("a rejection needs a comment")
    request = _load(uow, request_id)
    require(user, APPROVAL_RIGHTS[request.kind.value])
    request.reject(by=user.name, at=now, comment=comment)
    _release(uow, request, now, comment)
    uow.approvals.save(request)
    uow.audit.append(
        user.name,
        f"{request.kind.value}.rejected",
        request.subject,
        {"approval": request.request_id, "comment": comment},
        now,
    )
    return Outcome(request, "rejected")


def cancel(uow: UnitOfWork, user: User, request_id: int, *, now: datetime) -> Outcome:
    """The requester withdraws a pending request."""
    request = _load(uow, request_id)
    request.cancel(by=user.name, at=now)
    _release(uow, request, now, "cancelled")
    uow.approvals.save(request)
    uow.audit.append(
        user.name,
        f"{request.kind.value}.cancelled",
        request.subject,
        {"approval": request.request_id},
        now,
    )
    return Outcome(request, "cancelled")


def _release(uow: UnitOfWork, request: ApprovalRequest, now: datetime, reason: str) -> None:
    if isinstance(request.order, DrawdownOrder):
        lines.release_drawdown(uow, request.order, business_date(uow, now), reason)
    elif isinstance(request.order, LegalActionOrder | WriteOffOrder) and request.order.case_id:
        collections.escalation_ended(uow, request.order.case_id)


def pending_for(uow: UnitOfWork, user: User) -> list[ApprovalRequest]:
    """Requests waiting that this user may decide (holds the right, is not party to them), and
    the user's own pending requests."""
    kinds = [k for k in ApprovalKind if may(user, APPROVAL_RIGHTS[k.value])]
    mine = [r for r in uow.approvals.pending() if r.requested_by == user.name]
    theirs = (
        [r for r in uow.approvals.pending(kinds=kinds) if r.may_approve(user.name)] if kinds else []
    )
    seen = {r.request_id for r in theirs}
    return theirs + [r for r in mine if r.request_id not in seen]


def get_request(uow: UnitOfWork, user: User, request_id: int) -> ApprovalRequest:
    """One request (its parties, those who may decide it, and readers of the book)."""
    request = uow.approvals.get(request_id)
    if request is None:
        raise NotFound(f"approval request {request_id} does not exist")
    if request.requested_by != user.name and not (
        may(user, APPROVAL_RIGHTS[request.kind.value]) or may(user, Action.READ_BOOK)
    ):
        raise AccessDeniedError(
            "this request is not yours to see", user=user.name, action="read_approval"
        )
    return request
