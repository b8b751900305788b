"""Use cases: collection cases (催收案件) at end of day, the work queue, and the case figures.

:func:`update_cases` runs once per date at the end of end of day (``eod._run_one_day``), inside
its transaction. It reads set-based: the loan-days of the date with DPD > 0 and the open cases
(with their promises), so its cost follows the loans in arrears, not the book. For each borrower:

* in arrears and no open case: a case opens (unless an earlier case was handed to legal: the
  legal department owns that borrower's arrears), in the first queue of the policy that takes its
  bucket and region, assigned to the queue's least-loaded collector;
* in arrears with an open case: the case takes the day's figures; when its bucket moves it is
  recorded, and it goes to the new queue's least-loaded collector unless its collector works
  that queue too;
* an open case and no loan in arrears: it closes as cured when the borrower still has an active
  loan, written off when a loan was written off and none is active, paid off otherwise;
* promises whose date has come are judged from the money settled on the borrower's loans from
  the day each was made to its date (a case closing judges its pending promises with the money
  settled so far); a broken promise raises the case's priority.

A date already seen changes nothing, so the update can run again for the same date.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from loomcredit.domain.approval import ApprovalRequest, LegalActionOrder
from loomcredit.domain.collection_policy import (
    DEFAULT_POLICY,
    CaseBucket,
    CollectionsPolicy,
    pick_collector,
)
from loomcredit.domain.collections import (
    Arrears,
    CaseError,
    CloseReason,
    CollectionCase,
    LoanArrears,
    Promise,
    PromiseStatus,
)
from loomcredit.domain.errors import LoomError, NotFound
from loomcredit.domain.loan import LoanStatus
from loomcredit.domain.money import Money
from loomcredit.domain.regions import current_region_code
from loomcredit.service_layer.errors import InvalidRequestError
from loomcredit.service_layer.unit_of_work import Settlement, UnitOfWork
from loomcredit.service_layer.users import Action, User, require

__all__ = [
    "CaseFigures",
    "CaseUpdate",
    "case_figures",
    "get_case",
    "queue",
    "region_of",
    "update_cases",
]


@dataclass(frozen=True, slots=True)
class CaseUpdate:
    """What one date's case update did."""

    as_of: date
    opened: int
    moved: int
    closed: int
    promises_judged: int


def region_of(uscc: str) -> str:
    """The borrower's registration region today (USCC positions 3–8, successor code for an
    abolished one such as 330621 绍兴县 → 330603 柯桥区; the raw code when it is unknown)."""
    code = uscc[2:8]
    try:
        return current_region_code(code)
    except LoomError:
        return code


def update_cases(
    uow: UnitOfWork, as_of: date, policy: CollectionsPolicy = DEFAULT_POLICY
) -> CaseUpdate:
    """Open, move and close the cases for ``as_of`` and judge the promises due (see the module
    docstring); the caller's transaction commits."""
    by_borrower: dict[str, list[LoanArrears]] = defaultdict(list)
    for loan in uow.cases.arrears(as_of):
        by_borrower[loan.uscc].append(loan)
    open_ = uow.cases.open_cases()
    load = Counter(c.collector for c in open_.values())
    changed: dict[str, CollectionCase] = {}
    moved = 0
    for case in sorted(open_.values(), key=lambda c: c.case_id):
        uscc = case.uscc
        loans = by_borrower.get(uscc)
        if not loans:
            continue
        before = case.bucket
        if case.observe(Arrears.of(loans), as_of, policy):
            changed[uscc] = case
            if case.bucket is not before:
                moved += 1
                _requeue(case, policy, load)
    gone = sorted(
        (c for u, c in open_.items() if u not in by_borrower and c.last_seen_on < as_of),
        key=lambda c: c.case_id,
    )
    judged = _judge_promises(uow, open_.values(), gone, as_of, policy, changed)
    for case in gone:
        case.close(_close_reason(uow, case.uscc), as_of)
        changed[case.uscc] = case
    new = _open_new(uow, by_borrower, open_, as_of, policy, load)
    uow.cases.add_many(new)
    uow.cases.save_many(list(changed.values()))
    return CaseUpdate(as_of, len(new), moved, len(gone), judged)


def _requeue(case: CollectionCase, policy: CollectionsPolicy, load: Counter[str]) -> None:
    q = policy.queue_for(case.bucket, case.region)
    if q is None or case.collector in q.collectors:
        return
    load[case.collector] -= 1
    case.assign(pick_collector(q, load))
    load[case.collector] += 1


