"""Use cases: applications, the decision, the review queue (maker-checker) and the contract."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from loomcredit.domain.errors import InvalidCode, LoanStateError, LoomError, NotFound
from loomcredit.domain.identity import mask_resident_id, parse_resident_id, parse_uscc
from loomcredit.domain.money import Money, Rate
from loomcredit.domain.schedule import Method
from loomcredit.domain.waterfall import DEFAULT_ORDER
from loomcredit.service_layer.loan_plan import approved_amount, loan_plan
from loomcredit.service_layer.service_ports import BANDS, Decider
from loomcredit.service_layer.unit_of_work import Row, UnitOfWork
from loomcredit.service_layer.users import (
    AccessDeniedError,
    Action,
    Role,
    User,
    can_approve,
    require,
    require_enterprise,
    show_resident_id,
)

RATE_QUANTUM = Decimal("0.000001")
DEFAULT_UPLIFT = "0.5"
MAX_TERM = 60
_BAND_STATUS = {"auto_approve": "approved", "review": "in_review", "decline": "declined"}


class InvalidRequestError(LoomError, ValueError):
    """A request whose values break a business rule; the message says what to fix."""


def contract_rate(text: str) -> Decimal:
    """The contract's annual rate, rounded once (half up) to 6 decimals."""
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise InvalidRequestError(f"annual rate {text!r} is not a decimal") from None
    if not value.is_finite() or value < 0 or value > Decimal("0.24"):
        raise InvalidRequestError("annual rate must be between 0 and 0.24")
    return value.quantize(RATE_QUANTUM, rounding=ROUND_HALF_UP)


def _check_request(amount: Money, term: int, as_of: date, now: datetime) -> None:
    """What every decision request must satisfy before the engine is asked."""
    if as_of > now.date():
        raise InvalidRequestError(
            f"as_of {as_of.isoformat()} is after today ({now.date().isoformat()}); "
            "a decision uses only data known on its date"
        )
    if not amount.is_positive() or amount.currency != "CNY":
        raise InvalidRequestError("amount must be a positive CNY amount")
    if not 1 <= term <= MAX_TERM:
        raise InvalidRequestError(f"term must be 1-{MAX_TERM} months")


def _decide(decider: Decider, uscc: str, amount: Money, term: int, method: str, as_of: date) -> Row:
    """Ask the engine and return the application fields its decision sets."""
    decision = decider(uscc, amount, term, method, as_of)
    band = str(decision.get("band"))
    if band not in BANDS:
        raise LoomError(f"the decision engine returned an unknown band {band!r}")
    return {
        "status": _BAND_STATUS[band],
        "band": band,
        "annual_rate": str(contract_rate(str(decision["annual_rate"]))),
        "approved_fen": amount.minor if band == "auto_approve" else None,
        "decision_json": json.dumps(decision, ensure_ascii=False, sort_keys=True, default=str),
        "as_of": as_of,
    }


def _audit_decision(uow: UnitOfWork, app_id: int, decided: Row, now: datetime) -> None:
    uow.audit(
        "decision-engine",
        "decision",
        f"application:{app_id}",
        {"band": decided["band"], "rate": decided["annual_rate"]},
        now,
    )


def create_application(
    uow: UnitOfWork,
    decider: Decider,
    user: User,
    *,
    uscc: str,
    amount: Money,
    term: int,
    method: str,
    as_of: date,
    now: datetime,
    legal_rep_id: str | None = None,
) -> Row:
    """Create an application, run the decision at once and store its record.

    Raises:
        AccessDeniedError: the role may not apply, or an applicant applies for another enterprise.
        InvalidRequestError: amount, term or method out of range.
        InvalidCode: a bad USCC.
    """
    require(user, Action.APPLY)
    code = parse_uscc(uscc).code
    require_enterprise(user, code)
    _check_request(amount, term, as_of, now)
    if legal_rep_id is not None:
        legal_rep_id = _resident_id(legal_rep_id, now.date())
    try:
        Method.parse(method)
    except (LoomError, ValueError):
        raise InvalidRequestError(
            f"unknown method {method!r}; use annuity, equal_principal or interest_only"
        ) from None
    decided = _decide(decider, code, amount, term, method, as_of)
    row = {
        "uscc": code,
        "legal_rep_id": legal_rep_id,
        "amount_fen": amount.minor,
        "currency": amount.currency,
        "term_months": term,
        "method": Method.parse(method).name.lower(),
        "penalty_uplift": DEFAULT_UPLIFT,
        **decided,
        "created_by": user.name,
        "updated_by": user.name,
        "created_at": now,
        "updated_at": now,
    }
    app_id = uow.add_application(row)
    uow.audit(
        user.name,
        "application.created",
        f"application:{app_id}",
        {"uscc": code, "amount_fen": amount.minor},
        now,
    )
    _audit_decision(uow, app_id, decided, now)
    return get_application(uow, user, app_id, now=now, audit_pii=False)


