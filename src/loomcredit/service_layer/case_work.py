"""Use cases: working a collection case — contacts under the conduct rules, promises to pay,
assignment, disputes, and escalation to legal action or write-off through four eyes.

Every contact attempt passes :func:`~loomcredit.domain.conduct.check_contact`. An attempt the
rules forbid is refused with the rule (:class:`ContactRefusedError`; a 422 at the API naming
it), and the refusal is audited and committed before the error is raised, so the record of a
refused attempt survives the request failing; an allowed one is recorded on the case and audited
with the real user, in the caller's transaction.

Escalation (M3+ cases only): legal action is a ``LegalActionOrder`` (``domain/approval.py``)
a collector or risk manager requests and another risk manager approves, closing the case as
handed to legal; a write-off proposal is the existing write-off approval, one per active loan of
the borrower, each carrying the case: when the last is approved the case closes as written off.
A rejected or cancelled request lets the case be worked again.
"""

from __future__ import annotations

from datetime import date, datetime

from loomcredit.domain.approval import ApprovalRequest, LegalActionOrder, WriteOffOrder
from loomcredit.domain.collection_policy import DEFAULT_POLICY, CaseBucket, CollectionsPolicy
from loomcredit.domain.collections import (
    Activity,
    CaseError,
    CollectionCase,
    Outcome,
    Promise,
)
from loomcredit.domain.conduct import ActivityKind, ContactAttempt, Refusal, check_contact
from loomcredit.domain.errors import LoomError, NotFound
from loomcredit.domain.loan import LoanStatus
from loomcredit.domain.money import Money
from loomcredit.service_layer import approvals
from loomcredit.service_layer.eod import business_date
from loomcredit.service_layer.errors import InvalidRequestError
from loomcredit.service_layer.unit_of_work import UnitOfWork
from loomcredit.service_layer.users import AccessDeniedError, Action, Role, User, require

__all__ = [
    "ContactRefusedError",
    "assign",
    "escalate",
    "promise",
    "record_contact",
    "resolve_dispute",
]

ESCALATIONS = ("legal", "write_off")


