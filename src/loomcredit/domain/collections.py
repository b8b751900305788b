"""Collection cases (催收案件): one open case per borrower (USCC), from M1 until it is cured,
paid off, written off or handed to legal.

End of day reads the loan-days of the day (:class:`LoanArrears`, one per loan in arrears) and
sums them per borrower (:class:`Arrears`): the worst DPD and its bucket (M1 → M2 → M3 → M3+), and
the overdue amount by component. The book accrues penalty interest (罚息, on overdue principal)
and compound interest (复利, on overdue interest) at the same rate into one figure, so a loan's
unpaid penalty is apportioned between the two by its overdue principal and interest that day
(compound = penalty × interest / (principal + interest), rounded down; the rest is penalty).

The case (:class:`CollectionCase`) moves with the bucket (each move in :attr:`moves`), holds
the collector it is assigned to, the next action date, its priority
(``domain/collection_policy.py``), the activities done on it (:class:`Activity`) and the
promises to pay (:class:`Promise`). A promise is judged at end of day on its date from the money
actually settled on the borrower's loans between the day it was made and its date: all of it
kept, some of it partly kept, none broken.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from loomcredit.domain.collection_policy import CaseBucket, CollectionsPolicy, expected_loss_fen
from loomcredit.domain.conduct import ActivityKind
from loomcredit.domain.errors import LoomError
from loomcredit.domain.money import Money

__all__ = [
    "Activity",
    "Arrears",
    "BucketMove",
    "CaseError",
    "CaseStatus",
    "CloseReason",
    "CollectionCase",
    "LoanArrears",
    "Outcome",
    "Promise",
    "PromiseStatus",
]


class CaseError(LoomError, ValueError):
    """An action the case's state does not allow (what is wrong is in the message)."""


class CaseStatus(StrEnum):
    """Open, or closed (with a :class:`CloseReason`)."""

    OPEN = "open"
    CLOSED = "closed"


class CloseReason(StrEnum):
    """Why a case closed."""

    CURED = "cured"  # every loan of the borrower current again
    PAID_OFF = "paid_off"  # no active loan left, none written off
    WRITTEN_OFF = "written_off"  # 核销 approved
    LEGAL = "legal"  # 诉讼 approved: handed to the legal department

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return {
            "cured": "已结清逾期",
            "paid_off": "已还清",
            "written_off": "已核销",
            "legal": "转诉讼",
        }[self.value]


class Outcome(StrEnum):
    """What a contact attempt achieved."""

    REACHED = "reached"
    NO_ANSWER = "no_answer"
    PROMISE = "promise"
    DISPUTE = "dispute"
    REFUSED = "refused"
    PAID = "paid"

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return {
            "reached": "已联系上",
            "no_answer": "未接通",
            "promise": "承诺还款",
            "dispute": "提出异议",
            "refused": "拒绝还款",
            "paid": "已还款",
        }[self.value]


class PromiseStatus(StrEnum):
    """A promise to pay (承诺还款), before and after its date."""

    PENDING = "pending"
    KEPT = "kept"
    PARTLY_KEPT = "partly_kept"
    BROKEN = "broken"

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return {
            "pending": "待履行",
            "kept": "已履行",
            "partly_kept": "部分履行",
            "broken": "未履行",
        }[self.value]


@dataclass(frozen=True, slots=True)
class LoanArrears:
    """One loan in arrears on a day, as end of day recorded it.

    Attributes:
        loan_id / uscc: the loan and its borrower.
        dpd: days past due.
        overdue_principal / overdue_interest: due before the day and unpaid.
        penalty_due: penalty and compound interest accrued and unpaid (rounded once).
        outstanding: principal not repaid (due or not).
    """

    loan_id: int
    uscc: str
    dpd: int
    overdue_principal: Money
    overdue_interest: Money
    penalty_due: Money
    outstanding: Money

    @property
    def compound(self) -> Money:
        """The compound interest part of :attr:`penalty_due` (apportioned, rounded down)."""
        base = self.overdue_principal.minor + self.overdue_interest.minor
        if base <= 0:
            return Money.zero(self.penalty_due.currency)
        share = self.penalty_due.minor * self.overdue_interest.minor // base
        return Money(share, self.penalty_due.currency)


