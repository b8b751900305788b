"""Use cases: applications, the decision, the review queue (maker-checker), the contract, and
signing it (签约), which opens the credit line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from loomcredit.domain.application import Application, ApplicationStatus, Verdict
from loomcredit.domain.credit_line import CreditLine, LineKind, LineTerms
from loomcredit.domain.daycount import add_months
from loomcredit.domain.decision.outcome import CreditDecision
from loomcredit.domain.decision.policy import ProductKind
from loomcredit.domain.errors import InvalidCode, LoanStateError, LoomError, NotFound
from loomcredit.domain.identity import mask_resident_id, parse_resident_id, parse_uscc
from loomcredit.domain.money import Money
from loomcredit.domain.payments import parse_account
from loomcredit.domain.schedule import Method
from loomcredit.service_layer.decisioning import DecisionRequest
from loomcredit.service_layer.eod import business_date
from loomcredit.service_layer.errors import InvalidRequestError
from loomcredit.service_layer.loan_plan import LoanPlan, loan_plan
from loomcredit.service_layer.service_ports import Decider
from loomcredit.service_layer.unit_of_work import UnitOfWork
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
DEFAULT_UPLIFT = Decimal("0.5")
MAX_TERM = 60


def contract_rate(value: Decimal) -> Decimal:
    """The contract's annual rate, rounded once (half up) to 6 decimals, within 0–24 %."""
    if not value.is_finite() or value < 0 or value > Decimal("0.24"):
        raise LoomError(f"the decision engine offered an annual rate of {value}, outside 0-24 %")
    return value.quantize(RATE_QUANTUM, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class ApplicationView:
    """An application as a user may see it: the resident ID masked unless the role may read it."""

    app: Application
    legal_rep_shown: str | None


def decision_date(uow: UnitOfWork, user: User, as_of: date | None, now: datetime) -> date:
    """The date a decision is made as of: the business date; another needs the right."""
    today = business_date(uow, now)
    if as_of is None or as_of == today:
        return today
    if as_of > now.date():
        raise InvalidRequestError(
            f"as_of {as_of.isoformat()} is after today ({now.date().isoformat()}); "
            "a decision uses only data known on its date"
        )
    if Action.DECIDE_OTHER_DATE not in _rights(user):
        raise AccessDeniedError(
            f"applications are decided as of the business date {today}; deciding as of "
            f"{as_of} needs a risk manager's right (POST /applications/{{id}}/redecide)",
            user=user.name,
            action=Action.DECIDE_OTHER_DATE.value,
        )
    return as_of


def _rights(user: User) -> frozenset[Action]:
    from loomcredit.service_layer.users import PERMISSIONS

    return PERMISSIONS[user.role]


def _check_request(amount: Money, term: int, method: str) -> Method:
    if not amount.is_positive() or amount.currency != "CNY":
        raise InvalidRequestError("amount must be a positive CNY amount")
    if not 1 <= term <= MAX_TERM:
        raise InvalidRequestError(f"term must be 1-{MAX_TERM} months")
    try:
        return Method.parse(method)
    except (LoomError, ValueError):
        raise InvalidRequestError(
            f"unknown method {method!r}; use annuity, equal_principal or interest_only"
        ) from None


def _decide(
    decider: Decider, uscc: str, amount: Money, term: int, method: str, as_of: date
) -> CreditDecision:
    decision = decider.decide(DecisionRequest(uscc, amount, term, method), as_of)
    rate = contract_rate(decision.annual_rate)
    if rate != decision.annual_rate:
        from dataclasses import replace

        decision = replace(decision, annual_rate=rate)
    return decision


def _audit_decision(uow: UnitOfWork, user: User, app: Application, now: datetime) -> None:
    d = app.decision
    uow.audit.append(
        f"decision-engine (for {user.name})",
        "decision",
        f"application:{app.app_id}",
        {
            "band": d.band.value,
            "rate": str(d.annual_rate),
            "engine": d.engine,
            "referral": d.is_referral,
            "as_of": app.as_of.isoformat(),
        },
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
    now: datetime,
    as_of: date | None = None,
    legal_rep_id: str | None = None,
) -> ApplicationView:
    """Create an application, decide it at once (as of the business date) and store the record.

    Raises:
        AccessDeniedError: the role may not apply, an applicant applies for another enterprise,
            or another decision date is asked without the right.
        InvalidRequestError: amount, term or method out of range.
        InvalidCode: a bad USCC.
    """
    require(user, Action.APPLY)
    code = parse_uscc(uscc).code
    require_enterprise(user, code)
    parsed = _check_request(amount, term, method)
    on = decision_date(uow, user, as_of, now)
    rep = _resident_id(legal_rep_id, now.date()) if legal_rep_id is not None else None
    decision = _decide(decider, code, amount, term, parsed.value, on)
    app = Application.submit(
        uscc=code,
        amount=amount,
        term_months=term,
        method=parsed.value,
        decision=decision,
        as_of=on,
        penalty_uplift=DEFAULT_UPLIFT,
        by=user.name,
        at=now,
        legal_rep_id=rep,
    )
    uow.applications.add(app)
    uow.audit.append(
        user.name,
        "application.created",
        f"application:{app.app_id}",
        {"uscc": code, "amount_fen": amount.minor, "term_months": term},
        now,
    )
    _audit_decision(uow, user, app, now)
    return ApplicationView(app, show_resident_id(user, app.legal_rep_id)[0])


def _resident_id(raw: str, today: date) -> str:
    """A valid legal representative's resident ID, or a 422 that says why (ID masked)."""
    try:
        return parse_resident_id(raw, on=today).number
    except InvalidCode as exc:
        shown = mask_resident_id(raw) if len(raw) == 18 else "the value given"
        raise InvalidRequestError(
            f"legal_rep_id {shown} is not a valid resident ID: {exc.reason}"
        ) from None


def _load(uow: UnitOfWork, app_id: int, *, lock: bool = False) -> Application:
    app = uow.applications.get(app_id, lock=lock)
    if app is None:
        raise NotFound(f"application {app_id} does not exist")
    return app


def get_application(
    uow: UnitOfWork, user: User, app_id: int, *, now: datetime, audit_pii: bool = True
) -> ApplicationView:
    """An application as this user may see it (PII masked by role; a full read is audited)."""
    require(user, Action.READ_APPLICATION)
    app = _load(uow, app_id)
    require_enterprise(user, app.uscc)
    shown, full = show_resident_id(user, app.legal_rep_id)
    if full and audit_pii:
        uow.audit.append(
            user.name, "pii.read", f"application:{app_id}", {"field": "legal_rep_id"}, now
        )
    return ApplicationView(app, shown)


def list_applications(uow: UnitOfWork, user: User) -> list[Application]:
    """Applications the user may see (an applicant only its own enterprise's)."""
    require(user, Action.READ_APPLICATION)
    uscc = user.enterprise_uscc if user.role is Role.APPLICANT else None
    return uow.applications.find(uscc=uscc)


def review_queue(uow: UnitOfWork, user: User) -> list[Application]:
    """Applications waiting for a human decision."""
    require(user, Action.REVIEW)
    return uow.applications.find(status=ApplicationStatus.IN_REVIEW)


def request_review(
    uow: UnitOfWork, user: User, app_id: int, *, now: datetime, reason: str = ""
) -> ApplicationView:
    """The applicant asks for a human review of an automated decision; it lands in the queue."""
    app = _own_app(uow, user, app_id, Action.APPLY)
    app.request_person(user.name, now)
    uow.applications.save(app)
    uow.audit.append(
        user.name, "review.requested", f"application:{app_id}", {"reason": reason}, now
    )
    return ApplicationView(app, show_resident_id(user, app.legal_rep_id)[0])


def review(
    uow: UnitOfWork,
    user: User,
    app_id: int,
    verdict: str,
    *,
    comment: str,
    now: datetime,
    approved: Money | None = None,
) -> ApplicationView:
    """Approve, decline or return an application in the queue (maker-checker, authority).

    An approval is for ``approved`` (default: the amount asked), at most the amount asked and at
    most the decision engine's limit; only a risk manager may approve above that limit, as an
    exception with a comment (例外审批), and the audit record says so. A referral has no limit.
    """
    require(user, Action.REVIEW)
    try:
        parsed = Verdict(verdict)
    except ValueError:
        raise InvalidRequestError("verdict must be approve, decline or return") from None
    app = _load(uow, app_id, lock=True)
    detail: dict[str, str | int | bool | None] = {"comment": comment}
    amount = None
    if parsed is Verdict.APPROVE and app.status is ApplicationStatus.IN_REVIEW:
        amount = _check_approval(user, app, approved, comment)
        limit = app.decision.limit
        detail |= {
            "asked_fen": app.amount.minor,
            "approved_fen": amount.minor,
            "limit_fen": limit.minor,
            "exception": amount > limit,
        }
    app.review(parsed, by=user.name, at=now, comment=comment, approved=amount)
    uow.applications.save(app)
    uow.audit.append(user.name, f"review.{parsed.value}", f"application:{app_id}", detail, now)
    return ApplicationView(app, show_resident_id(user, app.legal_rep_id)[0])


def _check_approval(user: User, app: Application, approved: Money | None, comment: str) -> Money:
    asked = app.amount
    amount = asked if approved is None else approved
    if amount.currency != asked.currency or not amount.is_positive() or amount > asked:
        raise InvalidRequestError(
            f"approved_amount must be a positive {asked.currency} amount "
            f"no larger than the {asked.format()} asked"
        )
    limit = app.decision.limit
    if amount > limit and (user.role is not Role.RISK_MANAGER or not comment.strip()):
        raise InvalidRequestError(
            f"the decision limit is {limit.format()}, below the {amount.format()} to approve; "
            "approve an approved_amount no larger than the limit, or a risk manager approves an "
            "exception with a comment"
        )
    if not can_approve(user, amount):
        raise AccessDeniedError(
            f"approval authority of {user.role.value} does not cover {amount.format()}",
            user=user.name,
            action="approve_amount",
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
    now: datetime,
    as_of: date | None = None,
) -> ApplicationView:
    """Change a returned application (amount, term) and decide again as of the business date;
    the changer becomes the last modifier, so maker-checker keeps them from reviewing it."""
    require(user, Action.APPLY)
    app = _load(uow, app_id, lock=True)
    require_enterprise(user, app.uscc)
    asked = amount or app.amount
    months = term or app.term_months
    _check_request(asked, months, app.method)
    on = decision_date(uow, user, as_of, now)
    if app.status is not ApplicationStatus.RETURNED:
        raise LoanStateError(
            f"application {app_id} is {app.status.value}; only a returned one can be resubmitted"
        )
    decision = _decide(decider, app.uscc, asked, months, app.method, on)
    app.resubmit(
        amount=asked, term_months=months, decision=decision, as_of=on, by=user.name, at=now
    )
    uow.applications.save(app)
    uow.audit.append(
        user.name,
        "application.resubmitted",
        f"application:{app_id}",
        {"amount_fen": asked.minor, "term_months": months},
        now,
    )
    _audit_decision(uow, user, app, now)
    return ApplicationView(app, show_resident_id(user, app.legal_rep_id)[0])


def redecide(
    uow: UnitOfWork,
    decider: Decider,
    user: User,
    app_id: int,
    *,
    as_of: date,
    reason: str,
    now: datetime,
) -> ApplicationView:
    """决策日期 A risk manager decides an application in review again as of another date, with a
    reason; it stays in review and the risk manager, now its last modifier, cannot review it."""
    require(user, Action.DECIDE_OTHER_DATE)
    if not reason.strip():
        raise InvalidRequestError("deciding as of another date needs a reason")
    app = _load(uow, app_id, lock=True)
    on = decision_date(uow, user, as_of, now)
    if app.status is not ApplicationStatus.IN_REVIEW:
        raise LoanStateError(
            f"application {app_id} is {app.status.value}; only one in review can be decided "
            "again as of another date"
        )
    decision = _decide(decider, app.uscc, app.amount, app.term_months, app.method, on)
    app.redecide(decision=decision, as_of=on, by=user.name, at=now)
    uow.applications.save(app)
    uow.audit.append(
        user.name,
        "application.redecided",
        f"application:{app_id}",
        {"as_of": on.isoformat(), "reason": reason.strip()},
        now,
    )
    _audit_decision(uow, user, app, now)
    return ApplicationView(app, show_resident_id(user, app.legal_rep_id)[0])


@dataclass(frozen=True, slots=True)
class Contract:
    """合同要素: what the borrower signs — amount, rate and its build-up, the plan and schedule
    of a drawdown of the whole amount starting on the business date, penalty, allocation order."""

    app: Application
    start_date: date
    plan: LoanPlan


def contract(uow: UnitOfWork, user: User, app_id: int, *, now: datetime) -> Contract:
    """The contract offered on the business date (a drawdown on the same date books this
    schedule)."""
    view = get_application(uow, user, app_id, now=now, audit_pii=False)
    start = business_date(uow, now)
    return Contract(view.app, start, loan_plan(view.app, start))


def accept_contract(
    uow: UnitOfWork, user: User, app_id: int, *, settlement_account: str, now: datetime
) -> CreditLine:
    """The applicant (only) accepts the contract of an approved application, naming the
    settlement account repayments are debited from (代扣授权); this opens the credit line."""
    app = _own_app(uow, user, app_id, Action.ACCEPT_CONTRACT)
    try:
        account = parse_account(settlement_account)
    except InvalidCode as exc:
        raise InvalidRequestError(f"settlement_account: {exc.reason}") from None
    app.accept(settlement_account=account, by=user.name, at=now)
    uow.applications.save(app)
    opened = business_date(uow, now)
    kind = (
        LineKind.REVOLVING
        if app.decision.product_kind is ProductKind.REVOLVING
        else LineKind.ONE_OFF
    )
    line = CreditLine.open(
        LineTerms(
            application_id=app.app_id,
            uscc=app.uscc,
            kind=kind,
            limit=app.approved_amount,
            opened_on=opened,
            expires_on=add_months(opened, app.term_months),
            decision_id=app.decision.decision_id,
            settlement_account=account,
        )
    )
    uow.lines.add(line)
    uow.audit.append(user.name, "contract.accepted", f"application:{app_id}", {}, now)
    uow.audit.append(
        user.name,
        "line.opened",
        f"line:{line.line_id}",
        {
            "limit_fen": line.limit.minor,
            "kind": kind.value,
            "expires_on": str(line.terms.expires_on),
        },
        now,
    )
    return line


def _own_app(uow: UnitOfWork, user: User, app_id: int, action: Action) -> Application:
    require(user, action)
    if user.role is not Role.APPLICANT:
        raise AccessDeniedError(
            "only the applicant enterprise may do this", user=user.name, action=action.value
        )
    app = _load(uow, app_id, lock=True)
    require_enterprise(user, app.uscc)
    return app
