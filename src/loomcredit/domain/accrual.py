"""Interest accrual (计提): normal, penalty (罚息) and compound (复利) interest, kept exact.

DOMAIN.md §8 (银发〔2003〕251号): an overdue loan is charged penalty interest at the contract
rate plus 30–50 % (funds used for another purpose, 挪用: plus 50–100 %), from the overdue date until
it is repaid; interest not paid on time is charged compound interest at the penalty rate.
Accrual runs daily on the ACT/360 basis by default.

Every accrual here is an exact :class:`~loomcredit.domain.money.MoneyFraction`; it becomes money
only through one explicit rounding step (:meth:`AccrualTotals.round`) at the posting boundary.

For one loan-day: principal not yet due accrues normal interest at the contract rate; overdue
principal accrues penalty interest *instead of* normal interest; overdue interest (normal, penalty
or compound already due and unpaid) accrues compound interest at the penalty rate.

>>> penalty_rate(Rate("0.035"), Decimal("0.5"))
Rate('0.0525')
>>> accrue(Money.parse("360000"), Rate("0.036"), date(2026, 1, 20), date(2026, 1, 21)).round()
Money(minor=3600, currency='CNY')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from loomcredit.domain.daycount import DayCount
from loomcredit.domain.errors import CurrencyMismatch, PolicyViolation, ScheduleError
from loomcredit.domain.money import CNY, Money, MoneyFraction, Rate, Round

__all__ = [
    "MISUSE_UPLIFT_RANGE",
    "OVERDUE_UPLIFT_RANGE",
    "AccrualTotals",
    "DailyAccrual",
    "RoundedAccrual",
    "accrue",
    "accrue_days",
    "penalty_rate",
]

OVERDUE_UPLIFT_RANGE = (Decimal("0.3"), Decimal("0.5"))
"""Penalty uplift on the contract rate for overdue loans: 30–50 % (银发〔2003〕251号)."""

MISUSE_UPLIFT_RANGE = (Decimal("0.5"), Decimal("1.0"))
"""Penalty uplift for funds used for another purpose (挪用): 50–100 %."""


def accrue(
    balance: Money,
    annual_rate: Rate,
    start: date,
    end: date,
    day_count: DayCount = DayCount.ACT_360,
) -> MoneyFraction:
    """Exact interest on a constant balance from ``start`` (exclusive) to ``end`` (inclusive).

    Args:
        balance: the balance that bears interest.
        annual_rate: annual rate applied.
        start: the day after which interest runs.
        end: the last day of interest.
        day_count: convention for days and the year length (ACT/360 by default).

    Returns:
        ``balance × annual_rate × day_count.year_fraction(start, end)``, not rounded.
    """
    exact = balance.minor * annual_rate.fraction * day_count.year_fraction(start, end)
    return MoneyFraction(exact, balance.currency)


def penalty_rate(contract: Rate, uplift: Decimal | str, *, misuse: bool = False) -> Rate:
    """The penalty rate: the contract rate raised by ``uplift`` (a share: ``"0.5"`` is +50 %).

    Args:
        contract: the contract annual rate.
        uplift: contractual uplift; 0.3–0.5 for overdue loans, 0.5–1.0 when ``misuse``.
        misuse: funds were used for another purpose than agreed (挪用).

    Returns:
        ``contract × (1 + uplift)``.

    Raises:
        PolicyViolation: the uplift is outside the range the rule allows.
        TypeError: the uplift is a float.
    """
    if isinstance(uplift, float):
        raise TypeError("penalty_rate refuses a float uplift; pass a str or Decimal.")
    share = Decimal(uplift)
    low, high = MISUSE_UPLIFT_RANGE if misuse else OVERDUE_UPLIFT_RANGE
    if not low <= share <= high:
        kind = "misused funds" if misuse else "overdue loans"
        raise PolicyViolation(
            f"A penalty uplift of {share:%} is outside the {low:.0%}–{high:.0%} allowed for {kind}."
        )
    return contract.uplift(share)


@dataclass(frozen=True, slots=True)
class RoundedAccrual:
    """Accrued amounts after the one rounding step, ready to post."""

    normal: Money
    penalty: Money
    compound: Money

    @property
    def total(self) -> Money:
        """All three together."""
        return self.normal + self.penalty + self.compound


@dataclass(frozen=True, slots=True)
class AccrualTotals:
    """Exact sums of normal, penalty and compound interest over some loan-days."""

    normal: MoneyFraction
    penalty: MoneyFraction
    compound: MoneyFraction

    @classmethod
    def zero(cls, currency: str = CNY) -> AccrualTotals:
        """Nothing accrued yet."""
        nil = MoneyFraction.zero(currency)
        return cls(nil, nil, nil)

    def __add__(self, other: AccrualTotals | DailyAccrual) -> AccrualTotals:
        return AccrualTotals(
            self.normal + other.normal,
            self.penalty + other.penalty,
            self.compound + other.compound,
        )

    @property
    def total(self) -> MoneyFraction:
        """Exact total of the three kinds."""
        return self.normal + self.penalty + self.compound

    def round(self, mode: Round = Round.HALF_UP) -> RoundedAccrual:
        """Round each kind once (they post to different income accounts)."""
        return RoundedAccrual(
            self.normal.round(mode), self.penalty.round(mode), self.compound.round(mode)
        )


@dataclass(frozen=True, slots=True)
class DailyAccrual:
    """What one loan accrues on one day (日计提): normal, penalty and compound interest, exact."""

    on: date
    normal: MoneyFraction
    penalty: MoneyFraction
    compound: MoneyFraction

    @classmethod
    def compute(
        cls,
        on: date,
        *,
        performing_principal: Money,
        overdue_principal: Money,
        overdue_interest: Money,
        annual_rate: Rate,
        penalty: Rate,
        day_count: DayCount = DayCount.ACT_360,
    ) -> DailyAccrual:
        """Accrue one day ending on ``on``.

        Args:
            on: the accrual date (the day is counted from the day before to ``on``).
            performing_principal: principal not yet due (bears normal interest).
            overdue_principal: principal past its due date (bears penalty interest instead).
            overdue_interest: interest past its due date and unpaid (bears compound interest).
            annual_rate: the contract rate.
            penalty: the penalty rate (see :func:`penalty_rate`).
            day_count: convention (ACT/360 by default).

        Returns:
            The day's exact accruals.

        Raises:
            ScheduleError: a negative balance.
            CurrencyMismatch: balances in different currencies.
        """
        for name, amount in (
            ("performing principal", performing_principal),
            ("overdue principal", overdue_principal),
            ("overdue interest", overdue_interest),
        ):
            if amount.is_negative():
                raise ScheduleError(f"The {name} cannot be negative ({amount}).")
            if amount.currency != performing_principal.currency:
                raise CurrencyMismatch(performing_principal.currency, amount.currency)
        one_day = day_count.year_fraction(on - timedelta(days=1), on)
        contract_day, penalty_day = annual_rate.fraction * one_day, penalty.fraction * one_day
        currency = performing_principal.currency
        return cls(
            on=on,
            normal=MoneyFraction(performing_principal.minor * contract_day, currency),
            penalty=MoneyFraction(overdue_principal.minor * penalty_day, currency),
            compound=MoneyFraction(overdue_interest.minor * penalty_day, currency),
        )

    @property
    def total(self) -> MoneyFraction:
        """Exact total of the day's accruals."""
        return self.normal + self.penalty + self.compound


def accrue_days(days: Iterable[DailyAccrual], currency: str = CNY) -> AccrualTotals:
    """Sum daily accruals exactly (round the result once with :meth:`AccrualTotals.round`)."""
    totals = AccrualTotals.zero(currency)
    for day in days:
        totals = totals + day
    return totals