def _resident_id(raw: str, today: date) -> str:
    """A valid legal representative's resident ID, or a 422 that says why (ID masked)."""
    try:
        return parse_resident_id(raw, on=today).number
    except InvalidCode as exc:
        shown = mask_resident_id(raw) if len(raw) == 18 else "the value given"
        raise InvalidRequestError(
            f"legal_rep_id {shown} is not a valid resident ID: {exc.reason}"
        ) from None


def _engine_limit(row: Row) -> Money | None:
    """The limit the decision engine set, if its record says."""
    decision = json.loads(row["decision_json"]) if row.get("decision_json") else {}
    limit = decision.get("limit")
    return Money(int(limit), row["currency"]) if isinstance(limit, int) else None


def get_application(
    uow: UnitOfWork, user: User, app_id: int, *, now: datetime, audit_pii: bool = True
) -> Row:
    """An application as this user may see it (PII masked by role; a full read is audited)."""
    require(user, Action.READ_APPLICATION)
    row = uow.get_application(app_id)
    if row is None:
        raise NotFound(f"application {app_id} does not exist")
    require_enterprise(user, row["uscc"])
    shown, full = show_resident_id(user, row.get("legal_rep_id"))
    out = dict(row)
    out["legal_rep_id"] = shown
    out["decision"] = json.loads(out.pop("decision_json"))
    if full and audit_pii:
        uow.audit(user.name, "pii.read", f"application:{app_id}", {"field": "legal_rep_id"}, now)
    return out


def review_queue(uow: UnitOfWork, user: User) -> list[Row]:
    """Applications waiting for a human decision."""
    require(user, Action.REVIEW)
    return uow.list_applications(status="in_review")


def request_review(
    uow: UnitOfWork, user: User, app_id: int, *, now: datetime, reason: str = ""
) -> Row:
    """The applicant asks for a human review of an automated decision; it lands in the queue."""
    row = _own_app(uow, user, app_id, Action.APPLY)
    if row["status"] not in ("declined", "approved"):
        raise LoanStateError(
            f"application {app_id} is {row['status']}; only a decided one can be reviewed"
        )
    uow.update_application(
        app_id, status="in_review", approved_fen=None, updated_by=user.name, updated_at=now
    )
    uow.audit(user.name, "review.requested", f"application:{app_id}", {"reason": reason}, now)
    return get_application(uow, user, app_id, now=now, audit_pii=False)


def review(
    uow: UnitOfWork,
    user: User,
    app_id: int,
    verdict: str,
    *,
    comment: str,
    now: datetime,
    approved: Money | None = None,
) -> Row:
    """Approve, decline or return an application in the queue (maker-checker, authority).

    An approval is for ``approved`` (default: the amount asked), at most the amount asked and at
    most the decision engine's limit; only a risk manager may approve above that limit, as an
    exception with a comment (例外审批), and the audit record says so.
    """
    require(user, Action.REVIEW)
    row = uow.get_application(app_id, lock=True)
    if row is None:
        raise NotFound(f"application {app_id} does not exist")
    if row["status"] != "in_review":
        raise LoanStateError(f"application {app_id} is {row['status']}, not in review")
    if verdict not in ("approve", "decline", "return"):
        raise InvalidRequestError("verdict must be approve, decline or return")
    if user.name in (row["created_by"], row["updated_by"]):
        raise AccessDeniedError(
            "maker-checker: the creator or last modifier cannot review this application"
        )
    detail: dict[str, Any] = {"comment": comment}
    fields: dict[str, Any] = {}
    if verdict == "approve":
        amount = _check_approval(user, row, approved, comment)
        limit = _engine_limit(row)
        fields["approved_fen"] = amount.minor
        detail |= {
            "asked_fen": row["amount_fen"],
            "approved_fen": amount.minor,
            "limit_fen": None if limit is None else limit.minor,
            "exception": limit is not None and amount > limit,
        }
    status = {"approve": "approved", "decline": "declined", "return": "returned"}[verdict]
    uow.update_application(
        app_id,
        status=status,
        reviewed_by=user.name,
        review_comment=comment,
        updated_at=now,
        **fields,
    )
    uow.audit(user.name, f"review.{verdict}", f"application:{app_id}", detail, now)
    return get_application(uow, user, app_id, now=now, audit_pii=False)


def _check_approval(user: User, row: Row, approved: Money | None, comment: str) -> Money:
    asked = Money(row["amount_fen"], row["currency"])
    amount = asked if approved is None else approved
    if amount.currency != asked.currency or not amount.is_positive() or amount > asked:
        raise InvalidRequestError(
            f"approved_amount must be a positive {asked.currency} amount "
            f"no larger than the {asked.format()} asked"
        )
    limit = _engine_limit(row)
    exception = limit is not None and amount > limit
    if exception and (user.role is not Role.RISK_MANAGER or not comment.strip()):
        raise InvalidRequestError(
            f"the decision limit is {limit.format() if limit else '-'}, below the "
            f"{amount.format()} to approve; approve an approved_amount no larger than the limit,"
            " or a risk manager approves an exception with a comment"
        )
    if not can_approve(user, amount):
        raise AccessDeniedError(
            f"approval authority of {user.role.value} does not cover {amount.format()}"
        )
    return amount