def _open_new(
    uow: UnitOfWork,
    by_borrower: dict[str, list[LoanArrears]],
    open_: dict[str, CollectionCase],
    as_of: date,
    policy: CollectionsPolicy,
    load: Counter[str],
) -> list[CollectionCase]:
    candidates = sorted(u for u in by_borrower if u not in open_)
    if not candidates:
        return []
    legal = uow.cases.handed_to_legal(candidates)
    candidates = [u for u in candidates if u not in legal]
    profiles = uow.cases.profiles(candidates)
    new = []
    for uscc in candidates:
        arrears = Arrears.of(by_borrower[uscc])
        region = region_of(uscc)
        q = policy.queue_for(arrears.bucket, region)
        collector = pick_collector(q, load) if q is not None else ""
        load[collector] += 1
        profile = profiles.get(uscc)
        new.append(
            CollectionCase.open(
                uscc=uscc,
                region=region,
                arrears=arrears,
                on=as_of,
                pd=None if profile is None else profile.pd,
                season_factors=None if profile is None else profile.season_factors,
                collector=collector,
                policy=policy,
            )
        )
    return new


def _judge_promises(
    uow: UnitOfWork,
    cases: Iterable[CollectionCase],
    closing: Sequence[CollectionCase],
    as_of: date,
    policy: CollectionsPolicy,
    changed: dict[str, CollectionCase],
) -> int:
    closing_ids = {id(c) for c in closing}
    work: list[tuple[CollectionCase, list[Promise]]] = []
    for case in cases:
        if id(case) in closing_ids:
            due = [p for p in case.promises if p.status is PromiseStatus.PENDING]
        else:
            due = case.pending_due(as_of)
        if due:
            work.append((case, due))
    if not work:
        return 0
    since = min(p.made_on for _, due in work for p in due)
    paid = uow.cases.settlements({c.uscc for c, _ in work}, since, as_of)
    for case, due in work:
        for p in due:
            p.evaluate(_settled(paid.get(case.uscc, []), p, as_of), as_of)
        if case.broken_promise:
            case.next_action_on = as_of + timedelta(days=1)
        case.reprioritise(as_of, policy)
        changed[case.uscc] = case
    return sum(len(due) for _, due in work)


def _settled(paid: Sequence[Settlement], promise: Promise, as_of: date) -> Money:
    until = min(promise.due_on, as_of)
    return sum(
        (s.amount for s in paid if promise.made_on <= s.value_date <= until),
        Money.zero(promise.amount.currency),
    )


def _close_reason(uow: UnitOfWork, uscc: str) -> CloseReason:
    statuses = {loan.status for loan in uow.loans.find(uscc=uscc)}
    if LoanStatus.ACTIVE in statuses:
        return CloseReason.CURED
    if LoanStatus.WRITTEN_OFF in statuses:
        return CloseReason.WRITTEN_OFF
    return CloseReason.PAID_OFF


# -- reads ----------------------------------------------------------------------------------------
def queue(
    uow: UnitOfWork,
    user: User,
    *,
    collector: str | None = None,
    bucket: CaseBucket | None = None,
) -> list[CollectionCase]:
    """The open cases, highest priority first (a broken promise shows on the case)."""
    require(user, Action.READ_COLLECTIONS)
    found = uow.cases.find(open_only=True, collector=collector)
    return [c for c in found if bucket is None or c.bucket is bucket]


def get_case(uow: UnitOfWork, user: User, case_id: int) -> CollectionCase:
    """One case with its moves, activities and promises."""
    require(user, Action.READ_COLLECTIONS)
    case = uow.cases.get(case_id)
    if case is None:
        raise NotFound(f"collection case {case_id} does not exist")
    return case


@dataclass(frozen=True, slots=True)
class CaseFigures:
    """Collection figures of the months ``from_month`` … ``to_month`` (first days).

    Attributes:
        promises_judged: promises whose date fell in the months and that were judged.
        promises_kept / promises_partly_kept / promises_broken: of those.
        promise_kept_rate: kept ÷ judged (partly kept is not kept); None without promises.
        cases: cases open at some time in the months.
        contacts: contacts recorded in the months (China calendar days).
        contacts_per_case: contacts ÷ cases; None without cases.
        cases_per_collector: (collector, cases) by collector name ('' = unassigned).
    """

    from_month: date
    to_month: date
    promises_judged: int
    promises_kept: int
    promises_partly_kept: int
    promises_broken: int
    promise_kept_rate: Decimal | None
    cases: int
    contacts: int
    contacts_per_case: Decimal | None
    cases_per_collector: tuple[tuple[str, int], ...]


