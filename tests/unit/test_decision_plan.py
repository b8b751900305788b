"""Repayment plan suggestion: seasonal firms repay after peaks and pay only interest in troughs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from loomcredit.adapters.policy_file import load_policy
from loomcredit.domain.decision.plan import (
    build_plan,
    due_months,
    first_due_date,
    plan_shape,
    shape_for_start,
)
from loomcredit.domain.money import Money

POLICY = load_policy()
CLUSTER = POLICY.limits.cluster_season_factors  # DOMAIN.md §11, January first
START = date(2026, 3, 2)


def test_due_dates_are_the_20th_from_next_month():
    """Monthly settlement on the 20th (DOMAIN.md §7), first in the month after the start."""
    assert first_due_date(START) == date(2026, 4, 20)
    assert first_due_date(date(2026, 12, 31)) == date(2027, 1, 20)
    assert due_months(START, 12) == [4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3]


def test_seasonal_firm_gets_interest_only_troughs_and_repays_after_peaks():
    """With the cluster profile, nothing is repaid in Aug/Sep (after the midsummer trough) or
    Jan/Feb (after December and the CNY trough); most is repaid in Oct/Nov after the peak."""
    shape = plan_shape("annuity", 12, START, CLUSTER, POLICY.plan)
    assert shape.method == "custom"
    assert shape.seasonal
    schedule = build_plan(shape, Money.parse("500000"), Decimal("0.0538"), 12, START)
    by_month = {i.due_on.month: i.principal.amount_str() for i in schedule.installments}
    # weights 100/100/100/110/0/0/120/120/100/0/0/100 of 850, in whole hundreds of yuan
    assert by_month == {
        4: "58900.00", 5: "58800.00", 6: "58800.00", 7: "64700.00", 8: "0.00", 9: "0.00",
        10: "70600.00", 11: "70600.00", 12: "58800.00", 1: "0.00", 2: "0.00", 3: "58800.00",
    }  # fmt: skip
    assert schedule.installments[-1].balance_after == Money.zero()


def test_seasonal_plan_charges_interest_on_the_balance():
    """First month: 500,000 × 5.38 % / 12 = 2,241.67; August: 258,800 × 5.38 % / 12 = 1,160.29."""
    shape = plan_shape("annuity", 12, START, CLUSTER, POLICY.plan)
    schedule = build_plan(shape, Money.parse("500000"), Decimal("0.0538"), 12, START)
    interest = {i.due_on.month: i.interest.amount_str() for i in schedule.installments}
    assert (interest[4], interest[8]) == ("2241.67", "1160.29")


def test_flat_profile_keeps_the_method_asked_for():
    """A firm without seasonality gets the method it asked for."""
    flat = tuple(Decimal("1.0") for _ in range(12))
    shape = plan_shape("equal_principal", 12, START, flat, POLICY.plan)
    assert (shape.method, shape.seasonal) == ("equal_principal", False)


def test_short_loans_are_not_reshaped():
    """Below the policy's minimum term (6 months) the asked method stands."""
    shape = plan_shape("interest_only", 3, START, CLUSTER, POLICY.plan)
    assert shape.method == "interest_only"


def test_last_period_always_repays_principal():
    """A plan ending in a trough month still clears the balance at maturity (no zero tail)."""
    shape = plan_shape("annuity", 10, START, CLUSTER, POLICY.plan)  # last due 2027-01-20
    assert shape.weights[-1] > 0


def test_schedules_match_the_published_formulas():
    """DOMAIN.md §7 golden answers: 100,000 at 6 % over 120 months annuity pays 1,110.21; 120,000
    at 3.6 % over 12 months equal principal pays 10,360.00 first and 10,030.00 last."""
    from loomcredit.domain.decision.schedule_bridge import build

    annuity = build(Money.parse("100000"), Decimal("0.06"), 120, START, "annuity",
                    first_due=date(2026, 4, 20))  # fmt: skip
    assert annuity.installments[0].payment == Money.parse("1110.21")
    assert annuity.installments[-1].balance_after == Money.zero()
    equal = build(Money.parse("120000"), Decimal("0.036"), 12, START, "equal_principal",
                  first_due=date(2026, 4, 20))  # fmt: skip
    assert equal.installments[0].payment == Money.parse("10360.00")
    assert equal.installments[-1].payment == Money.parse("10030.00")


def test_no_principal_in_august_or_the_cny_window_even_after_a_peak():
    """DOMAIN.md §11: a firm peaking in July still repays nothing on 20 August, and nothing on
    2027-02-20 (CNY 2027-02-06; the window runs to 正月十五 = 2027-02-20)."""
    profile = "1.3 1.3 0.6 0.6 0.6 1.3 1.3 1.0 1.0 1.0 1.0 1.0"
    own = tuple(Decimal(x) for x in profile.split())
    shape = plan_shape("annuity", 12, START, own, POLICY.plan)
    by_month = dict(zip(due_months(START, 12), shape.weights, strict=True))
    assert shape.method == "custom"
    assert by_month[8] == 0  # after a 1.3 July
    assert by_month[2] == 0  # after a 1.3 January, but inside the CNY window
    assert by_month[1] == 100  # 2027-01-20 (after a 1.0 December) is before the window (01-23)


def test_a_plan_lent_in_the_month_it_was_suggested_is_unchanged():
    """Another start day in the same month keeps the same due dates, so the same weights."""
    shape = plan_shape("annuity", 12, START, CLUSTER, POLICY.plan)
    assert shape_for_start(shape, START, date(2026, 3, 28)) == shape


def test_a_plan_lent_two_months_later_keeps_its_months():
    """Suggested on 2026-03-02 (Apr…Mar: 100/100/100/110/0/0/120/120/100/0/0/100), lent on
    2026-05-04 (Jun…May): each month keeps its weight; March, repaid in the suggestion only at
    maturity, now repays nothing; the result is what the engine suggests for 2026-05-04."""
    shape = plan_shape("annuity", 12, START, CLUSTER, POLICY.plan)
    moved = shape_for_start(shape, START, date(2026, 5, 4))
    assert moved.weights == (100, 110, 0, 0, 120, 120, 100, 0, 0, 0, 100, 100)
    assert moved == plan_shape("annuity", 12, date(2026, 5, 4), CLUSTER, POLICY.plan)


def test_a_moved_plan_repays_nothing_in_the_cny_window():
    """20 January 2027 is before the CNY window (repays 100) but 20 January 2028 is inside it
    (CNY 2028-01-26, window from 01-12): a year later January repays nothing."""
    profile = "1.3 1.3 0.6 0.6 0.6 1.3 1.3 1.0 1.0 1.0 1.0 1.0"
    own = tuple(Decimal(x) for x in profile.split())
    shape = plan_shape("annuity", 12, START, own, POLICY.plan)
    assert dict(zip(due_months(START, 12), shape.weights, strict=True))[1] == 100
    moved = shape_for_start(shape, START, date(2027, 2, 1))  # Mar 2027 … Feb 2028
    by_month = dict(zip(due_months(date(2027, 2, 1), 12), moved.weights, strict=True))
    assert (by_month[1], by_month[8]) == (0, 0)
    assert moved.weights[-1] > 0


def test_other_methods_do_not_move():
    """A plan that is not custom has no weights to move."""
    flat = tuple(Decimal("1.0") for _ in range(12))
    shape = plan_shape("equal_principal", 12, START, flat, POLICY.plan)
    assert shape_for_start(shape, START, date(2026, 9, 1)) == shape