def resubmit(
    uow: UnitOfWork,
    decider: Decider,
    user: User,
    app_id: int,
    *,
    amount: Money | None,
    term: int | None,
    as_of: date,
    now: datetime,
) -> Row:
    """Change a returned application (amount, term) and decide again; the changer becomes the
    last modifier, so maker-checker keeps them from reviewing it."""
    require(user, Action.APPLY)
    row = uow.get_application(app_id, lock=True)
    if row is None:
        raise NotFound(f"application {app_id} does not exist")
    require_enterprise(user, row["uscc"])
    if row["status"] != "returned":
        raise LoanStateError(
            f"application {app_id} is {row['status']}; only a returned one can be resubmitted"
        )
    asked = amount or Money(row["amount_fen"], row["currency"])
    months = term or int(row["term_months"])
    _check_request(asked, months, as_of, now)
    decided = _decide(decider, row["uscc"], asked, months, row["method"], as_of)
    uow.update_application(
        app_id,
        amount_fen=asked.minor,
        term_months=months,
        **decided,
        updated_by=user.name,
        updated_at=now,
    )
    uow.audit(
        user.name,
        "application.resubmitted",
        f"application:{app_id}",
        {"amount_fen": asked.minor, "term_months": months},
        now,
    )
    _audit_decision(uow, app_id, decided, now)
    return get_application(uow, user, app_id, now=now, audit_pii=False)


def contract(uow: UnitOfWork, user: User, app_id: int, *, as_of: date, now: datetime) -> Row:
    """The contract offered for a loan starting on ``as_of``: amount, rate build-up, annualised
    rate, the repayment plan (the decision's when it suggested one: method, seasonal and why) and
    its schedule, penalty, allocation order. Disbursing on the same date books this schedule."""
    row = get_application(uow, user, app_id, now=now, audit_pii=False)
    rate = Rate(row["annual_rate"])
    amount = approved_amount(row)
    plan = loan_plan(row, as_of)
    sched = plan.schedule
    decision: dict[str, Any] = row["decision"]
    return {
        "application_id": app_id,
        "amount": amount,
        "amount_asked": Money(row["amount_fen"], row["currency"]),
        "annual_rate": row["annual_rate"],
        "annual_rate_percent": rate.percent(2),
        "rate_build_up": decision.get("rate_build_up", {"annual_rate": row["annual_rate"]}),
        "method": plan.method.value,
        "method_zh": plan.label_zh,
        "plan": {
            "method": plan.method.value,
            "label_zh": plan.label_zh,
            "seasonal": plan.seasonal,
            "reason_zh": plan.reason_zh,
            "reason_en": plan.reason_en,
            "from_decision": plan.from_decision,
        },
        "method_asked": row["method"],
        "start_date": as_of,
        "term_months": row["term_months"],
        "penalty_uplift": row["penalty_uplift"],
        "penalty_rate_percent": rate.uplift(Decimal(row["penalty_uplift"])).percent(2),
        "allocation_order": {
            "version": DEFAULT_ORDER.version,
            "components": [c.value for c in DEFAULT_ORDER.components],
            "clause": DEFAULT_ORDER.clause,
        },
        "total_interest": sched.total_interest,
        "schedule": [
            {
                "number": i.number,
                "due_on": i.due_on,
                "principal": i.principal,
                "interest": i.interest,
                "payment": i.payment,
                "balance_after": i.balance_after,
            }
            for i in sched.installments
        ],
        "status": row["status"],
    }


def accept_contract(uow: UnitOfWork, user: User, app_id: int, *, now: datetime) -> Row:
    """The applicant (only) accepts the contract of an approved application."""
    require(user, Action.ACCEPT_CONTRACT)
    row = _own_app(uow, user, app_id, Action.ACCEPT_CONTRACT)
    if row["status"] != "approved":
        raise LoanStateError(
            f"application {app_id} is {row['status']}; only an approved one can be accepted"
        )
    uow.update_application(app_id, status="accepted", updated_by=user.name, updated_at=now)
    uow.audit(user.name, "contract.accepted", f"application:{app_id}", {}, now)
    return get_application(uow, user, app_id, now=now, audit_pii=False)


def _own_app(uow: UnitOfWork, user: User, app_id: int, action: Action) -> Row:
    require(user, action)
    if user.role is not Role.APPLICANT:
        raise AccessDeniedError("only the applicant enterprise may do this")
    row = uow.get_application(app_id, lock=True)
    if row is None:
        raise NotFound(f"application {app_id} does not exist")
    require_enterprise(user, row["uscc"])
    return row
