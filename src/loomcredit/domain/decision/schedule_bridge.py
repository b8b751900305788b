"""Bridge from the decision engine to the schedule engine (``loomcredit.domain.schedule``).

The plan suggestion builds its schedules through :func:`build`. When the schedule engine is
installed it does the work; until then (and only then) a minimal implementation of the DOMAIN.md §7
formulas stands in: monthly rate i = annual / 12, interest = round_half_up(balance × i) per line,
annuity A = P·i·(1+i)^n / ((1+i)^n − 1), equal principal round(P/n), interest only, or a custom
principal vector; the last period clears the balance. Both give plain :class:`PlanLine` values.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from importlib import import_module
from typing import Any

from loomcredit.domain.errors import ScheduleError
from loomcredit.domain.money import Money, Rate, round_fraction

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PlanLine:
    """One instalment (期供) of a suggested schedule."""

    number: int
    due_on: date
    principal: Money
    interest: Money
    balance_after: Money

    @property
    def payment(self) -> Money:
        """Principal plus interest."""
        return self.principal + self.interest


@dataclass(frozen=True, slots=True)
class PlanSchedule:
    """A suggested schedule: its lines in order."""

    installments: tuple[PlanLine, ...]
    engine: str


@lru_cache(maxsize=1)
def _engine() -> Any:
    try:
        return import_module("loomcredit.domain.schedule")
    except ModuleNotFoundError as exc:
        if exc.name != "loomcredit.domain.schedule":
            raise
        return None


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (day ≤ 28 in every use here)."""
    index = day.month - 1 + months
    return date(day.year + index // 12, index % 12 + 1, day.day)


def _principal_due(
    method: str, k: int, p: int, periods: int, interest: int, annuity: int, plan: list[Money] | None
) -> int:
    if method == "annuity":
        return annuity - interest
    if method == "equal_principal":
        return round_fraction(Fraction(p, periods))
    if method == "interest_only":
        return 0
    if plan is None:
        raise ScheduleError("a custom schedule needs a principal plan")
    return plan[k].minor


def _fallback(
    principal: Money,
    annual_rate: Decimal,
    periods: int,
    method: str,
    first_due: date,
    plan: list[Money] | None,
) -> PlanSchedule:
    i = Fraction(annual_rate) / 12
    p = principal.minor
    annuity = 0
    if method == "annuity":
        growth = (1 + i) ** periods
        annuity = (
            round_fraction(p * i * growth / (growth - 1))
            if i
            else round_fraction(Fraction(p, periods))
        )
    balance, lines = p, []
    for k in range(periods):
        interest = round_fraction(balance * i)
        if k == periods - 1:
            paid = balance
        else:
            paid = _principal_due(method, k, p, periods, interest, annuity, plan)
        paid = min(max(paid, 0), balance)
        balance -= paid
        lines.append(
            PlanLine(k + 1, add_months(first_due, k), Money(paid), Money(interest), Money(balance))
        )
    return PlanSchedule(tuple(lines), "decision.schedule_bridge")


def build(
    principal: Money,
    annual_rate: Decimal,
    periods: int,
    start: date,
    method: str,
    *,
    first_due: date,
    principal_plan: list[Money] | None = None,
) -> PlanSchedule:
    """A monthly schedule from the schedule engine (or the stand-in when it is not installed).

    Args:
        principal: amount lent.
        annual_rate: annual interest rate as a fraction.
        periods: number of monthly instalments.
        start: loan start date.
        method: annuity | equal_principal | interest_only | custom.
        first_due: first due date (the 20th of the month after ``start``).
        principal_plan: principal per period for ``custom`` (sums to ``principal``).

    Returns:
        The schedule's lines.
    """
    engine = _engine()
    if engine is None:
        return _fallback(principal, annual_rate, periods, method, first_due, principal_plan)
    schedule = engine.build_schedule(
        principal,
        Rate(annual_rate),
        periods,
        start,
        engine.Method[method.upper()],
        first_due=first_due,
        principal_plan=principal_plan,
    )
    return PlanSchedule(
        tuple(
            PlanLine(i.number, i.due_on, i.principal, i.interest, i.balance_after)
            for i in schedule.installments
        ),
        "domain.schedule",
    )
