"""Routes: disbursement, loans, repayments, write-off and reversal, end of day, ledger, audit."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from loomcredit.bootstrap.service import add_user
from loomcredit.domain.errors import NotFound
from loomcredit.entrypoints.api.deps import CurrentUser, Id, IdempotencyKey, Svc, Uow, to_json
from loomcredit.entrypoints.api.errors import ERRORS
from loomcredit.entrypoints.api.schemas import (
    AsOfIn,
    IsoDate,
    RepaymentIn,
    ReversalIn,
    UserIn,
)
from loomcredit.service_layer import disbursement, eod, repayment
from loomcredit.service_layer.audit import verify_chain
from loomcredit.service_layer.origination import InvalidRequestError
from loomcredit.service_layer.unit_of_work import DuplicateKey
from loomcredit.service_layer.users import Action, Role, require, require_enterprise

router = APIRouter(prefix="/api/v1", responses=ERRORS)


@router.post(
    "/applications/{app_id}/disburse", status_code=201, tags=["loans"], summary="Disburse 放款"
)
def disburse(
    app_id: Id, body: AsOfIn, key: IdempotencyKey, user: CurrentUser, svc: Svc
) -> dict[str, Any]:
    """Disburse an accepted application exactly once per Idempotency-Key."""
    now = svc.clock()
    for attempt in range(3):
        with svc.uow() as uow:
            try:
                loan = disbursement.disburse(
                    uow,
                    user,
                    app_id,
                    key=key,
                    as_of=body.as_of or eod.business_date(uow, now),
                    now=now,
                )
                uow.commit()
                return to_json(loan)
            except disbursement.IdempotencyConflictError:
                if attempt == 2:
                    raise
                uow.rollback()
    raise NotFound("unreachable")  # pragma: no cover


@router.get("/loans", tags=["loans"], summary="Loans")
def loans(user: CurrentUser, uow: Uow) -> list[dict[str, Any]]:
    """Loans visible to the user."""
    require(user, Action.READ_LOAN)
    uscc = user.enterprise_uscc if user.role is Role.APPLICANT else None
    return [to_json(r) for r in uow.list_loans(uscc=uscc)]


@router.get("/loans/{loan_id}", tags=["loans"], summary="One loan with its schedule")
def loan(loan_id: Id, user: CurrentUser, uow: Uow) -> dict[str, Any]:
    """A loan, its instalments and state (DPD, bucket, grade)."""
    require(user, Action.READ_LOAN)
    row = uow.get_loan(loan_id)
    if row is None:
        raise NotFound(f"loan {loan_id} does not exist")
    require_enterprise(user, row["uscc"])
    return to_json({**row, "installments": uow.installments(loan_id)})


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
    not yet due, that principal, and the total to send as one ``early`` repayment."""
    return to_json(
        repayment.payoff_quote(uow, user, loan_id, on or eod.business_date(uow, svc.clock()))
    )


@router.post("/loans/{loan_id}/repayments", status_code=201, tags=["loans"], summary="Repay 还款")
def repay(
    loan_id: Id, body: RepaymentIn, key: IdempotencyKey, user: CurrentUser, svc: Svc
) -> dict[str, Any]:
    """Apply a repayment once per Idempotency-Key (waterfall; ``early`` prepays principal)."""
    now = svc.clock()
    with svc.uow() as uow:
        try:
            out = repayment.repay(
                uow,
                user,
                loan_id,
                body.amount.money(),
                key=key,
                received_on=body.received_on or eod.business_date(uow, now),
                now=now,
                early=body.early,
            )
            uow.commit()
        except DuplicateKey:
            uow.rollback()
            out = uow.get_repayment(key) or {}
    return to_json(out)


@router.post("/loans/{loan_id}/write-off", tags=["loans"], summary="Write off 核销")
def write_off(loan_id: Id, body: AsOfIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Write off the outstanding principal as an entry."""
    now = svc.clock()
    out = disbursement.write_off(
        uow, user, loan_id, as_of=body.as_of or eod.business_date(uow, now), now=now
    )
    uow.commit()
    return to_json(out)


@router.post("/loans/{loan_id}/reversals", tags=["loans"], summary="Reverse a write-off 冲正")
def reverse(loan_id: Id, body: ReversalIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Reverse a write-off with a mirror entry."""
    now = svc.clock()
    out = disbursement.reverse_write_off(
        uow, user, loan_id, body.entry_id, as_of=body.as_of or eod.business_date(uow, now), now=now
    )
    uow.commit()
    return to_json(out)


#: End of day runs for dates at most this far from today, and catches up at most this many days
#: per request: a typo such as 1026 for 2026 would otherwise move the business date a thousand
#: years back, or make one request run hundreds of thousands of days.
EOD_SPAN = timedelta(days=366)


@router.post("/admin/eod", tags=["admin"], summary="End of day 日终")
def run_eod(body: AsOfIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Run end of day for a date (idempotent), within a year of today (see EOD_SPAN)."""
    now = svc.clock()
    as_of = body.as_of or eod.business_date(uow, now)
    require(user, Action.RUN_EOD)
    today = now.date()
    last = uow.last_eod_date()
    # A typo in the year is caught against today only where no book date exists yet (or ahead
    # of the calendar): a book whose end of day has fallen behind catches up from its last date.
    if (last is None and abs(as_of - today) > EOD_SPAN) or as_of - today > EOD_SPAN:
        raise InvalidRequestError(
            f"as_of {as_of} is more than {EOD_SPAN.days} days from today ({today}); check the year"
        )
    return to_json(eod.run_eod(uow, user, as_of, now=now))


@router.get("/ledger/trial-balance", tags=["ledger"], summary="Trial balance 试算平衡")
def trial_balance(user: CurrentUser, uow: Uow) -> dict[str, Any]:
    """Balance per account; the total is zero."""
    require(user, Action.READ_BOOK)
    tb = uow.trial_balance()
    return {
        "accounts": {k: to_json({"b_fen": v})["b"] for k, v in tb.items()},
        "balanced": sum(tb.values()) == 0,
    }


@router.get("/outbox", tags=["loans"], summary="Reminders queued 提醒")
def outbox(user: CurrentUser, uow: Uow) -> list[dict[str, Any]]:
    """Reminders T-7/T-3/T-1."""
    require(user, Action.READ_OUTBOX)
    return [to_json(r) for r in uow.outbox()]


@router.get("/audit/verify", tags=["audit"], summary="Verify the audit chain")
def audit_verify(user: CurrentUser, uow: Uow) -> dict[str, Any]:
    """Recompute the hash chain."""
    require(user, Action.READ_AUDIT)
    rep = verify_chain(uow.audit_records())
    return {"ok": rep.ok, "records": rep.records, "first_bad": rep.first_bad, "reason": rep.reason}


@router.post("/users", status_code=201, tags=["admin"], summary="Add a user")
def users(body: UserIn, user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """Create a user (admin)."""
    require(user, Action.MANAGE_USERS)
    try:
        return add_user(svc, body.name, body.role, body.password, body.enterprise_uscc)
    except ValueError as exc:
        raise InvalidRequestError(str(exc)) from exc
    except DuplicateKey:
        from loomcredit.service_layer.disbursement import IdempotencyConflictError

        raise IdempotencyConflictError(f"user {body.name} exists") from None
