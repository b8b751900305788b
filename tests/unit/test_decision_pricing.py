"""Risk-based pricing against hand-computed examples (DOMAIN.md §6)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from loomcredit.adapters.policy_file import load_lpr, load_policy
from loomcredit.domain.decision.pricing import average_balance_share, price
from loomcredit.domain.errors import NotFound

LPR = load_lpr()
PRICING = load_policy().pricing
ON = date(2026, 3, 2)
FLAT = Fraction(1)


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2026, 2, 24), "0.0300"),  # DOMAIN.md §6: 3.00 % on 2026-02-24
        (date(2025, 5, 20), "0.0300"),  # the cut takes effect on its release day
        (date(2025, 5, 19), "0.0310"),  # 3.10 % before the 2025-05-20 cut
        (date(2020, 8, 20), "0.0385"),  # 4 × 3.85 % = 15.4 % example of the SPC cap
    ],
)
def test_lpr_in_force_on_the_date(on, expected):
    """The 1-year LPR is the latest release on or before the date."""
    assert LPR.one_year_on(on) == Decimal(expected)


def test_no_lpr_before_the_reform():
    """There is no LPR before 2019-08-20: pricing that date is an error, not a guess."""
    with pytest.raises(NotFound):
        LPR.one_year_on(date(2019, 8, 19))


def test_spread_build_up_by_hand():
    """PD 1.5 %: EL 0.675 % + 0.30 + 0.50 + capital 0.08×0.75×10 % + 0.30 = 2.375 % → 238 bp."""
    p = price(Decimal("0.015"), LPR, PRICING, on=ON, term_months=12, balance_share=FLAT)
    assert p.expected_loss == Decimal("0.00675")
    assert p.capital_charge == Decimal("0.006")
    assert p.spread == Decimal("0.0238")  # 0.02375 rounds half up to 238 bp
    assert p.annual_rate == Decimal("0.0538")
    assert (p.bound, p.feasible, p.spread_bp) == ("none", True, 238)


def test_internal_ceiling_caps_a_risky_price():
    """PD 30 %: 3.00 + 13.5 + 1.7 = 18.2 % is capped at the internal ceiling of 12 %."""
    p = price(Decimal("0.30"), LPR, PRICING, on=ON, term_months=12, balance_share=FLAT)
    assert p.rate_before_bounds == Decimal("0.1820")
    assert p.annual_rate == Decimal("0.12")
    assert p.bound == "internal_ceiling"


def test_fee_counts_in_the_all_in_ceiling():
    """2 % upfront fee, 12 months equal principal: fee = 0.02 / (13/24) = 3.6923077 % a year,
    so with a 12 % all-in ceiling the rate may be at most 8.30 % (rounded down to a bp)."""
    policy = replace(PRICING, upfront_fee_rate=Decimal("0.02"), all_in_ceiling=Decimal("0.12"))
    share = average_balance_share([Fraction(1, 12)] * 12)
    assert share == Fraction(13, 24)
    p = price(Decimal("0.20"), LPR, policy, on=ON, term_months=12, balance_share=share)
    assert p.fee_annualised == Decimal("0.03692308")
    assert p.annual_rate == Decimal("0.0830")
    assert p.all_in_rate == Decimal("0.11992308")
    assert p.bound == "all_in_ceiling"


def test_floor_lifts_a_thin_spread():
    """With a 300 bp floor spread, a PD-0 price of LPR + 170 bp is lifted to LPR + 300 bp."""
    policy = replace(PRICING, floor_spread=Decimal("0.03"))
    p = price(Decimal("0"), LPR, policy, on=ON, term_months=12, balance_share=FLAT)
    assert p.rate_before_bounds == Decimal("0.0470")
    assert (p.annual_rate, p.bound) == (Decimal("0.0600"), "floor")


def test_price_is_infeasible_when_fees_alone_break_the_ceiling():
    """A 10 % fee on a 3-month bullet is 40 % a year: no rate fits under 24 %."""
    policy = replace(PRICING, upfront_fee_rate=Decimal("0.10"))
    p = price(Decimal("0.01"), LPR, policy, on=ON, term_months=3, balance_share=FLAT)
    assert p.fee_annualised == Decimal("0.4")
    assert not p.feasible


def test_rate_follows_the_lpr_of_the_date():
    """The same PD priced before the 2025-05-20 cut costs 10 bp more."""
    before = price(
        Decimal("0.01"), LPR, PRICING, on=date(2025, 5, 19), term_months=12, balance_share=FLAT
    )
    after = price(
        Decimal("0.01"), LPR, PRICING, on=date(2025, 5, 20), term_months=12, balance_share=FLAT
    )
    assert before.annual_rate - after.annual_rate == Decimal("0.0010")
