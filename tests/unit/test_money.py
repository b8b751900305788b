"""Money, MoneyFraction and Rate: exact fen, no floats, no currency mixing, named rounding."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from tests.factories import M

from loomcredit.domain.errors import CurrencyMismatch, InvalidAmount
from loomcredit.domain.money import Money, MoneyFraction, Rate, Round, round_fraction, total


@pytest.mark.parametrize(
    ("raw", "fen"),
    [
        ("1234.56", 123456),
        ("¥1,234.56", 123456),
        ("￥1，234.50", 123450),
        (" 0.01 ", 1),
        ("-7.5", -750),
        ("100", 10000),
        (100, 10000),
        (Decimal("99.99"), 9999),
        ("１２３.４５", 12345),
    ],
)
def test_parse_exact_amounts(raw, fen):
    """Strings, ints and Decimals parse to the exact number of fen."""
    assert Money.parse(raw).minor == fen


@pytest.mark.parametrize("raw", ["1.001", "abc", "", "1e3", "1.2.3", Decimal("NaN")])
def test_parse_refuses_inexact_or_malformed(raw):
    """More than two decimals, text that is not a number, and NaN are refused."""
    with pytest.raises(InvalidAmount):
        Money.parse(raw)


@pytest.mark.parametrize("factory", [Money.parse, Money.from_decimal, Money, Rate, Rate.from_bp])
def test_float_is_refused_with_type_error(factory):
    """A float is a TypeError everywhere money or rates are built."""
    with pytest.raises(TypeError):
        factory(0.1)


def test_float_multiplication_and_times_are_refused():
    """Money * float and Money.times(float) raise TypeError."""
    with pytest.raises(TypeError):
        M("10.00") * 1.5
    with pytest.raises(TypeError):
        M("10.00").times(0.5)


def test_from_decimal_rounds_once_with_the_named_mode():
    """from_decimal rounds half up by default and by the named mode otherwise."""
    assert Money.from_decimal("0.005").minor == 1
    assert Money.from_decimal("0.005", rounding=Round.HALF_EVEN).minor == 0
    assert Money.from_decimal("-0.005").minor == -1


@pytest.mark.parametrize("raw", ["abc", "NaN", "Infinity"])
def test_from_decimal_refuses_non_numbers_as_invalid_amount(raw):
    """from_decimal raises InvalidAmount (not a decimal signal) for text that is not a number."""
    with pytest.raises(InvalidAmount):
        Money.from_decimal(raw)


def test_mixing_currencies_raises():
    """Adding, subtracting or comparing CNY with USD raises CurrencyMismatch."""
    cny, usd = M("1.00 CNY"), M("1.00 USD")
    for op in (lambda: cny + usd, lambda: cny - usd, lambda: cny < usd, lambda: total([cny, usd])):
        with pytest.raises(CurrencyMismatch):
            op()


def test_money_is_immutable():
    """Money cannot be changed after it is built."""
    m = M("1.00")
    with pytest.raises(AttributeError):
        m.minor = 5  # type: ignore[misc]


def test_sum_starts_from_zero_only():
    """sum() works from int 0; any other int start is refused."""
    assert sum([M("1.10"), M("2.20")]) == M("3.30")
    with pytest.raises(TypeError):
        sum([M("1.10")], 1)


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (M("1234.56"), "¥1,234.56"),
        (M("-1234.5"), "-¥1,234.50"),
        (M("0.01"), "¥0.01"),
        (M("1000000 USD"), "$1,000,000.00"),
        (Money(5, "GBP"), "GBP 0.05"),
    ],
)
def test_format(money, text):
    """Format uses the currency symbol, thousands separators and two decimals."""
    assert money.format() == text


def test_amount_str_is_a_plain_decimal():
    """The API form is a plain decimal string with two places."""
    assert M("1234.5").amount_str() == "1234.50"
    assert M("-0.01").amount_str() == "-0.01"


def test_allocate_worked_example():
    """¥100.00 in 3 parts is 33.34 + 33.33 + 33.33 (extra fen first)."""
    assert M("100.00").allocate(3) == [M("33.34"), M("33.33"), M("33.33")]


def test_allocate_negative_amount():
    """-¥0.05 in 3 parts is -0.02, -0.02, -0.01."""
    assert M("-0.05").allocate(3) == [M("-0.02"), M("-0.02"), M("-0.01")]


@pytest.mark.parametrize("n", [0, -1, True])
def test_allocate_needs_a_positive_count(n):
    """Zero, negative and bool part counts are refused."""
    with pytest.raises(ValueError, match="positive"):
        M("1.00").allocate(n)


def test_allocate_by_weights_worked_example():
    """¥10.00 by 1:1:1 is 3.34, 3.33, 3.33; by 3:1 is 7.50, 2.50."""
    assert M("10.00").allocate_by([1, 1, 1]) == [M("3.34"), M("3.33"), M("3.33")]
    assert M("10.00").allocate_by([3, 1]) == [M("7.50"), M("2.50")]


@pytest.mark.parametrize(
    ("value", "mode", "expected"),
    [
        (Fraction(5, 2), Round.HALF_UP, 3),
        (Fraction(-5, 2), Round.HALF_UP, -3),
        (Fraction(5, 2), Round.HALF_EVEN, 2),
        (Fraction(7, 2), Round.HALF_EVEN, 4),
        (Fraction(-5, 2), Round.HALF_EVEN, -2),
        (Fraction(27, 10), Round.DOWN, 2),
        (Fraction(-27, 10), Round.DOWN, -2),
        (Fraction(21, 10), Round.UP, 3),
        (Fraction(-27, 10), Round.UP, -2),
        (Fraction(-23, 10), Round.FLOOR, -3),
        (Fraction(249, 100), Round.HALF_UP, 2),
        (Fraction(3), Round.UP, 3),
    ],
)
def test_rounding_modes_hand_table(value, mode, expected):
    """Each named mode rounds as its definition says (hand-made table)."""
    assert round_fraction(value, mode) == expected


def test_money_fraction_rounds_once():
    """¥1,000.00 × 3.45% / 360 for 31 days is 2.9708… yuan, ¥2.97 after one HALF_UP step."""
    exact = M("1000.00").times(Decimal("0.0345")).fen * 31 / 360
    assert MoneyFraction(exact).round() == M("2.97")
    assert MoneyFraction(exact).round(Round.UP) == M("2.98")


def test_money_fraction_refuses_currency_mixing():
    """An exact USD accrual cannot be added to CNY."""
    with pytest.raises(CurrencyMismatch):
        MoneyFraction.zero("CNY") + M("1.00 USD")


def test_rate_golden_values():
    """3.50% uplifted by 50% is 5.25% (DOMAIN.md §8); 48 bp is 0.48%; 6%/12 is 0.5% a month."""
    assert Rate("0.035").uplift("0.5") == Rate("0.0525")
    assert Rate.from_bp(48) == Rate("0.0048")
    assert Rate("0.06").monthly == Fraction(1, 200)
    assert Rate("0.036").per_day() == Fraction(1, 10000)
    assert Rate.from_percent("3.45") == Rate("0.0345")
    assert Rate("0.0435").percent() == "4.35%"


def test_rate_refuses_text_that_is_not_a_rate():
    """'abc' and infinity are not rates."""
    for raw in ("abc", "Infinity"):
        with pytest.raises(InvalidAmount):
            Rate(raw)
