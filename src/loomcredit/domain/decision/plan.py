"""Repayment plan suggestion (还款计划建议), built with the schedule engine.

For a seasonal firm (peak / trough factor ratio at least the policy's) the suggestion is a custom
principal plan: interest only in the months that follow a trough, principal repaid in the months
that follow a month at or above the repayment factor, in proportion to that month's factor (cash
collected in a peak month pays down the next due date; DOMAIN.md §7, §11). No principal falls due
in August or in the Chinese New Year window (CNY − 14 days to 正月十五, from the lunar calendar),
except at maturity. Other firms get the method they asked for. Due dates are the 20th of each
month, the first in the month after start. :func:`shape_for_start` moves a suggested plan to a loan
that starts in another month than the one it was suggested for.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from fractions import Fraction

from loomcredit.domain.daycount import add_months
from loomcredit.domain.decision.policy import PlanPolicy
from loomcredit.domain.decision.schedule_bridge import build
from loomcredit.domain.errors import ScheduleError
from loomcredit.domain.money import Money
from loomcredit.domain.schedule import Schedule
from loomcredit.domain.seasonality import is_cny_window

SETTLEMENT_DAY = 20
PLAN_UNIT_FEN = 10_000  # custom principal amounts in whole hundreds of yuan


@dataclass(frozen=True, slots=True)
class PlanShape:
    """The shape of a plan before amounts: method and, for custom plans, integer weights."""

    method: str
    weights: tuple[int, ...]
    seasonal: bool
    reason_zh: str
    reason_en: str

    def principal_shares(self, periods: int) -> list[Fraction]:
        """Share of principal repaid each period, for the pricing fee check.

        Annuity uses the equal-principal profile: its balance is never higher than the annuity's,
        so the annualised fee derived from it is an upper bound.
        """
        if self.method == "custom":
            total = sum(self.weights)
            return [Fraction(w, total) for w in self.weights]
        if self.method == "interest_only":
            return [Fraction(0)] * (periods - 1) + [Fraction(1)]
        return [Fraction(1, periods)] * periods


def first_due_date(start: date) -> date:
    """The 20th of the month after ``start``."""
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return date(year, month, SETTLEMENT_DAY)


def due_months(start: date, periods: int) -> list[int]:
    """Calendar month (1–12) of each monthly due date."""
    first = first_due_date(start).month
    return [(first - 1 + k) % 12 + 1 for k in range(periods)]


def is_seasonal(factors: tuple[Decimal, ...], policy: PlanPolicy) -> bool:
    """True when the peak month's factor is at least ``seasonal_ratio`` × the trough's."""
    low = min(factors)
    return low <= 0 or max(factors) / low >= policy.seasonal_ratio


def plan_shape(
    method: str,
    periods: int,
    start: date,
    factors: tuple[Decimal, ...],
    policy: PlanPolicy,
) -> PlanShape:
    """Choose the plan: a seasonal custom plan, or the method asked for.

    Args:
        method: the method asked for (annuity, equal_principal, interest_only, custom).
        periods: number of monthly periods.
        start: the loan start date.
        factors: twelve month-of-year factors (January first).
        policy: plan policy.

    Returns:
        The plan shape with weights for a custom plan.
    """
    if periods < policy.min_term_months or not is_seasonal(factors, policy):
        return PlanShape(
            method if method != "custom" else "annuity",
            (),
            False,
            "按申请的还款方式",
            "the repayment method asked for",
        )
    weights = []
    first = first_due_date(start)
    for k, month in enumerate(due_months(start, periods)):
        previous = factors[(month - 2) % 12]
        due_on = add_months(first, k)
        blocked = month in policy.avoid_principal_months or (
            policy.avoid_cny_window and is_cny_window(due_on)
        )
        weights.append(
            int(previous * 100) if previous >= policy.repay_factor_min and not blocked else 0
        )
    if weights[-1] == 0:
        weights[-1] = min((w for w in weights if w > 0), default=100)
    return PlanShape(
        "custom",
        tuple(weights),
        True,
        "季节性经营：淡季只付息，旺季回款后还本",
        "seasonal firm: interest only through troughs, principal after peaks",
    )


def shape_for_start(shape: PlanShape, suggested_for: date, start: date) -> PlanShape:
    """The plan suggested for a loan starting on ``suggested_for``, for one starting on ``start``.

    Custom weights belong to the calendar month of each due date (principal after a peak month,
    none in August), so when the first due date moves each period takes the weight its month had in
    the suggestion. A month the suggestion covered only at maturity (where the last period may
    repay in a trough) or not at all (terms under a year) repays nothing before maturity, nor does
    a due date in the Chinese New Year window; the last period repays the rest, as in
    :func:`plan_shape`. Other methods, and a start with the same first due date, are unchanged.
    """
    if shape.method != "custom" or first_due_date(start) == first_due_date(suggested_for):
        return shape
    periods = len(shape.weights)
    by_month: dict[int, int] = {}
    for month, weight in zip(
        due_months(suggested_for, periods)[:-1], shape.weights[:-1], strict=True
    ):
        by_month[month] = min(weight, by_month.get(month, weight))
    first = first_due_date(start)
    weights = [
        0 if is_cny_window(add_months(first, k)) else by_month.get(month, 0)
        for k, month in enumerate(due_months(start, periods))
    ]
    if weights[-1] == 0:
        weights[-1] = min((w for w in weights if w > 0), default=100)
    return replace(shape, weights=tuple(weights))


def _custom_plan(principal: Money, weights: tuple[int, ...]) -> list[Money]:
    # Whole hundreds of yuan by weight; the last period also takes the odd remainder.
    units, rest = divmod(principal.minor, PLAN_UNIT_FEN)
    parts = [Money(p.minor * PLAN_UNIT_FEN) for p in Money(units).allocate_by(list(weights))]
    parts[-1] = parts[-1] + Money(rest)
    return parts


def build_plan(
    shape: PlanShape, principal: Money, annual_rate: Decimal, periods: int, start: date
) -> Schedule:
    """The schedule for a plan shape and an amount, from the schedule engine."""
    if principal.minor <= 0:
        raise ScheduleError("a plan needs a positive principal")
    plan = _custom_plan(principal, shape.weights) if shape.method == "custom" else None
    return build(
        principal,
        annual_rate,
        periods,
        start,
        shape.method,
        first_due=first_due_date(start),
        principal_plan=plan,
    )
