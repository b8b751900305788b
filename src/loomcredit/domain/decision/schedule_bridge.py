"""Bridge from the decision engine to the schedule engine (``loomcredit.domain.schedule``).

The plan suggestion and the DSCR capacity build their schedules through :func:`build`, which names
the method as the policy file does (``annuity``, ``equal_principal``, ``interest_only``,
``custom``) and uses the DOMAIN.md §7 monthly formula (i = annual / 12, half-up per line).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from loomcredit.domain.money import Money, Rate
from loomcredit.domain.schedule import Method, Schedule, build_schedule


def build(
    principal: Money,
    annual_rate: Decimal,
    periods: int,
    start: date,
    method: str,
    *,
    first_due: date,
    principal_plan: list[Money] | None = None,
) -> Schedule:
    """A monthly schedule from the schedule engine.

    Args:
        principal: amount lent.
        annual_rate: annual interest rate as a fraction.
        periods: number of monthly instalments (or the term in months for interest-only).
        start: loan start date.
        method: annuity | equal_principal | interest_only | custom.
        first_due: first due date (the 20th of the month after ``start``).
        principal_plan: principal per period for ``custom`` (sums to ``principal``).

    Returns:
        The engine's schedule (principal sums to ``principal``; the last balance is zero).
    """
    return build_schedule(
        principal,
        Rate(annual_rate),
        periods,
        start,
        Method.parse(method),
        first_due=first_due,
        principal_plan=principal_plan,
    )
