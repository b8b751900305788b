"""Routes: loans, the payoff quote, early repayment requests, receipts, and the requests for a
write-off, a reversal, a back-valued receipt or a restructuring (each approved by a second
person)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from loomcredit.domain.approval import BackValuedReceiptOrder, ReversalOrder, WriteOffOrder
from loomcredit.domain.restructuring import RestructureKind, RestructurePlan
from loomcredit.domain.schedule import Method
from loomcredit.entrypoints.api import views
from loomcredit.entrypoints.api.deps import CurrentUser, Id, Svc, Uow
from loomcredit.entrypoints.api.errors import ERRORS
from loomcredit.entrypoints.api.schemas import (
    BackValuedIn,
    IsoDate,
    PrepaymentIn,
    ReasonIn,
    RestructureIn,
    ReversalIn,
)
from loomcredit.service_layer import approvals, servicing
from loomcredit.service_layer.restructuring import propose_restructure

router = APIRouter(prefix="/api/v1", responses=ERRORS)


@router.get("/loans", tags=["loans"], summary="Loans 用信")
def loans(user: CurrentUser, uow: Uow) -> list[dict[str, Any]]:
    """Loans visible to the user."""
    return [views.loan(x, schedule=False) for x in servicing.list_loans(uow, user)]


@router.get("/loans/{loan_id}", tags=["loans"], summary="One loan with its schedule")
def loan(loan_id: Id, user: CurrentUser, uow: Uow) -> dict[str, Any]:
    """A loan, its instalments and state (DPD, bucket, grade)."""
    return views.loan(servicing.get_loan(uow, user, loan_id))


@router.get("/loans/{loan_id}/receipts", tags=["loans"], summary="Receipts booked 还款记录")
def receipts(loan_id: Id, user: CurrentUser, uow: Uow) -> list[dict[str, Any]]:
    """What the bank received for the loan, as booked."""
    return [views.receipt(r) for r in servicing.receipts(uow, user, loan_id)]


@router.get("/loans/{loan_id}/payoff", tags=["loans"], summary="Payoff quote 提前还款试算")
def payoff(
    loan_id: Id,
    user: CurrentUser,
    svc: Svc,
    uow: Uow,
    on: Annotated[
        IsoDate | None,
        Query(description="day of repayment, YYYY-MM-DD (default: the business date)"),
    ] = None,
) -> dict[str, Any]:
    """What repaying the whole loan on a day costs: due now, interest to date on the principal
    not yet due, that principal, and the total."""
    q = servicing.payoff_quote(uow, user, loan_id, now=svc.clock(), on=on)
    return views.quote(q, loan_id)


@router.post(
    "/loans/{loan_id}/prepayment-requests",
    status_code=201,
    tags=["loans"],
    summary="Ask to repay early 提前还款申请",
)
def prepayment(
    loan_id: Id, body: PrepaymentIn, user: CurrentUser, svc: Svc, uow: Uow
) -> dict[str, Any]:
    """Quoted at once; settled when the money arrives from the bank (never posted here)."""
    request, q = servicing.request_prepayment(
        uow,
        user,
        loan_id,
        now=svc.clock(),
        principal=body.principal.money() if body.principal else None,
        on=body.on,
    )
    uow.commit()
    return views.prepayment(request, q)


@router.post(
    "/loans/{loan_id}/write-off",
    status_code=202,
    tags=["loans"],
    summary="Request a write-off 核销",
)
def write_off(loan_id: Id, body: ReasonIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Ask for the loan to be written off; a second risk manager approves."""
    req = approvals.request_approval(
        uow, user, WriteOffOrder(loan_id), reason=body.reason, now=svc.clock()
    )
    uow.commit()
    return views.approval(req)


@router.post(
    "/loans/{loan_id}/reversals",
    status_code=202,
    tags=["loans"],
    summary="Request the reversal of a write-off 冲正",
)
def reverse(loan_id: Id, body: ReversalIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Ask for a write-off entry to be reversed; a risk manager approves."""
    req = approvals.request_approval(
        uow, user, ReversalOrder(loan_id, body.entry_id), reason=body.reason, now=svc.clock()
    )
    uow.commit()
    return views.approval(req)


@router.post(
    "/loans/{loan_id}/back-valued-receipts",
    status_code=202,
    tags=["loans"],
    summary="Request a back-valued receipt 倒起息",
)
def back_valued(
    loan_id: Id, body: BackValuedIn, user: CurrentUser, svc: Svc, uow: Uow
) -> dict[str, Any]:
    """A receipt whose value date is a closed day: booked today with that value date and the
    loan recomputed, once a second risk manager approves."""
    order = BackValuedReceiptOrder(
        loan_id, body.amount.money(), body.value_date, body.bank_ref, body.statement_line_id or 0
    )
    req = approvals.request_approval(uow, user, order, reason=body.reason, now=svc.clock())
    uow.commit()
    return views.approval(req)


@router.post(
    "/loans/{loan_id}/restructure",
    status_code=202,
    tags=["loans"],
    summary="Propose a restructuring 展期 / 调整还款计划",
)
def restructure(
    loan_id: Id, body: RestructureIn, user: CurrentUser, svc: Svc, uow: Uow
) -> dict[str, Any]:
    """A collector, customer manager or risk manager proposes; a risk manager who did not ask
    approves under /approvals, which applies it on that business date (new schedule, watch
    period). The answer previews what it would do today."""
    plan = RestructurePlan(
        RestructureKind(body.kind),
        body.months,
        body.first_due,
        Method(body.method) if body.method else None,
    )
    prop = propose_restructure(uow, user, loan_id, plan, reason=body.reason, now=svc.clock())
    uow.commit()
    return {**views.approval(prop.request), "preview": views.restructured(prop.preview)}
