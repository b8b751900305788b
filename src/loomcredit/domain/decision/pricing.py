"""Risk-based pricing (风险定价): annual rate = 1-year LPR in force on the date + spread.

The spread is built from expected loss (PD × LGD), funding spread, operating cost, capital charge
and margin (DOMAIN.md §6). The spread is rounded half-up to a whole basis point (the one rounding
step), then the rate is held between the floor and the ceilings: an internal ceiling on the rate
and an all-in annualised cost ceiling (24 % by default) that includes fees. The ceiling side is
rounded *down* to a basis point so that no ceiling is ever exceeded. The whole build-up is kept.

>>> table = LprTable((LprQuote(date(2024, 10, 21), Decimal("0.0310"), Decimal("0.0360")),
...                   LprQuote(date(2025, 5, 20), Decimal("0.0300"), Decimal("0.0350"))))
>>> table.one_year_on(date(2025, 5, 19)), table.one_year_on(date(2025, 5, 20))
(Decimal('0.0310'), Decimal('0.0300'))
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from fractions import Fraction

from loomcredit.domain.decision.policy import PricingPolicy
from loomcredit.domain.errors import DateOutOfRange

BP = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class LprQuote:
    """One LPR release (贷款市场报价利率): in force from ``effective_on`` until the next one."""

    effective_on: date
    one_year: Decimal
    five_year: Decimal


@dataclass(frozen=True, slots=True)
class LprTable:
    """Dated LPR history; the rate in force on a date is the latest release on or before it."""

    quotes: tuple[LprQuote, ...]

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.quotes, key=lambda q: q.effective_on))
        object.__setattr__(self, "quotes", ordered)

    def quote_on(self, on: date) -> LprQuote:
        """The release in force on ``on``; :class:`NotFound` before the first release."""
        dates = [q.effective_on for q in self.quotes]
        index = bisect.bisect_right(dates, on) - 1
        if index < 0:
            raise DateOutOfRange(
                f"no LPR in force on {on.isoformat()}: the LPR table starts on "
                f"{dates[0].isoformat()}; use as_of on or after that date"
                if dates
                else f"no LPR in force on {on.isoformat()}: the LPR table is empty"
            )
        return self.quotes[index]

    def one_year_on(self, on: date) -> Decimal:
        """The 1-year LPR in force on ``on`` as an annual fraction."""
        return self.quote_on(on).one_year


@dataclass(frozen=True, slots=True)
class PriceBuildUp:
    """Every step from LPR to the final annual rate and all-in annualised cost (年化综合成本)."""

    lpr_1y: Decimal
    lpr_effective_on: date
    pd: Decimal
    lgd: Decimal
    expected_loss: Decimal
    funding_spread: Decimal
    operating_cost: Decimal
    capital_charge: Decimal
    margin: Decimal
    spread: Decimal
    rate_before_bounds: Decimal
    floor: Decimal
    internal_ceiling: Decimal
    fee_annualised: Decimal
    all_in_ceiling: Decimal
    annual_rate: Decimal
    all_in_rate: Decimal
    bound: str
    feasible: bool

    @property
    def spread_bp(self) -> int:
        """The final rate's spread over LPR in whole basis points."""
        return int((self.annual_rate - self.lpr_1y) / BP)


def average_balance_share(principal_shares: list[Fraction]) -> Fraction:
    """Mean outstanding balance over the periods as a share of the principal.

    Args:
        principal_shares: the share of principal repaid in each period (summing to 1).

    Returns:
        Σ balance before each period / (n × principal); equal principal gives (n+1)/(2n).

    >>> average_balance_share([Fraction(1, 4)] * 4)
    Fraction(5, 8)
    """
    outstanding, total = Fraction(1), Fraction(0)
    for share in principal_shares:
        total += outstanding
        outstanding -= share
    return total / len(principal_shares) if principal_shares else Fraction(1)


def annualised_fee(policy: PricingPolicy, term_months: int, balance_share: Fraction) -> Decimal:
    """Fees as an annual rate on the principal actually outstanding, rounded up to 1e-8.

    The upfront fee is spread over the average outstanding balance and the term in years; the
    annual fee is already annual. Rounding up keeps the all-in check conservative.
    """
    years = Fraction(term_months, 12)
    upfront = Fraction(policy.upfront_fee_rate) / (balance_share * years)
    exact = upfront + Fraction(policy.annual_fee_rate)
    value = Decimal(exact.numerator) / Decimal(exact.denominator)
    return value.quantize(Decimal("0.00000001"), rounding=ROUND_UP)


def price(
    pd: Decimal,
    lpr: LprTable,
    policy: PricingPolicy,
    *,
    on: date,
    term_months: int,
    balance_share: Fraction,
) -> PriceBuildUp:
    """Price a loan.

    Args:
        pd: probability of default over 12 months (0..1).
        lpr: the dated LPR table.
        policy: pricing policy.
        on: the date whose LPR applies (the decision's as_of).
        term_months: loan term, for annualising the upfront fee.
        balance_share: average outstanding balance as a share of principal under the plan
            (a conservative lower bound gives an upper bound on the fee's annual cost).

    Returns:
        The price build-up. ``feasible`` is False when even the floor rate breaks a ceiling.
    """
    quote = lpr.quote_on(on)
    expected_loss = pd * policy.lgd
    capital = policy.capital_charge
    raw = expected_loss + policy.funding_spread + policy.operating_cost + capital + policy.margin
    spread = raw.quantize(BP, rounding=ROUND_HALF_UP)
    rate = quote.one_year + spread
    floor = quote.one_year + policy.floor_spread
    fee = annualised_fee(policy, term_months, balance_share)
    cap = min(policy.internal_ceiling, policy.all_in_ceiling - fee).quantize(
        BP, rounding=ROUND_DOWN
    )
    final, bound = rate, "none"
    if final < floor:
        final, bound = floor, "floor"
    if final > cap:
        final = cap
        bound = "internal_ceiling" if cap == policy.internal_ceiling else "all_in_ceiling"
    feasible = final >= floor
    return PriceBuildUp(
        lpr_1y=quote.one_year,
        lpr_effective_on=quote.effective_on,
        pd=pd,
        lgd=policy.lgd,
        expected_loss=expected_loss,
        funding_spread=policy.funding_spread,
        operating_cost=policy.operating_cost,
        capital_charge=capital,
        margin=policy.margin,
        spread=spread,
        rate_before_bounds=rate,
        floor=floor,
        internal_ceiling=policy.internal_ceiling,
        fee_annualised=fee,
        all_in_ceiling=policy.all_in_ceiling,
        annual_rate=final,
        all_in_rate=final + fee,
        bound=bound,
        feasible=feasible,
    )