@dataclass(frozen=True, slots=True)
class Arrears:
    """A borrower's arrears on a day: the worst DPD, its bucket, and the sums by component."""

    dpd: int
    principal: Money
    interest: Money
    penalty: Money
    compound: Money
    exposure: Money
    loan_ids: tuple[int, ...]

    @property
    def bucket(self) -> CaseBucket:
        """The case bucket of the worst DPD."""
        return CaseBucket.of_dpd(self.dpd)

    @property
    def overdue(self) -> Money:
        """Everything overdue: principal, interest, penalty and compound."""
        return self.principal + self.interest + self.penalty + self.compound

    @classmethod
    def of(cls, loans: Sequence[LoanArrears]) -> Arrears:
        """The sum over a borrower's loans in arrears (at least one)."""
        if not loans:
            raise ValueError("arrears need at least one loan")
        cur = loans[0].outstanding.currency
        nil = Money.zero(cur)
        compound = sum((ln.compound for ln in loans), nil)
        penalty = sum((ln.penalty_due for ln in loans), nil) - compound
        interest = sum((ln.overdue_interest for ln in loans), nil)
        return cls(
            dpd=max(ln.dpd for ln in loans),
            principal=sum((ln.overdue_principal for ln in loans), nil),
            interest=interest,
            penalty=penalty,
            compound=compound,
            exposure=sum((ln.outstanding for ln in loans), nil) + interest + penalty + compound,
            loan_ids=tuple(sorted(ln.loan_id for ln in loans)),
        )


@dataclass(frozen=True, slots=True)
class BucketMove:
    """The case entered ``to_bucket`` on ``on`` (from ``from_bucket``; None when it opened)."""

    move_id: int
    on: date
    from_bucket: CaseBucket | None
    to_bucket: CaseBucket
    dpd: int


@dataclass(frozen=True, slots=True)
class Activity:
    """One contact made (催收记录): how, its outcome, the contact used (None: the borrower at its
    registered address), by whom and when (aware)."""

    activity_id: int
    kind: ActivityKind
    outcome: Outcome
    contact_id: int | None
    by: str
    at: datetime
    note: str = ""


@dataclass(slots=True)
class Promise:
    """A promise to pay ``amount`` by ``due_on``, made on ``made_on``; judged at end of day on
    ``due_on`` from the money settled from ``made_on`` to ``due_on``."""

    promise_id: int
    made_on: date
    due_on: date
    amount: Money
    by: str
    status: PromiseStatus = PromiseStatus.PENDING
    settled: Money | None = None
    evaluated_on: date | None = None

    def evaluate(self, settled: Money, on: date) -> None:
        """Kept (all of it settled), partly kept (some), broken (none)."""
        if self.status is not PromiseStatus.PENDING:
            return
        if settled >= self.amount:
            self.status = PromiseStatus.KEPT
        elif settled.is_positive():
            self.status = PromiseStatus.PARTLY_KEPT
        else:
            self.status = PromiseStatus.BROKEN
        self.settled, self.evaluated_on = settled, on


