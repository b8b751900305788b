"""Laws every repayment schedule obeys, for every method including custom plans (hypothesis)."""

from __future__ import annotations

import itertools
from datetime import date
from fractions import Fraction

from hypothesis import example, given
from hypothesis import strategies as st

from loomcredit.domain.daycount import DayCount, Frequency
from loomcredit.domain.money import Money, Rate, round_fraction
from loomcredit.domain.schedule import Method, annuity_payment, build_schedule

principals = st.integers(min_value=1, max_value=10**10).map(Money.of_fen)  # up to 100 million
rates = st.integers(min_value=0, max_value=3600).map(Rate.from_bp)  # 0–36 % p.a.
periods = st.integers(min_value=1, max_value=360)
starts = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
day_counts = st.one_of(st.none(), st.sampled_from(list(DayCount)))
frequencies = st.sampled_from(list(Frequency))


@st.composite
def terms(draw):
    """Terms for any method; custom plans are random splits of the principal (zeros allowed)."""
    method = draw(st.sampled_from(list(Method)))
    principal = draw(principals)
    n = draw(periods if method is not Method.CUSTOM else st.integers(1, 60))
    plan = None
    if method is Method.CUSTOM:
        weights = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
        if sum(weights) == 0:
            weights[-1] = 1
        plan = principal.allocate_by(weights)
    frequency = draw(frequencies) if method is Method.INTEREST_ONLY else Frequency.MONTHLY
    return {
        "principal": principal,
        "annual_rate": draw(rates),
        "periods": n,
        "start": draw(starts),
        "method": method,
        "principal_plan": plan,
        "interest_frequency": frequency,
        "day_count": draw(day_counts),
    }


def build(t):
    return build_schedule(
        t["principal"],
        t["annual_rate"],
        t["periods"],
        t["start"],
        t["method"],
        principal_plan=t["principal_plan"],
        interest_frequency=t["interest_frequency"],
        day_count=t["day_count"],
    )


TINY_LONG_EXPENSIVE = {
    "principal": Money.of_fen(1),
    "annual_rate": Rate("0.36"),
    "periods": 360,
    "start": date(2026, 1, 31),
    "method": Method.ANNUITY,
    "principal_plan": None,
    "interest_frequency": Frequency.MONTHLY,
    "day_count": None,
}


@given(terms())
@example(TINY_LONG_EXPENSIVE)
def test_principal_sums_exactly_to_the_loan(t):
    """Σ principal over the schedule equals the amount lent, to the fen."""
    schedule = build(t)
    assert sum(i.principal.minor for i in schedule.installments) == t["principal"].minor


@given(terms())
@example(TINY_LONG_EXPENSIVE)
def test_final_balance_is_zero_and_balances_never_negative(t):
    """Balances run down from the principal without going negative and end at zero."""
    schedule = build(t)
    balances = [i.balance_after.minor for i in schedule.installments]
    assert balances[-1] == 0
    assert all(b >= 0 for b in balances)
    assert balances == sorted(balances, reverse=True)
    opening = [t["principal"].minor, *balances[:-1]]
    for before, inst in zip(opening, schedule.installments, strict=True):
        assert inst.balance_after.minor == before - inst.principal.minor
        assert inst.principal.minor >= 0
        assert inst.interest.minor >= 0


@given(terms())
def test_due_dates_increase_after_start(t):
    """Due dates are strictly increasing, start after the value date, and numbered 1..n."""
    schedule = build(t)
    dates = [i.due_on for i in schedule.installments]
    assert dates[0] > t["start"]
    assert all(a < b for a, b in itertools.pairwise(dates))
    assert [i.number for i in schedule.installments] == list(range(1, len(dates) + 1))


@given(terms())
@example(TINY_LONG_EXPENSIVE)
def test_last_installment_absorbs_the_residual(t):
    """The last instalment's principal is exactly what remains; earlier lines follow the method."""
    schedule = build(t)
    *early, last = schedule.installments
    opening_last = early[-1].balance_after if early else t["principal"]
    assert last.principal == opening_last
    method, n, p = t["method"], t["periods"], t["principal"].minor
    for inst, opening in zip(
        early, [t["principal"], *[i.balance_after for i in early]], strict=False
    ):
        cleared = inst.balance_after.is_zero() and inst.principal == opening
        if method is Method.ANNUITY and t["day_count"] is None:
            level = annuity_payment(t["principal"], t["annual_rate"], n)
            assert inst.payment == level or cleared
        elif method is Method.EQUAL_PRINCIPAL:
            assert inst.principal.minor == round_fraction(Fraction(p, n)) or cleared
        elif method is Method.INTEREST_ONLY:
            assert inst.principal.is_zero()
        elif method is Method.CUSTOM:
            assert inst.principal == t["principal_plan"][inst.number - 1]


@given(terms())
def test_monthly_interest_is_rounded_balance_times_i(t):
    """With the monthly formula each amortising line's interest is round(balance × annual/12)."""
    if t["day_count"] is not None or t["method"] is Method.INTEREST_ONLY:
        return
    schedule = build(t)
    i = Fraction(t["annual_rate"].annual) / 12
    opening = t["principal"].minor
    for inst in schedule.installments:
        exact = opening * i
        assert abs(inst.interest.minor - exact) <= Fraction(1, 2)
        opening = inst.balance_after.minor


@given(
    st.integers(min_value=100_000, max_value=10**10),
    st.integers(min_value=1, max_value=2400),
    st.integers(min_value=1, max_value=120),
)
def test_annuity_pays_close_to_the_exact_formula(fen, bp, n):
    """Every payment, the last included, is within the compounded rounding bound of the exact
    level instalment (≥ 1,000 yuan, ≤ 24 %, ≤ 10 years)."""
    principal, rate = Money.of_fen(fen), Rate.from_bp(bp)
    schedule = build_schedule(principal, rate, n, date(2026, 1, 20), Method.ANNUITY)
    i = Fraction(rate.annual) / 12
    exact = fen * i * (1 + i) ** n / ((1 + i) ** n - 1)
    # Each line rounds by at most half a fen in A and half a fen in interest; a fen of error in
    # period k grows to (1+i)^(n-k) by the end, so the residual is bounded by s_n = Σ (1+i)^k.
    tolerance = 1 + (((1 + i) ** n - 1) / i if i else n)
    for inst in schedule.installments:
        assert abs(inst.payment.minor - exact) <= tolerance
