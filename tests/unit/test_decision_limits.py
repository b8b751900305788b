"""Limit build-up by hand, and seasonal monthly limits visible across the year (DOMAIN.md §11)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from loomcredit.adapters.policy_file import load_policy
from loomcredit.domain.decision.limits import credit_limit, season_factors
from loomcredit.domain.decision.policy import ProductKind
from loomcredit.domain.money import Money

POLICY = load_policy()
Y = Money.parse


@dataclass(frozen=True)
class Line:
    payment: Money


@dataclass(frozen=True)
class FlatSchedule:
    """Twelve equal payments: a stand-in for the schedule engine's output."""

    installments: tuple[Line, ...]


def twelve(asked: Money) -> FlatSchedule:
    """Twelve payments of 8.7 % of the amount (1.044 a yuan over the year)."""
    payment = Money(asked.minor * 87 // 1000)
    return FlatSchedule(tuple(Line(payment) for _ in range(12)))


FIRM = {"sales_12m_fen": Y("6000000").minor, "bureau_loans_outstanding_fen": Y("1000000").minor}


def limit_for(features, asked="1000000", pd="0.015", exposure="0", product=POLICY.product):
    return credit_limit(
        features,
        pd=Decimal(pd),
        asked=Y(asked),
        schedule_for_asked=twelve(Y(asked)),
        term_months=12,
        product=product,
        policy=POLICY.limits,
        cluster_exposure=Y(exposure),
    )


def test_dscr_capacity_by_hand():
    """Cash 6M×12 % − 1M×10 % = 620k; /1.25 = 496k a year; 12 × 87k per 1M asked is 1.044 a yuan:
    capacity 475,095.78, limit rounded down to 475,000 and bound by DSCR."""
    built = limit_for(FIRM)
    assert built.cash_flow_annual == Y("620000")
    assert built.component("dscr_capacity").amount == Y("475095.78")
    assert built.component("sales_multiple").amount == Y("1800000")  # 0.30 × 6M at PD ≤ 2 %
    assert (built.binding, built.limit) == ("dscr_capacity", Y("475000"))


def test_sales_multiple_tier_follows_pd():
    """PD 4 % falls in the ≤ 5 % tier: 0.20 × 6M = 1.2M; above every tier the multiple is zero."""
    assert limit_for(FIRM, pd="0.04").component("sales_multiple").amount == Y("1200000")
    assert limit_for(FIRM, pd="0.5").limit == Money.zero()


def test_amount_asked_binds_when_smallest():
    """A small ask is the limit itself."""
    built = limit_for(FIRM, asked="300000")
    assert (built.binding, built.limit) == ("asked", Y("300000"))


def test_cluster_concentration_cap_binds():
    """With only 200k of room left under the cluster cap, the limit is 200k."""
    room_left = POLICY.limits.cluster_cap - Y("200000")
    built = limit_for(FIRM, exposure=room_left.amount_str())
    assert (built.binding, built.limit) == ("concentration", Y("200000"))


def test_no_cash_flow_no_capacity():
    """A firm whose reported debt service eats its cash flow has no debt capacity."""
    firm = {**FIRM, "bureau_loans_outstanding_fen": Y("8000000").minor}
    assert limit_for(firm).component("dscr_capacity").amount == Money.zero()


SEASONAL = {
    **FIRM,
    "months_of_history": 36,
    **{f"season_factor_{m:02d}": f for m, f in enumerate(
        [0.6, 0.5, 1.0, 1.1, 1.0, 1.2, 0.8, 0.7, 1.4, 1.4, 1.2, 1.1], start=1)},
}  # fmt: skip


def test_seasonal_limits_visible_across_the_year_for_a_revolving_line():
    """A 400k revolving line for a seasonal firm: 240k in January (0.6), 560k in September (1.4)."""
    revolving = replace(POLICY.product, kind=ProductKind.REVOLVING)
    built = limit_for(SEASONAL, asked="400000", product=revolving)
    assert built.limit == Y("400000")
    assert built.season_source == "own"
    monthly = [m.amount_str() for m in built.monthly_limits]
    assert monthly == [
        "240000.00", "200000.00", "400000.00", "440000.00", "400000.00", "480000.00",
        "320000.00", "280000.00", "560000.00", "560000.00", "480000.00", "440000.00",
    ]  # fmt: skip


def test_young_firm_falls_back_to_cluster_factors():
    """With under 24 months of history the cluster factors of DOMAIN.md §11 apply."""
    young = {**SEASONAL, "months_of_history": 18}
    source, factors = season_factors(young, POLICY.limits)
    assert source == "cluster"
    assert [str(f) for f in factors] == ["0.7", "0.7", "1.0", "1.0", "1.0", "1.1",
                                         "0.9", "0.9", "1.2", "1.2", "1.0", "0.8"]  # fmt: skip


def test_extreme_own_factors_are_clipped():
    """An own factor of 0.2 or 2.5 is held to the policy's 0.5 floor and 1.5 cap."""
    wild = {**SEASONAL, "season_factor_01": 0.2, "season_factor_09": 2.5}
    _, factors = season_factors(wild, POLICY.limits)
    assert (factors[0], factors[8]) == (Decimal("0.5"), Decimal("1.5"))


def test_term_loan_has_no_monthly_limits():
    """Monthly limits are for revolving lines; a term loan records only the factors."""
    assert limit_for(SEASONAL).monthly_limits == ()