@dataclass(slots=True)
class CollectionCase:
    """A borrower's collection case (see the module docstring).

    ``pd`` and ``season_factors`` are the borrower's, taken when the case opened (the PD its line
    was approved on, its month-of-year factors; None: the policy's defaults). ``escalation`` is
    ``legal`` or ``write_off`` while a request for it waits for approval (``escalation_ids``:
    the approval requests).
    """

    case_id: int
    uscc: str
    region: str
    opened_on: date
    bucket: CaseBucket
    dpd: int
    principal: Money
    interest: Money
    penalty: Money
    compound: Money
    exposure: Money
    pd: Decimal | None
    season_factors: tuple[Decimal, ...] | None
    collector: str
    next_action_on: date
    priority_fen: int
    last_seen_on: date
    loan_ids: tuple[int, ...] = ()
    status: CaseStatus = CaseStatus.OPEN
    close_reason: CloseReason | None = None
    closed_on: date | None = None
    dispute_open: bool = False
    escalation: str = ""
    escalation_ids: tuple[int, ...] = ()
    moves: list[BucketMove] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    promises: list[Promise] = field(default_factory=list)
    version: int = 0

    # -- end of day ------------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        *,
        uscc: str,
        region: str,
        arrears: Arrears,
        on: date,
        pd: Decimal | None,
        season_factors: tuple[Decimal, ...] | None,
        collector: str,
        policy: CollectionsPolicy,
    ) -> CollectionCase:
        """A new case for a borrower entering arrears on ``on``."""
        case = cls(
            0,
            uscc,
            region,
            on,
            arrears.bucket,
            arrears.dpd,
            arrears.principal,
            arrears.interest,
            arrears.penalty,
            arrears.compound,
            arrears.exposure,
            pd,
            season_factors,
            collector,
            on,
            0,
            on,
            arrears.loan_ids,
        )
        case.moves.append(BucketMove(0, on, None, arrears.bucket, arrears.dpd))
        case.next_action_on = case.action_after(on, policy)
        case.reprioritise(on, policy)
        return case

    def observe(self, arrears: Arrears, on: date, policy: CollectionsPolicy) -> bool:
        """The borrower's arrears on ``on``: figures, bucket move, priority. False (nothing
        changed) for a day already seen."""
        self._require_open("observe")
        if on <= self.last_seen_on:
            return False
        if arrears.bucket is not self.bucket:
            self.moves.append(BucketMove(0, on, self.bucket, arrears.bucket, arrears.dpd))
            self.bucket = arrears.bucket
            self.next_action_on = min(self.next_action_on, on + _days(1))
        self.dpd, self.loan_ids = arrears.dpd, arrears.loan_ids
        self.principal, self.interest = arrears.principal, arrears.interest
        self.penalty, self.compound = arrears.penalty, arrears.compound
        self.exposure, self.last_seen_on = arrears.exposure, on
        self.reprioritise(on, policy)
        return True

    def reprioritise(self, on: date, policy: CollectionsPolicy) -> None:
        """Priority = PD × exposure × LGD, weighted for the coming cash-in month and a broken
        last promise (``domain/collection_policy.py``)."""
        self.priority_fen = expected_loss_fen(
            self.pd if self.pd is not None else policy.default_pd,
            self.exposure.minor,
            policy.lgd,
            *self.weights(on, policy),
        )

    def weights(self, on: date, policy: CollectionsPolicy) -> tuple[Decimal, ...]:
        """The priority's weights on ``on`` (season, broken promise), each only when it applies."""
        out = []
        if on.month % 12 + 1 in policy.cash_in(self.season_factors):
            out.append(policy.season_weight)
        if self.broken_promise:
            out.append(policy.broken_promise_factor)
        return tuple(out)

    def close(self, reason: CloseReason, on: date) -> None:
        """Close the case (its pending promises are left as they were judged)."""
        self._require_open("close")
        self.status, self.close_reason, self.closed_on = CaseStatus.CLOSED, reason, on
        self.escalation = ""

    # -- promises --------------------------------------------------------------------------------
    @property
    def broken_promise(self) -> bool:
        """The last promise that came due was broken."""
        judged = [p for p in self.promises if p.status is not PromiseStatus.PENDING]
        if not judged:
            return False
        last = max(judged, key=lambda p: (p.due_on, p.promise_id))
        return last.status is PromiseStatus.BROKEN

    def pending_due(self, on: date) -> list[Promise]:
        """Pending promises whose date has come."""
        return [p for p in self.promises if p.status is PromiseStatus.PENDING and p.due_on <= on]

    def promise(
        self, *, amount: Money, due_on: date, made_on: date, by: str, policy: CollectionsPolicy
    ) -> Promise:
        """Record a promise to pay (positive, due from the day it is made to the policy's limit)."""
        self._require_open("take a promise on")
        if not amount.is_positive():
            raise CaseError("a promise to pay needs a positive amount")
        if not made_on <= due_on <= made_on + _days(policy.promise_max_days):
            raise CaseError(
                f"a promise must fall due between {made_on} and "
                f"{made_on + _days(policy.promise_max_days)}, not {due_on}"
            )
        p = Promise(0, made_on, due_on, amount, by)
        self.promises.append(p)
        self.next_action_on = due_on + _days(1)
        return p

    # -- work ------------------------------------------------------------------------------------
    def record(self, activity: Activity, on: date, policy: CollectionsPolicy) -> None:
        """Record a contact; a dispute outcome opens a dispute (no contact until resolved)."""
        self._require_open("record a contact on")
        self.activities.append(activity)
        if activity.outcome is Outcome.DISPUTE:
            self.dispute_open = True
        self.next_action_on = max(self.next_action_on, self.action_after(on, policy))

    def resolve_dispute(self) -> None:
        """A risk manager resolved the borrower's dispute: contact may resume."""
        if not self.dispute_open:
            raise CaseError(f"case {self.case_id} has no open dispute")
        self.dispute_open = False

    def assign(self, collector: str) -> None:
        """Assign the case to ``collector``."""
        self._require_open("assign")
        self.collector = collector

    def escalate(self, kind: str, approval_ids: Sequence[int]) -> None:
        """Record a request to escalate (legal action or write-off) waiting for approval."""
        self._require_open("escalate")
        if self.bucket is not CaseBucket.M3_PLUS:
            raise CaseError(
                f"case {self.case_id} is {self.bucket.value}; only an M3+ case "
                "(over 90 days past due) is escalated"
            )
        if self.escalation:
            raise CaseError(f"case {self.case_id} already waits for {self.escalation} approval")
        self.escalation, self.escalation_ids = kind, tuple(approval_ids)

    def escalation_ended(self) -> None:
        """The escalation was rejected or cancelled: the case is worked again."""
        self.escalation = ""

    def action_after(self, on: date, policy: CollectionsPolicy) -> date:
        """The next action date after work on ``on`` (days per bucket in the policy)."""
        return on + _days(policy.next_action_days.get(self.bucket, 1))

    @property
    def is_open(self) -> bool:
        """The case is being worked."""
        return self.status is CaseStatus.OPEN

    @property
    def overdue(self) -> Money:
        """Everything overdue: principal, interest, penalty and compound."""
        return self.principal + self.interest + self.penalty + self.compound

    def _require_open(self, what: str) -> None:
        if self.status is not CaseStatus.OPEN:
            raise CaseError(f"case {self.case_id} is closed ({self.close_reason}); cannot {what}")


def _days(n: int) -> timedelta:
    return timedelta(days=n)
