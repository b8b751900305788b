"""Restructuring a loan (贷款重组): extension 展期 and a new repayment plan 调整还款计划.

A :class:`RestructurePlan` is what a collector proposes and a risk manager approves (four eyes,
``domain/approval.py``); :meth:`loomcredit.domain.loan.Loan.restructure` applies it on the
business date with :func:`restructure_schedule`, defined here once.

The rule, for a loan restructured on day ``on`` (the business date, before its end of day):

* **Kept**: every settled instalment as it is; an instalment partly paid is kept with what was
  paid of it (so it is settled); an instalment nothing was paid on is replaced. History is never
  rewritten: paid amounts and their due dates stay.
* **Principal**: everything still owed (the loan's outstanding principal, overdue or not) is
  scheduled again from ``on``, exactly to the fen: the new principal column sums to it.
  *Extension* (:attr:`RestructureKind.EXTENSION`, 展期) keeps the monthly grid and pushes
  maturity out by ``months``; *reschedule* (:attr:`RestructureKind.RESCHEDULE`) spreads it over
  ``months`` new periods. The method is the loan's unless the plan names another one (a custom
  principal plan must name one).
* **Overdue interest and penalty are not capitalised.** Capitalising interest (利息资本化) hides
  arrears in principal and makes interest bear interest; regulators read it as a sign of a
  disguised non-performing loan, and the 2023 Measures look through it. So the interest unpaid
  on the instalments due by ``on`` (欠息) is deferred, not forgiven: it is charged on the first
  new instalment together with the interest of the current period (on the principal not yet due
  since the last due date, then on the whole principal from ``on`` to the first new due date,
  ACT/360 as end of day accrues it, each rounded half up once). Penalty and compound interest
  accrued to ``on`` stay owed (the waterfall takes them first from the next payment); they stop
  growing because nothing is overdue any more. Restructuring therefore moves no money and posts
  no entry; the interest recognised so far stays recognised (the deferred interest is carried in
  the current period's accrual until the first new due date bills it).
* **Delinquency**: nothing is overdue after it, so end of day counts DPD from the new schedule
  (0 the same day). The five-grade floor does not lift the grade: a restructured loan is at
  least 关注 (special mention), stays at least what it was (a non-performing loan stays at least
  次级), and one restructured again during its watch period is at least 可疑 (DOMAIN.md §5, the
  last two [U]).
* **Watch period** (重组观察期, DOMAIN.md §5): from the first new due date, at least
  :data:`WATCH_MIN_PERIODS` consecutive repayment periods and no less than
  :data:`WATCH_MIN_MONTHS` months; ``watch_until`` is its last day. No upgrade of the grade may
  be made before it (the grade floor never lifts one; a manual upgrade must check
  :meth:`Loan.is_under_watch`). Restarting the period on a missed payment is not modelled yet.

>>> from datetime import date
>>> from decimal import Decimal
>>> from loomcredit.domain.loan import Loan, LoanRef
>>> from loomcredit.domain.money import Money, Rate
>>> from loomcredit.domain.schedule import Method, build_schedule
>>> s = build_schedule(Money.parse("12000"), Rate("0.06"), 12, date(2026, 1, 5), Method.ANNUITY)
>>> loan = Loan.open(s, LoanRef(1, 1, 1, "91330603MA2B00000X", "k"), Decimal("0.5"))
>>> plan = RestructurePlan(RestructureKind.EXTENSION, 6)
>>> done = loan.restructure(plan, date(2026, 1, 20), "订单延迟 orders delayed")
>>> done.maturity, done.watch_until, sum(i.principal.minor for i in loan.instalments)
(datetime.date(2027, 7, 5), datetime.date(2027, 2, 5), 1200000)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from loomcredit.domain.accrual import accrue
from loomcredit.domain.daycount import Frequency, add_months, settlement_dates
from loomcredit.domain.errors import NotRestructurable, ScheduleError
from loomcredit.domain.money import Money
from loomcredit.domain.schedule import Method, Schedule, build_schedule

if TYPE_CHECKING:
    from loomcredit.domain.loan import Instalment, Loan

__all__ = [
    "FIRST_DUE_WITHIN_MONTHS",
    "MAX_MONTHS",
    "WATCH_MIN_MONTHS",
    "WATCH_MIN_PERIODS",
    "NotRestructurable",
    "RestructureKind",
    "RestructurePlan",
    "Restructured",
    "restructure_schedule",
    "watch_until",
]

WATCH_MIN_MONTHS = 12
"""The observation period lasts no less than a year (DOMAIN.md §5) …"""

WATCH_MIN_PERIODS = 2
"""… and covers at least two consecutive repayment periods."""

MAX_MONTHS = 120
"""The longest extension or new plan accepted (a typo guard, not a regulatory figure)."""

FIRST_DUE_WITHIN_MONTHS = 12
"""The first new due date falls within a year of the restructuring (a grace period beyond that
is a different product, not a restructuring)."""


class RestructureKind(StrEnum):
    """How the loan is restructured."""

    EXTENSION = "extension"
    RESCHEDULE = "reschedule"

    @property
    def label_zh(self) -> str:
        """Chinese label: 展期, 调整还款计划."""
        return {"extension": "展期", "reschedule": "调整还款计划"}[self.value]


@dataclass(frozen=True, slots=True)
class RestructurePlan:
    """A proposed restructuring.

    Attributes:
        kind: extension (maturity pushed out by ``months``) or reschedule (the principal owed
            spread over ``months`` new periods).
        months: months of extension, or the number of new periods (interest-only: the new term).
        first_due: the first new due date (after the restructuring date); default the loan's
            next due date, or a month after the restructuring (interest-only: the next 20th).
        method: the new repayment method; default the loan's (a custom plan must name one).
    """

    kind: RestructureKind
    months: int
    first_due: date | None = None
    method: Method | None = None

    def __post_init__(self) -> None:
        if isinstance(self.months, bool) or not 1 <= self.months <= MAX_MONTHS:
            raise ScheduleError(f"A restructuring runs 1–{MAX_MONTHS} months, not {self.months}.")
        if self.method is Method.CUSTOM:
            raise ScheduleError("A restructuring cannot ask for a custom principal plan.")

    @property
    def label(self) -> str:
        """``展期 extension 6 months`` and the like."""
        unit = "months" if self.kind is RestructureKind.EXTENSION else "periods"
        return f"{self.kind.label_zh} {self.kind.value} {self.months} {unit}"


@dataclass(frozen=True, slots=True)
class Restructured:
    """What a restructuring did (the loan holds the new schedule).

    Attributes:
        on: the restructuring date.
        principal: the principal scheduled again (the loan's outstanding, to the fen).
        deferred_interest: overdue interest moved to the first new due date (not capitalised).
        penalty_owed: penalty and compound interest still owed (not capitalised either).
        first_due: the first new due date.
        maturity: the new maturity.
        periods: new instalments.
        watch_until: last day of the watch period.
    """

    on: date
    principal: Money
    deferred_interest: Money
    penalty_owed: Money
    first_due: date
    maturity: date
    periods: int
    watch_until: date


def watch_until(first_due: date, due_dates: list[date]) -> date:
    """The watch period's last day: from ``first_due``, at least :data:`WATCH_MIN_PERIODS`
    repayment periods and :data:`WATCH_MIN_MONTHS` months (the later of the two)."""
    periods = due_dates[WATCH_MIN_PERIODS - 1] if len(due_dates) >= WATCH_MIN_PERIODS else None
    year = add_months(first_due, WATCH_MIN_MONTHS)
    return year if periods is None else max(year, periods)


def _first_due(loan: Loan, plan: RestructurePlan, on: date, method: Method, end: date) -> date:
    if plan.first_due is not None:
        if not on < plan.first_due <= add_months(on, FIRST_DUE_WITHIN_MONTHS):
            raise NotRestructurable(
                f"the first new due date {plan.first_due} must be after {on} and within "
                f"{FIRST_DUE_WITHIN_MONTHS} months of it",
                loan_id=loan.loan_id,
            )
        return plan.first_due
    if method is Method.INTEREST_ONLY:
        twentieths = settlement_dates(on, end, Frequency.MONTHLY)
        return twentieths[0] if twentieths and twentieths[0] < end else end
    later = [i.due_on for i in loan.instalments if i.due_on > on]
    return min(later) if later else add_months(on, 1)


def _maturity(loan: Loan, plan: RestructurePlan, on: date) -> date:
    """Interest-only: the new maturity (extension: the old one plus the months)."""
    if plan.kind is RestructureKind.EXTENSION:
        return add_months(max(i.due_on for i in loan.instalments), plan.months)
    return add_months(on, plan.months)


def _months_back(end: date, on: date) -> tuple[date, int]:
    """A start on or before ``on`` and a whole number of months from it to ``end``."""
    months = (end.year - on.year) * 12 + end.month - on.month
    start = add_months(end, -months)
    while start > on:
        months += 1
        start = add_months(end, -months)
    return start, max(months, 1)


def _new_schedule(loan: Loan, plan: RestructurePlan, on: date, principal: Money) -> Schedule:
    method = plan.method or loan.terms.method
    if method is Method.CUSTOM:
        raise NotRestructurable(
            f"loan {loan.loan_id} has a custom principal plan; name the new method",
            loan_id=loan.loan_id,
        )
    rate = loan.terms.annual_rate
    if method is Method.INTEREST_ONLY:
        end = _maturity(loan, plan, on)
        if end <= on:
            raise NotRestructurable(
                f"the new maturity {end} is not after {on}", loan_id=loan.loan_id
            )
        start, months = _months_back(end, on)
        first = _first_due(loan, plan, on, method, add_months(start, months))
        return build_schedule(principal, rate, months, start, method, first_due=first)
    first = _first_due(loan, plan, on, method, on)
    periods = plan.months
    if plan.kind is RestructureKind.EXTENSION:
        end = add_months(max(i.due_on for i in loan.instalments), plan.months)
        periods = 0
        while add_months(first, periods) <= end:
            periods += 1
        if periods == 0:
            raise NotRestructurable(
                f"an extension to {end} ends before the first new due date {first}",
                loan_id=loan.loan_id,
            )
    return build_schedule(principal, rate, periods, on, method, first_due=first)


def _kept(instalments: list[Instalment]) -> list[Instalment]:
    """Settled instalments as they are; partly paid ones cut to what was paid (so settled);
    the ones nothing was paid on are left out (replaced)."""
    from loomcredit.domain.loan import Instalment

    kept = []
    for i in instalments:
        if i.is_settled:
            kept.append(i)
        elif i.principal_paid.is_positive() or i.interest_paid.is_positive():
            pp, ip = i.principal_paid, i.interest_paid
            kept.append(Instalment(i.number, i.due_on, pp, ip, pp, ip))
    return kept


def restructure_schedule(
    loan: Loan, plan: RestructurePlan, on: date
) -> tuple[list[Instalment], Restructured, int]:
    """The loan's instalments after restructuring on ``on``, what it did, and the 1e-8 fen of
    deferred billed interest the current period's accrual must carry (see the module docstring).

    Raises:
        NotRestructurable: the loan is not active, owes no principal, the schedule does not
            account for its principal, or the plan cannot be applied.
    """
    from loomcredit.domain.end_of_day import E8
    from loomcredit.domain.loan import Instalment, LoanStatus

    if loan.status is not LoanStatus.ACTIVE:
        raise NotRestructurable(
            f"loan {loan.loan_id} is {loan.status.value}; only an active loan is restructured",
            loan_id=loan.loan_id,
        )
    if on < loan.terms.start_date:
        raise NotRestructurable(f"loan {loan.loan_id} starts after {on}", loan_id=loan.loan_id)
    cur, rate = loan.currency, loan.terms.annual_rate
    principal = loan.outstanding
    owed = Money(sum(i.principal_unpaid.minor for i in loan.instalments), cur)
    if not principal.is_positive() or owed != principal:
        raise NotRestructurable(
            f"loan {loan.loan_id} owes {principal} of principal and its schedule {owed}; "
            "nothing to restructure",
            loan_id=loan.loan_id,
        )
    due = [i for i in loan.instalments if i.due_on <= on]
    billed_unpaid = sum(i.interest_unpaid.minor for i in due if i.due_on < on)
    deferred = Money(sum(i.interest_unpaid.minor for i in due), cur)
    current = loan.interest_to_date(on, loan.undue_principal(on))
    sched = _new_schedule(loan, plan, on, principal)
    kept = _kept(loan.instalments)
    if any(i.due_on == on for i in kept) and billed_unpaid:  # pragma: no cover - waterfall order
        raise NotRestructurable(
            f"loan {loan.loan_id}: an instalment due on {on} was paid before older interest",
            loan_id=loan.loan_id,
        )
    first_number = max(i.number for i in loan.instalments) + 1
    nil = Money.zero(cur)
    fresh = [
        Instalment(first_number + k, s.due_on, s.principal, s.interest, nil, nil)
        for k, s in enumerate(sched.installments)
    ]
    fresh[0].interest = deferred + current + accrue(principal, rate, on, fresh[0].due_on).round()
    dates = [i.due_on for i in fresh]
    done = Restructured(
        on,
        principal,
        deferred,
        loan.accrual.penalty_due,
        dates[0],
        dates[-1],
        len(fresh),
        watch_until(dates[0], dates),
    )
    return [*kept, *fresh], done, billed_unpaid * E8
