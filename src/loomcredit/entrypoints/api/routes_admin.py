"""Routes: end of day, users and role grants, the ledger, the outbox, the audit chain."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from loomcredit.adapters.security import hash_password
from loomcredit.domain.approval import RoleGrantOrder
from loomcredit.entrypoints.api import views
from loomcredit.entrypoints.api.deps import CurrentUser, Svc, Uow
from loomcredit.entrypoints.api.errors import ERRORS
from loomcredit.entrypoints.api.schemas import EodIn, ReasonIn, RoleIn, Text, UserIn
from loomcredit.service_layer import approvals, audit_admin, eod, monitoring, user_admin
from loomcredit.service_layer.users import Action, require

router = APIRouter(prefix="/api/v1", responses=ERRORS)


@router.post("/admin/eod", tags=["admin"], summary="End of day 日终")
def run_eod(body: EodIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Run end of day up to a date (idempotent; never a date after today); with ``monitor``,
    then the warning rules as of that date once the book is closed, and on a month end the
    monthly limit review for the coming month."""
    now = svc.clock()
    as_of = body.as_of or eod.business_date(uow, now)
    if not body.monitor:
        return views.eod_run(eod.run_eod(uow, user, as_of, now=now, notices=svc.notice_policy(),
                                         cases_policy=svc.collections_policy()))  # fmt: skip
    features, rules = svc.monitoring()
    closed, run, reviewed = monitoring.close_and_monitor(
        uow, user, features, rules, as_of, now=now, review=(svc.decider, svc.review_policy()),
        notices=svc.notice_policy(), cases_policy=svc.collections_policy(),
    )  # fmt: skip
    out = {**views.eod_run(closed), "monitor": views.monitor_run(run)}
    if reviewed is not None:
        out["limit_review"] = views.review_run(reviewed)
    return out


@router.get("/admin/business-date", tags=["admin"], summary="Business date 营业日期")
def business_day(user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """The date new work is booked on, and the last end of day."""
    last = uow.book.last_eod_date()
    return {
        "business_date": eod.business_date(uow, svc.clock()).isoformat(),
        "last_eod": None if last is None else last.isoformat(),
    }


@router.get("/users", tags=["admin"], summary="Users")
def users(user: CurrentUser, uow: Uow) -> list[dict[str, Any]]:
    """Every user (admin)."""
    return [views.user(u) for u in user_admin.list_users(uow, user)]


@router.post("/users", status_code=202, tags=["admin"], summary="Ask for a new user 授权申请")
def add_user(body: UserIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """A new user with a role is a grant: another admin approves it before the user exists."""
    order = RoleGrantOrder(body.name, body.role, body.enterprise_uscc, hash_password(body.password))
    req = approvals.request_approval(uow, user, order, reason=body.reason, now=svc.clock())
    uow.commit()
    return views.approval(req)


@router.post("/users/{name}/role", status_code=202, tags=["admin"], summary="Ask for a role change")
def change_role(name: Text, body: RoleIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """A role change is a grant too (approved by another admin; the user's tokens then stop)."""
    order = RoleGrantOrder(name, body.role, body.enterprise_uscc)
    req = approvals.request_approval(uow, user, order, reason=body.reason, now=svc.clock())
    uow.commit()
    return views.approval(req)


@router.post("/users/{name}/disable", tags=["admin"], summary="Disable a user 停用")
def disable(name: Text, body: ReasonIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Disable at once: the user's tokens stop working."""
    out = user_admin.disable_user(uow, user, name, reason=body.reason, now=svc.clock())
    uow.commit()
    return views.user(out)


@router.get("/ledger/trial-balance", tags=["ledger"], summary="Trial balance 试算平衡")
def trial_balance(user: CurrentUser, uow: Uow) -> dict[str, Any]:
    """Balance per account; the total is zero."""
    require(user, Action.READ_BOOK)
    tb = uow.ledger.trial_balance()
    return {
        "accounts": {a.name: views.money(m) for a, m in sorted(tb.items())},
        "balanced": sum(m.minor for m in tb.values()) == 0,
    }


@router.get("/outbox", tags=["loans"], summary="Reminders queued 提醒")
def outbox(user: CurrentUser, uow: Uow) -> list[dict[str, Any]]:
    """Reminders T-7/T-3/T-1."""
    require(user, Action.READ_OUTBOX)
    return [
        {
            "loan_id": q.reminder.loan_id,
            "installment": q.reminder.installment,
            "kind": q.reminder.kind,
            "due_on": q.reminder.due_on.isoformat(),
            "created_for": q.created_for.isoformat(),
        }
        for q in uow.book.reminders()
    ]


@router.get("/audit/verify", tags=["audit"], summary="Verify the audit chain")
def audit_verify(user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Recompute the keyed chain and check its sealed head."""
    rep = audit_admin.verify(uow, user, svc.audit_key)
    return {"ok": rep.ok, "records": rep.records, "first_bad": rep.first_bad, "reason": rep.reason}