def _month_end(first: date) -> date:
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return following - timedelta(days=1)


def case_figures(
    uow: UnitOfWork,
    user: User,
    from_month: date,
    to_month: date,
    policy: CollectionsPolicy = DEFAULT_POLICY,
) -> CaseFigures:
    """Promise kept rate, contacts per case and cases per collector over whole months (rates
    to four decimal places, half up)."""
    require(user, Action.READ_COLLECTIONS)
    start, end = from_month.replace(day=1), _month_end(to_month.replace(day=1))
    if end < start:
        raise InvalidRequestError(
            f"from month {from_month:%Y-%m} is after to month {to_month:%Y-%m}"
        )
    cases = [
        c
        for c in uow.cases.find(open_only=False)
        if c.opened_on <= end and (c.closed_on is None or c.closed_on >= start)
    ]
    judged = [
        p
        for c in uow.cases.find(open_only=False)
        for p in c.promises
        if p.status is not PromiseStatus.PENDING and start <= p.due_on <= end
    ]
    count = Counter(p.status for p in judged)
    contacts = sum(
        1 for c in cases for a in c.activities if start <= policy.conduct.local_day(a.at) <= end
    )
    per = Counter(c.collector for c in cases)
    return CaseFigures(
        from_month=start,
        to_month=to_month.replace(day=1),
        promises_judged=len(judged),
        promises_kept=count[PromiseStatus.KEPT],
        promises_partly_kept=count[PromiseStatus.PARTLY_KEPT],
        promises_broken=count[PromiseStatus.BROKEN],
        promise_kept_rate=_ratio(count[PromiseStatus.KEPT], len(judged)),
        cases=len(cases),
        contacts=contacts,
        contacts_per_case=_ratio(contacts, len(cases)),
        cases_per_collector=tuple(sorted(per.items())),
    )


def _ratio(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding="ROUND_HALF_UP")


# -- carried out on approval (called from service_layer/approvals.py) ---------------------------
def check_legal_action(uow: UnitOfWork, order: LegalActionOrder) -> None:
    """Refuse, when it is asked for, legal action on a case that is not open and M3+."""
    case = uow.cases.get(order.case_id)
    if case is None or not case.is_open or case.uscc != order.uscc:
        raise CaseError(f"case {order.case_id} is not an open case of {order.uscc}")
    if case.bucket is not CaseBucket.M3_PLUS:
        raise CaseError(f"case {order.case_id} is {case.bucket.value}; legal action needs M3+")


def legal_action_approved(
    uow: UnitOfWork,
    approver: User,
    request: ApprovalRequest,
    order: LegalActionOrder,
    now: datetime,
    on: date,
) -> str:
    """Hand the case to legal: it closes as ``legal`` on ``on`` (the business date)."""
    case = uow.cases.get(order.case_id, lock=True)
    if case is None:
        raise NotFound(f"collection case {order.case_id} does not exist")
    case.close(CloseReason.LEGAL, on)
    uow.cases.save(case)
    uow.audit.append(
        approver.name,
        "collections.legal_action",
        f"case:{order.case_id}",
        {"approval": request.request_id, "requested_by": request.requested_by, "uscc": order.uscc},
        now,
    )
    return f"case:{order.case_id}"


def write_off_done(uow: UnitOfWork, case_id: int, on: date) -> None:
    """A loan of the case was written off: the case closes when no active loan is left."""
    case = uow.cases.get(case_id, lock=True)
    if case is None or not case.is_open:
        return
    if uow.loans.find(uscc=case.uscc, status=LoanStatus.ACTIVE):
        return
    case.close(CloseReason.WRITTEN_OFF, on)
    uow.cases.save(case)


def escalation_ended(uow: UnitOfWork, case_id: int) -> None:
    """An escalation request of the case was rejected or cancelled: the case is worked again."""
    case = uow.cases.get(case_id, lock=True)
    if case is None or not case.is_open or not case.escalation:
        return
    case.escalation_ended()
    uow.cases.save(case)
