"""Routes: sign-in, applications, the review queue, the contract."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from loomcredit.adapters.security import issue_token, verify_password
from loomcredit.entrypoints.api.deps import CurrentUser, Id, Svc, Uow, to_json
from loomcredit.entrypoints.api.errors import ERRORS
from loomcredit.entrypoints.api.schemas import (
    ApplicationIn,
    AsOfIn,
    HumanReviewIn,
    Login,
    ResubmitIn,
    ReviewIn,
)
from loomcredit.service_layer import eod, origination
from loomcredit.service_layer.users import Action, Role, UnauthenticatedError, require

router = APIRouter(prefix="/api/v1", responses=ERRORS)


@router.post("/auth/token", tags=["auth"], summary="Sign in 登录")
def token(body: Login, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Exchange a name and password for a bearer token with an expiry."""
    row = uow.get_user(body.username)
    if row is None or not verify_password(row["password_hash"], body.password):
        raise UnauthenticatedError("wrong user name or password")
    now = svc.clock()
    tok = issue_token(row["name"], row["role"], svc.secret, now=now, ttl=svc.token_ttl)
    return {
        "access_token": tok,
        "token_type": "bearer",
        "expires_in": int(svc.token_ttl.total_seconds()),
        "role": row["role"],
    }


@router.post("/applications", status_code=201, tags=["applications"], summary="Apply 申请授信")
def create(body: ApplicationIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Create an application; the decision engine runs at once and its record is stored."""
    now = svc.clock()
    row = origination.create_application(
        uow,
        svc.decider,
        user,
        uscc=body.uscc,
        amount=body.amount.money(),
        term=body.term_months,
        method=body.method,
        as_of=body.as_of or eod.business_date(uow, now),
        now=now,
        legal_rep_id=body.legal_rep_id,
    )
    uow.commit()
    return to_json(row)


@router.get("/applications", tags=["applications"], summary="List applications")
def list_(user: CurrentUser, uow: Uow) -> list[dict[str, Any]]:
    """Applications visible to the user (an applicant sees only its own enterprise)."""
    require(user, Action.READ_APPLICATION)
    uscc = user.enterprise_uscc if user.role is Role.APPLICANT else None
    rows = uow.list_applications(uscc=uscc)
    return [
        to_json({k: v for k, v in r.items() if k not in ("decision_json", "legal_rep_id")})
        for r in rows
    ]


@router.get("/applications/{app_id}", tags=["applications"], summary="One application")
def get(app_id: Id, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """An application with its decision; PII masked by role (a full read is audited)."""
    row = origination.get_application(uow, user, app_id, now=svc.clock())
    uow.commit()
    return to_json(row)


@router.get("/review-queue", tags=["review"], summary="Review queue 审批队列")
def queue(user: CurrentUser, uow: Uow) -> list[dict[str, Any]]:
    """Applications waiting for a person."""
    rows = origination.review_queue(uow, user)
    return [
        to_json({k: v for k, v in r.items() if k not in ("decision_json", "legal_rep_id")})
        for r in rows
    ]


@router.post("/applications/{app_id}/review", tags=["review"], summary="Approve / decline / return")
def review(app_id: Id, body: ReviewIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """A reviewer's verdict (maker-checker and approval authority enforced)."""
    approved = body.approved_amount.money() if body.approved_amount else None
    row = origination.review(
        uow, user, app_id, body.verdict, comment=body.comment, now=svc.clock(), approved=approved
    )
    uow.commit()
    return to_json(row)


@router.post(
    "/applications/{app_id}/resubmit", tags=["review"], summary="Resubmit a returned application"
)
def resubmit(app_id: Id, body: ResubmitIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Change a returned application and decide again; the changer cannot then review it."""
    now = svc.clock()
    row = origination.resubmit(
        uow,
        svc.decider,
        user,
        app_id,
        amount=body.amount.money() if body.amount else None,
        term=body.term_months,
        as_of=body.as_of or eod.business_date(uow, now),
        now=now,
    )
    uow.commit()
    return to_json(row)


@router.post(
    "/applications/{app_id}/human-review", tags=["review"], summary="Ask for a person 申请人工复核"
)
def human_review(
    app_id: Id, body: HumanReviewIn, user: CurrentUser, svc: Svc, uow: Uow
) -> dict[str, Any]:
    """The applicant asks for a human review of the automated decision."""
    row = origination.request_review(uow, user, app_id, now=svc.clock(), reason=body.reason)
    uow.commit()
    return to_json(row)


@router.get("/applications/{app_id}/contract", tags=["contract"], summary="Contract 合同要素")
def contract(app_id: Id, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Amount, rate build-up, annualised rate, schedule, penalty uplift, allocation order."""
    now = svc.clock()
    return to_json(
        origination.contract(uow, user, app_id, as_of=eod.business_date(uow, now), now=now)
    )


@router.post("/applications/{app_id}/accept", tags=["contract"], summary="Accept the contract 签约")
def accept(app_id: Id, body: AsOfIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """The applicant accepts the contract."""
    row = origination.accept_contract(uow, user, app_id, now=svc.clock())
    uow.commit()
    return to_json(row)
