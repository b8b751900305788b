"""Property laws for Money: allocation conserves every fen, rounding agrees with Decimal."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from tests.strategies import currencies, monies, rates

from loomcredit.domain.errors import CurrencyMismatch
from loomcredit.domain.money import Money, MoneyFraction, Round, round_fraction

_DECIMAL_MODE = {
    Round.HALF_UP: ROUND_HALF_UP,
    Round.HALF_EVEN: ROUND_HALF_EVEN,
    Round.DOWN: ROUND_DOWN,
    Round.UP: ROUND_CEILING,
    Round.FLOOR: ROUND_FLOOR,
}


@given(monies(currency=None), st.integers(min_value=1, max_value=500))
@example(Money(100), 3)
@example(Money(-1), 7)
def test_allocate_sums_exactly_and_parts_differ_by_at_most_one_fen(money, n):
    """allocate(n) returns n parts summing to the amount, max − min ≤ 1 fen."""
    parts = money.allocate(n)
    assert len(parts) == n
    assert sum(p.minor for p in parts) == money.minor
    assert max(p.minor for p in parts) - min(p.minor for p in parts) <= 1
    assert {p.currency for p in parts} == {money.currency}


@given(monies(), st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=30))
def test_allocate_by_sums_exactly_and_stays_within_a_fen_of_the_share(money, weights):
    """allocate_by conserves the amount and each part is within 1 fen of its exact share."""
    if sum(weights) == 0:
        weights = [*weights, 1]
    parts = money.allocate_by(weights)
    assert sum(p.minor for p in parts) == money.minor
    for part, w in zip(parts, weights, strict=True):
        assert abs(Fraction(part.minor) - Fraction(money.minor * w, sum(weights))) < 1


@given(monies(currency="CNY"))
def test_format_then_parse_round_trips(money):
    """Money.parse(m.format()) == m, to the fen."""
    assert Money.parse(money.format(), "CNY") == money


@given(monies(currency=None))
def test_amount_str_round_trips(money):
    """The API form parses back to the same amount in any currency."""
    assert Money.parse(money.amount_str(), money.currency) == money


@given(monies(), monies(), monies())
def test_addition_is_commutative_associative_with_inverse(a, b, c):
    """a+b = b+a, (a+b)+c = a+(b+c), a + (−a) = 0."""
    assert a + b == b + a
    assert (a + b) + c == a + (b + c)
    assert (a + -a).is_zero()
    assert a - b == a + -b


@given(monies(currency=None), monies(currency=None))
def test_different_currencies_never_combine(a, b):
    """Any two amounts in different currencies refuse to add or compare."""
    if a.currency == b.currency:
        assert (a + b).minor == a.minor + b.minor
        return
    with pytest.raises(CurrencyMismatch):
        a + b
    with pytest.raises(CurrencyMismatch):
        _ = a <= b


@given(st.floats(allow_nan=True, allow_infinity=True), currencies())
def test_any_float_is_refused(value, currency):
    """Every float, even 1.0, is a TypeError."""
    with pytest.raises(TypeError):
        Money.parse(value, currency)


@given(
    st.integers(min_value=-(10**9), max_value=10**9),
    st.sampled_from([2, 3, 7, 10, 100, 360, 1000, 36000]),
    st.sampled_from(list(Round)),
)
@example(5, 2, Round.HALF_UP)
@example(-5, 2, Round.HALF_UP)
@example(5, 2, Round.HALF_EVEN)
def test_round_fraction_agrees_with_decimal_quantize(numerator, denominator, mode):
    """round_fraction matches Decimal.quantize with the same named mode."""
    value = Fraction(numerator, denominator)
    exact = Decimal(numerator) / Decimal(denominator)  # exact enough: 28 digits, values < 1e9
    expected = int(exact.quantize(Decimal(1), rounding=_DECIMAL_MODE[mode]))
    assert round_fraction(value, mode) == expected


@given(monies(min_fen=0, max_fen=10**11), rates(), st.integers(min_value=1, max_value=366))
def test_accrual_rounds_to_within_half_a_fen(balance, rate, days):
    """One HALF_UP step puts an exact accrual within half a fen of its true value."""
    exact = MoneyFraction(balance.times(rate.annual).fen * days / 360)
    rounded = exact.round(Round.HALF_UP)
    assert abs(Fraction(rounded.minor) - exact.fen) <= Fraction(1, 2)


@given(monies(), monies(), st.integers(min_value=-1000, max_value=1000))
def test_arithmetic_gives_the_money_the_constructor_would(a, b, k):
    """Sums, differences, negation, abs and int multiples (built without re-validating) are the
    same values as ``Money(minor, currency)``: equal, same hash, same repr, still immutable."""
    b = Money(b.minor, a.currency)
    for got, minor in (
        (a + b, a.minor + b.minor),
        (a - b, a.minor - b.minor),
        (-a, -a.minor),
        (abs(a), abs(a.minor)),
        (a * k, a.minor * k),
    ):
        want = Money(minor, a.currency)
        assert (got, hash(got), repr(got), type(got)) == (want, hash(want), repr(want), Money)
        with pytest.raises(AttributeError):
            got.minor = 0  # type: ignore[misc]
