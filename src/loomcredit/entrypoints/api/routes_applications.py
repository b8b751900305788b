"""Routes: sign-in, applications, the review queue, the contract and signing it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from loomcredit.adapters.security import issue_token, verify_password
from loomcredit.entrypoints.api import views
from loomcredit.entrypoints.api.deps import CurrentUser, Id, Svc, Uow
from loomcredit.entrypoints.api.errors import ERRORS
from loomcredit.entrypoints.api.schemas import (
    AcceptIn,
    ApplicationIn,
    HumanReviewIn,
    Login,
    RedecideIn,
    ResubmitIn,
    ReviewIn,
)
from loomcredit.service_layer import origination, user_admin
from loomcredit.service_layer.eod import business_date
from loomcredit.service_layer.users import UnauthenticatedError

router = APIRouter(prefix="/api/v1", responses=ERRORS)


@router.post("/auth/token", tags=["auth"], summary="Sign in 登录")
def token(body: Login, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Exchange a name and password for a bearer token with an expiry (both outcomes audited)."""
    now = svc.clock()
    try:
        account = user_admin.sign_in(uow, body.username, body.password, verify_password, now=now)
    except UnauthenticatedError:
        uow.commit()  # keep the failed sign-in's audit record
        raise
    uow.commit()
    tok = issue_token(
        account.name,
        account.role.value,
        svc.secret,
        now=now,
        ttl=svc.token_ttl,
        epoch=account.token_epoch,
    )
    return {
        "access_token": tok,
        "token_type": "bearer",
        "expires_in": int(svc.token_ttl.total_seconds()),
        "role": account.role.value,
    }


@router.post("/applications", status_code=201, tags=["applications"], summary="Apply 申请授信")
def create(body: ApplicationIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Create an application, decided at once as of the business date (another date needs a
    risk manager's right); its decision record is stored."""
    view = origination.create_application(
        uow,
        svc.decider,
        user,
        uscc=body.uscc,
        amount=body.amount.money(),
        term=body.term_months,
        method=body.method,
        as_of=body.as_of,
        now=svc.clock(),
        legal_rep_id=body.legal_rep_id,
    )
    uow.commit()
    return views.application_view(view)


@router.get("/applications", tags=["applications"], summary="List applications")
def list_(user: CurrentUser, uow: Uow) -> list[dict[str, Any]]:
    """Applications visible to the user (an applicant sees only its own enterprise)."""
    return [views.application(a, full=False) for a in origination.list_applications(uow, user)]


@router.get("/applications/{app_id}", tags=["applications"], summary="One application")
def get(app_id: Id, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """An application with its decision; PII masked by role (a full read is audited)."""
    view = origination.get_application(uow, user, app_id, now=svc.clock())
    uow.commit()
    return views.application_view(view)


@router.get("/review-queue", tags=["review"], summary="Review queue 审批队列")
def queue(user: CurrentUser, uow: Uow) -> list[dict[str, Any]]:
    """Applications waiting for a person."""
    return [views.application(a, full=False) for a in origination.review_queue(uow, user)]


@router.post("/applications/{app_id}/review", tags=["review"], summary="Approve / decline / return")
def review(app_id: Id, body: ReviewIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """A reviewer's verdict (maker-checker and approval authority enforced)."""
    approved = body.approved_amount.money() if body.approved_amount else None
    view = origination.review(
        uow, user, app_id, body.verdict, comment=body.comment, now=svc.clock(), approved=approved
    )
    uow.commit()
    return views.application_view(view)


@router.post(
    "/applications/{app_id}/resubmit", tags=["review"], summary="Resubmit a returned application"
)
def resubmit(app_id: Id, body: ResubmitIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Change a returned application and decide again; the changer cannot then review it."""
    view = origination.resubmit(
        uow,
        svc.decider,
        user,
        app_id,
        amount=body.amount.money() if body.amount else None,
        term=body.term_months,
        as_of=body.as_of,
        now=svc.clock(),
    )
    uow.commit()
    return views.application_view(view)


@router.post(
    "/applications/{app_id}/redecide",
    tags=["review"],
    summary="Decide again as of another date 按指定日期重新决策",
)
def redecide(app_id: Id, body: RedecideIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """A risk manager decides an application in review again as of another date, with a reason;
    it stays in review for another person."""
    view = origination.redecide(
        uow, svc.decider, user, app_id, as_of=body.as_of, reason=body.reason, now=svc.clock()
    )
    uow.commit()
    return views.application_view(view)


@router.post(
    "/applications/{app_id}/human-review", tags=["review"], summary="Ask for a person 申请人工复核"
)
def human_review(
    app_id: Id, body: HumanReviewIn, user: CurrentUser, svc: Svc, uow: Uow
) -> dict[str, Any]:
    """The applicant asks for a human review of the automated decision."""
    view = origination.request_review(uow, user, app_id, now=svc.clock(), reason=body.reason)
    uow.commit()
    return views.application_view(view)


@router.get("/applications/{app_id}/contract", tags=["contract"], summary="Contract 合同要素")
def contract(app_id: Id, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Amount, rate build-up, annualised rate, the plan and schedule of a drawdown of the whole
    amount on the business date, penalty uplift, allocation order."""
    return views.contract(origination.contract(uow, user, app_id, now=svc.clock()))


@router.post(
    "/applications/{app_id}/accept",
    status_code=201,
    tags=["contract"],
    summary="Accept the contract 签约 (opens the credit line)",
)
def accept(app_id: Id, body: AcceptIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """The applicant accepts the contract, naming its settlement account; the line opens."""
    now = svc.clock()
    line = origination.accept_contract(
        uow, user, app_id, settlement_account=body.settlement_account, now=now
    )
    uow.commit()
    return views.bare_line(line, business_date(uow, now))
