"""Pricing laws over random PDs, fees and terms: no ceiling is ever exceeded (DOMAIN.md §6)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from fractions import Fraction

from hypothesis import example, given
from hypothesis import strategies as st

from loomcredit.adapters.policy_file import load_lpr, load_policy
from loomcredit.domain.decision.pricing import average_balance_share, price

LPR = load_lpr()
BASE = load_policy().pricing
pds = st.decimals(min_value=0, max_value=1, places=6)
fees = st.decimals(min_value=0, max_value=Decimal("0.08"), places=4)
ceilings = st.decimals(min_value=Decimal("0.06"), max_value=Decimal("0.36"), places=4)
terms = st.sampled_from([1, 3, 6, 12, 24, 36])
days = st.dates(min_value=date(2019, 8, 20), max_value=date(2027, 12, 31))


@st.composite
def shares(draw):
    n = draw(st.integers(min_value=1, max_value=36))
    weights = draw(st.lists(st.integers(min_value=0, max_value=5), min_size=n, max_size=n))
    if sum(weights) == 0:
        weights[-1] = 1
    return average_balance_share([Fraction(w, sum(weights)) for w in weights])


@given(pds, fees, fees, ceilings, terms, shares(), days)
@example(
    Decimal("1"),
    Decimal("0.08"),
    Decimal("0.08"),
    Decimal("0.06"),
    1,
    Fraction(1, 36),
    date(2019, 8, 20),
)
@example(
    Decimal("0.02375"), Decimal(0), Decimal(0), Decimal("0.24"), 12, Fraction(1), date(2026, 1, 1)
)
def test_ceilings_never_exceeded(pd, upfront, annual, ceiling, term, share, on):
    """A feasible price never exceeds the internal or all-in ceiling and never sits below the
    floor; an infeasible one is exactly the case where floor + fees break the all-in ceiling."""
    policy = replace(
        BASE,
        upfront_fee_rate=upfront,
        annual_fee_rate=annual,
        all_in_ceiling=ceiling,
        internal_ceiling=min(BASE.internal_ceiling, ceiling),
    )
    p = price(pd, LPR, policy, on=on, term_months=term, balance_share=share)
    if p.feasible:
        assert p.annual_rate <= policy.internal_ceiling
        assert p.all_in_rate <= policy.all_in_ceiling
        assert p.annual_rate >= p.floor
        assert p.all_in_rate == p.annual_rate + p.fee_annualised
    else:
        assert (
            p.floor + p.fee_annualised > policy.all_in_ceiling or p.floor > policy.internal_ceiling
        )


@given(pds, pds)
def test_riskier_never_cheaper(a, b):
    """A higher PD never gets a lower rate (monotone pricing)."""
    low, high = sorted((a, b))
    on = date(2026, 3, 2)
    p_low = price(low, LPR, BASE, on=on, term_months=12, balance_share=Fraction(1))
    p_high = price(high, LPR, BASE, on=on, term_months=12, balance_share=Fraction(1))
    assert p_low.annual_rate <= p_high.annual_rate
