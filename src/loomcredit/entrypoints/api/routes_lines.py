"""Routes: credit lines (授信额度), drawdowns (用信) and the approvals queue (双人复核)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from loomcredit.entrypoints.api import views
from loomcredit.entrypoints.api.deps import CurrentUser, Id, IdempotencyKey, Svc, Uow
from loomcredit.entrypoints.api.errors import ERRORS
from loomcredit.entrypoints.api.schemas import (
    AsOfIn,
    CommentIn,
    DecisionIn,
    DrawdownIn,
    MoneyIn,
    ReasonIn,
    ReduceIn,
)
from loomcredit.service_layer import approvals, limit_review, lines
from loomcredit.service_layer.eod import business_date

router = APIRouter(prefix="/api/v1", responses=ERRORS)


@router.get("/lines", tags=["lines"], summary="Credit lines 授信额度")
def list_lines(user: CurrentUser, svc: Svc, uow: Uow) -> list[dict[str, Any]]:
    """Lines visible to the user, with what is available on the business date."""
    return [views.line(v) for v in lines.list_lines(uow, user, now=svc.clock())]


@router.get("/lines/{line_id}", tags=["lines"], summary="One credit line with its loans")
def get_line(line_id: Id, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """A line, its availability and the loans drawn on it."""
    return views.line(lines.get_line(uow, user, line_id, now=svc.clock()))


@router.get(
    "/lines/{line_id}/plan", tags=["lines"], summary="Drawdown schedule preview 还款计划试算"
)
def plan(
    line_id: Id,
    user: CurrentUser,
    svc: Svc,
    uow: Uow,
    amount: Annotated[str, Query(pattern=r"^\d{1,13}(\.\d{1,2})?$", examples=["100000.00"])],
) -> dict[str, Any]:
    """The schedule a drawdown of ``amount`` on the business date would be booked on."""
    money = MoneyIn(amount=amount).money()
    return views.plan(lines.drawdown_plan(uow, user, line_id, money, now=svc.clock()))


@router.post(
    "/lines/{line_id}/drawdowns",
    status_code=202,
    tags=["lines"],
    summary="Request a drawdown 用信申请 (disbursed once approved)",
)
def drawdown(
    line_id: Id, body: DrawdownIn, key: IdempotencyKey, user: CurrentUser, svc: Svc, uow: Uow
) -> dict[str, Any]:
    """Reserve the amount on the line and ask for the disbursement to be approved; the same
    Idempotency-Key returns the same request."""
    req = lines.request_drawdown(uow, user, line_id, body.amount.money(), key=key, now=svc.clock())
    uow.commit()
    return views.approval(req)


@router.post("/lines/{line_id}/freeze", tags=["lines"], summary="Freeze 冻结额度")
def freeze(line_id: Id, body: ReasonIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Freeze the undrawn limit (risk manager)."""
    now = svc.clock()
    line = lines.freeze_line(uow, user, line_id, reason=body.reason, now=now)
    uow.commit()
    return views.bare_line(line, business_date(uow, now))


@router.post("/lines/{line_id}/unfreeze", tags=["lines"], summary="Unfreeze 解冻额度")
def unfreeze(line_id: Id, body: ReasonIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Lift a freeze (risk manager)."""
    now = svc.clock()
    line = lines.unfreeze_line(uow, user, line_id, reason=body.reason, now=now)
    uow.commit()
    return views.bare_line(line, business_date(uow, now))


@router.post("/lines/{line_id}/reduce", tags=["lines"], summary="Reduce 压降额度")
def reduce(line_id: Id, body: ReduceIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Lower the limit (risk manager)."""
    now = svc.clock()
    line = lines.reduce_line(uow, user, line_id, body.limit.money(), reason=body.reason, now=now)
    uow.commit()
    return views.bare_line(line, business_date(uow, now))


@router.get("/approvals", tags=["approvals"], summary="Approvals waiting 待审批")
def pending(user: CurrentUser, uow: Uow) -> list[dict[str, Any]]:
    """Requests this user may decide, and the user's own pending requests."""
    return [views.approval(r) for r in approvals.pending_for(uow, user)]


@router.get("/approvals/{request_id}", tags=["approvals"], summary="One approval request")
def get_approval(request_id: Id, user: CurrentUser, uow: Uow) -> dict[str, Any]:
    """A request and its decision."""
    return views.approval(approvals.get_request(uow, user, request_id))


@router.post("/approvals/{request_id}/approve", tags=["approvals"], summary="Approve 批准")
def approve(
    request_id: Id, body: DecisionIn, user: CurrentUser, svc: Svc, uow: Uow
) -> dict[str, Any]:
    """Approve and carry out (never the requester, never a maker of the case)."""
    out = approvals.approve(uow, user, request_id, now=svc.clock(), comment=body.comment)
    uow.commit()
    return views.approval(out.request, out.result)


@router.post("/approvals/{request_id}/reject", tags=["approvals"], summary="Reject 拒绝")
def reject(
    request_id: Id, body: CommentIn, user: CurrentUser, svc: Svc, uow: Uow
) -> dict[str, Any]:
    """Reject with a comment (a drawdown's reservation goes back to the line)."""
    out = approvals.reject(uow, user, request_id, now=svc.clock(), comment=body.comment)
    uow.commit()
    return views.approval(out.request, out.result)


@router.post("/approvals/{request_id}/cancel", tags=["approvals"], summary="Withdraw 撤回")
def cancel(request_id: Id, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """The requester withdraws a pending request."""
    out = approvals.cancel(uow, user, request_id, now=svc.clock())
    uow.commit()
    return views.approval(out.request, out.result)


@router.post(
    "/admin/limit-review", tags=["lines"], summary="Monthly limit review 额度动态调整"
)
def run_limit_review(body: AsOfIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Review every open line as of a date (default: the business date) for the coming month:
    a change within the policy's band applies itself, a larger one is proposed under /approvals
    with its build-up; a line already reviewed for the month is left as it is."""
    now = svc.clock()
    run = limit_review.review_limits(
        uow, user, svc.decider, svc.review_policy(),
        as_of=body.as_of or business_date(uow, now), now=now,
    )  # fmt: skip
    uow.commit()
    return views.review_run(run)


@router.get("/limit-reviews", tags=["lines"], summary="Limit reviews 额度复核记录")
def list_reviews(
    user: CurrentUser,
    uow: Uow,
    month: Annotated[
        str | None, Query(pattern=r"^(19|20)\d{2}-(0[1-9]|1[0-2])$", examples=["2026-04"])
    ] = None,
    line_id: Annotated[int | None, Query(ge=1)] = None,
) -> list[dict[str, Any]]:
    """The reviews made, newest month first (of a month ``YYYY-MM``, or of a line)."""
    first = date.fromisoformat(f"{month}-01") if month else None
    return [
        views.limit_review(r)
        for r in limit_review.reviews(uow, user, month=first, line_id=line_id)
    ]