class ContactRefusedError(LoomError):
    """The conduct rules forbid the contact attempt; ``refusal`` names the rule."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(str(refusal))
        self.refusal = refusal


def _case(uow: UnitOfWork, case_id: int) -> CollectionCase:
    case = uow.cases.get(case_id, lock=True)
    if case is None:
        raise NotFound(f"collection case {case_id} does not exist")
    return case


def _workable(uow: UnitOfWork, user: User, case_id: int) -> CollectionCase:
    """The case, if the user may work it: its collector, or a risk manager."""
    require(user, Action.WORK_COLLECTIONS)
    case = _case(uow, case_id)
    if user.role is not Role.RISK_MANAGER and case.collector != user.name:
        raise AccessDeniedError(
            f"case {case_id} is assigned to {case.collector or 'nobody'}; only they or a risk "
            "manager may work it",
            user=user.name,
            action=Action.WORK_COLLECTIONS.value,
        )
    if not case.is_open:
        raise CaseError(f"case {case_id} is closed ({case.close_reason})")
    return case


def record_contact(
    uow: UnitOfWork,
    user: User,
    case_id: int,
    *,
    kind: ActivityKind,
    outcome: Outcome,
    contact_id: int | None,
    now: datetime,
    note: str = "",
    promise_amount: Money | None = None,
    promise_on: date | None = None,
    policy: CollectionsPolicy = DEFAULT_POLICY,
) -> Activity:
    """Record a contact made now, if the conduct rules allow it (see the module docstring); a
    ``promise`` outcome with an amount and a date also records the promise."""
    case = _workable(uow, user, case_id)
    if (promise_amount is None) != (promise_on is None):
        raise InvalidRequestError("a promise needs both an amount and a date")
    if promise_amount is not None and outcome is not Outcome.PROMISE:
        raise InvalidRequestError("a promise amount and date go with the outcome 'promise'")
    attempt = ContactAttempt(case.uscc, kind, contact_id, now)
    contacts = uow.contacts.for_borrowers([case.uscc]).get(case.uscc, [])
    refusal = check_contact(
        policy.conduct,
        attempt,
        contacts=contacts,
        earlier=[a.at for a in case.activities],
        dispute_open=case.dispute_open,
    )
    detail = {
        "kind": kind.value,
        "outcome": outcome.value,
        "contact_id": contact_id,
        "policy": policy.version,
        "uscc": case.uscc,
    }
    if refusal is not None:
        uow.rollback()
        uow.audit.append(
            user.name,
            "collections.contact_refused",
            f"case:{case_id}",
            {**detail, "rule": refusal.rule, "reason": refusal.message_en},
            now,
        )
        uow.commit()
        raise ContactRefusedError(refusal)
    on = business_date(uow, now)
    activity = Activity(0, kind, outcome, contact_id, user.name, now, note.strip())
    case.record(activity, on, policy)
    if promise_amount is not None and promise_on is not None:
        case.promise(
            amount=promise_amount, due_on=promise_on, made_on=on, by=user.name, policy=policy
        )
    uow.cases.save(case)
    uow.audit.append(user.name, "collections.contact", f"case:{case_id}", detail, now)
    return case.activities[-1]


def promise(
    uow: UnitOfWork,
    user: User,
    case_id: int,
    *,
    amount: Money,
    due_on: date,
    now: datetime,
    policy: CollectionsPolicy = DEFAULT_POLICY,
) -> Promise:
    """Record a promise to pay ``amount`` by ``due_on`` (made on the business date)."""
    case = _workable(uow, user, case_id)
    case.promise(
        amount=amount, due_on=due_on, made_on=business_date(uow, now), by=user.name, policy=policy
    )
    uow.cases.save(case)
    uow.audit.append(
        user.name,
        "collections.promise",
        f"case:{case_id}",
        {"amount_fen": amount.minor, "due_on": due_on.isoformat()},
        now,
    )
    return case.promises[-1]


def assign(uow: UnitOfWork, user: User, case_id: int, *, to: str, now: datetime) -> CollectionCase:
    """A risk manager moves the case to another collector (a user with the collector role)."""
    require(user, Action.ASSIGN_COLLECTIONS)
    target = uow.users.get(to)
    if target is None or target.role is not Role.COLLECTOR or target.disabled_at is not None:
        raise InvalidRequestError(f"{to} is not an active collector")
    case = _case(uow, case_id)
    before = case.collector
    case.assign(to)
    uow.cases.save(case)
    uow.audit.append(
        user.name, "collections.assigned", f"case:{case_id}", {"from": before, "to": to}, now
    )
    return case


def resolve_dispute(
    uow: UnitOfWork, user: User, case_id: int, *, note: str, now: datetime
) -> CollectionCase:
    """A risk manager resolves the borrower's dispute (a note says how): contact may resume."""
    require(user, Action.RESOLVE_DISPUTE)
    if not note.strip():
        raise InvalidRequestError("resolving a dispute needs a note saying how")
    case = _case(uow, case_id)
    case.resolve_dispute()
    uow.cases.save(case)
    uow.audit.append(
        user.name, "collections.dispute_resolved", f"case:{case_id}", {"note": note.strip()}, now
    )
    return case


def escalate(
    uow: UnitOfWork, user: User, case_id: int, *, to: str, reason: str, now: datetime
) -> list[ApprovalRequest]:
    """Ask for an M3+ case to go to legal action or be written off (four eyes)."""
    if to not in ESCALATIONS:
        raise InvalidRequestError(f"escalate to legal or write_off, not {to!r}")
    case = _workable(uow, user, case_id)
    if case.bucket is not CaseBucket.M3_PLUS:
        raise CaseError(f"case {case_id} is {case.bucket.value}; only an M3+ case is escalated")
    if to == "legal":
        require(user, Action.REQUEST_LEGAL_ACTION)
        orders: list[LegalActionOrder | WriteOffOrder] = [LegalActionOrder(case_id, case.uscc)]
    else:
        active = [
            ln
            for ln in uow.loans.find(uscc=case.uscc, status=LoanStatus.ACTIVE)
            if ln.outstanding.is_positive()
        ]
        if not active:
            raise CaseError(f"case {case_id}: the borrower has no active loan to write off")
        orders = [WriteOffOrder(ln.loan_id, case_id) for ln in active]
    made = [approvals.request_approval(uow, user, o, reason=reason, now=now) for o in orders]
    case.escalate(to, [r.request_id for r in made])
    uow.cases.save(case)
    return made
