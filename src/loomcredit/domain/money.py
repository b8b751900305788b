"""Money (金额) in integer fen, exact fractions of a fen, and annual rates (利率).

Money is an immutable value in integer minor units. It is built from ``int``, ``str`` or
``Decimal``; a ``float`` is refused with ``TypeError`` because binary floats cannot hold fen
exactly. Arithmetic never mixes currencies. Inexact intermediate results (interest accrued on a
balance for some days) are kept as :class:`MoneyFraction` and become money only through one
explicit rounding step, :meth:`MoneyFraction.round`, with a named :class:`Round` mode.

>>> principal = Money.parse("500000.00")
>>> principal
Money(minor=50000000, currency='CNY')
>>> parts = principal.allocate(12)
>>> sum(parts, Money.zero()) == principal, max(parts).minor - min(parts).minor <= 1
(True, True)
>>> Money.parse("1234.56").format()
'¥1,234.56'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from decimal import InvalidOperation as _InvalidOperation
from enum import Enum
from fractions import Fraction
from typing import TYPE_CHECKING

from loomcredit.domain.errors import CurrencyMismatch, InvalidAmount

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

CNY = "CNY"
MINOR_PER_MAJOR = 100
_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$"}
_AMOUNT_RE = re.compile(r"^[+-]?\d+(\.\d+)?$")


class Round(Enum):
    """Named rounding modes; HALF_UP is the product default (DOMAIN.md §7)."""

    HALF_UP = ROUND_HALF_UP
    HALF_EVEN = ROUND_HALF_EVEN
    DOWN = ROUND_DOWN
    UP = ROUND_CEILING
    FLOOR = ROUND_FLOOR


def _refuse_float(value: object, what: str) -> None:
    if isinstance(value, float):
        raise TypeError(
            f"{what} refuses float {value!r}: pass a str, int or Decimal so no fen is lost."
        )
    if isinstance(value, bool):
        raise TypeError(f"{what} refuses bool {value!r}.")


def round_fraction(value: Fraction, mode: Round = Round.HALF_UP) -> int:
    """Round an exact fraction to an integer with a named mode (the one rounding step)."""
    floor = value.numerator // value.denominator
    remainder = value - floor
    if remainder == 0:
        return floor
    half = Fraction(1, 2)
    if mode is Round.DOWN:
        return floor if value >= 0 else floor + 1
    if mode is Round.UP:
        return floor + 1
    if mode is Round.FLOOR:
        return floor
    if remainder > half:
        return floor + 1
    if remainder < half:
        return floor
    if mode is Round.HALF_EVEN:
        return floor if floor % 2 == 0 else floor + 1
    # HALF_UP rounds ties away from zero, as Decimal's ROUND_HALF_UP does.
    return floor + 1 if value > 0 else floor


_new = object.__new__
_ZEROS: dict[str, Money] = {}
_set = object.__setattr__


def _checked(minor: int, currency: str) -> Money:
    """Money from values already checked (the result of arithmetic on valid Money, an int and a
    currency code): the same value as ``Money(minor, currency)`` without validating it again,
    which arithmetic-heavy paths (booking a statement, end of day) do hundreds of thousands of
    times."""
    m: Money = _new(Money)
    _set(m, "minor", minor)
    _set(m, "currency", currency)
    return m


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An amount of money in integer minor units (fen for CNY)."""

    minor: int
    currency: str = CNY

    def __post_init__(self) -> None:
        if type(self.minor) is int and type(self.currency) is str and len(self.currency) == 3:
            return  # the common case, decided at once; anything else is explained below
        _refuse_float(self.minor, "Money")
        if not isinstance(self.minor, int):
            raise TypeError(f"Money.minor must be an int number of fen, not {type(self.minor)}.")
        if not (isinstance(self.currency, str) and len(self.currency) == 3):
            raise InvalidAmount(f"Currency must be a 3-letter ISO code, not {self.currency!r}.")

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str = CNY) -> Money:
        """Zero in the given currency (one shared value per currency: Money is immutable)."""
        found = _ZEROS.get(currency) if type(currency) is str else None
        if found is None:
            found = cls(0, currency)
            _ZEROS[currency] = found
        return found

    @classmethod
    def of_fen(cls, fen: int, currency: str = CNY) -> Money:
        """Money from an integer count of fen (minor units)."""
        return cls(fen, currency)

    @classmethod
    def parse(cls, value: str | int | Decimal, currency: str = CNY) -> Money:
        """Parse yuan (major units) from ``str``, ``int`` or ``Decimal`` without losing a fen.

        Strings may carry a currency symbol, thousands separators and surrounding spaces
        (``"¥1,234.56"``). More than two decimals raise :class:`InvalidAmount`: round explicitly
        with :meth:`from_decimal` instead.
        """
        _refuse_float(value, "Money.parse")
        if isinstance(value, int):
            return cls(value * MINOR_PER_MAJOR, currency)
        if isinstance(value, Decimal):
            amount = value
        elif isinstance(value, str):
            amount = cls._decimal_from_text(value)
        else:
            raise TypeError(f"Money.parse takes str, int or Decimal, not {type(value).__name__}.")
        if not amount.is_finite():
            raise InvalidAmount(f"{value!r} is not a finite amount.")
        minor = amount * MINOR_PER_MAJOR
        if minor != minor.to_integral_value():
            raise InvalidAmount(
                f"{value!r} has more precision than one fen; round it explicitly with "
                "Money.from_decimal(value, Round.HALF_UP)."
            )
        return cls(int(minor), currency)

    @staticmethod
    def _decimal_from_text(text: str) -> Decimal:
        cleaned = text.strip().replace(",", "").replace("，", "").replace(" ", "")
        for symbol in ("HK$", "¥", "￥", "$", "€", "CNY", "RMB", "元"):
            cleaned = cleaned.replace(symbol, "")
        if not _AMOUNT_RE.match(cleaned):
            raise InvalidAmount(f"{text!r} is not an amount; write it like '1234.56'.")
        try:
            return Decimal(cleaned)
        except _InvalidOperation as exc:  # pragma: no cover - the regex already guards this
            raise InvalidAmount(f"{text!r} is not an amount.") from exc

    @classmethod
    def from_decimal(
        cls, value: Decimal | int | str, currency: str = CNY, rounding: Round = Round.HALF_UP
    ) -> Money:
        """Money from a yuan value with an explicit rounding step to the fen."""
        _refuse_float(value, "Money.from_decimal")
        try:
            amount = Decimal(value) if not isinstance(value, Decimal) else value
        except _InvalidOperation as exc:
            raise InvalidAmount(f"{value!r} is not an amount.") from exc
        if not amount.is_finite():
            raise InvalidAmount(f"{value!r} is not a finite amount.")
        minor = (amount * MINOR_PER_MAJOR).quantize(Decimal(1), rounding=rounding.value)
        return cls(int(minor), currency)

    # -- arithmetic ---------------------------------------------------------------------------
    def _check(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"Cannot combine Money with {type(other).__name__}.")
        if other.currency != self.currency:
            raise CurrencyMismatch(self.currency, other.currency)
        return other

    def __add__(self, other: Money) -> Money:
        return _checked(self.minor + self._check(other).minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        return _checked(self.minor - self._check(other).minor, self.currency)

    def __radd__(self, other: int | Money) -> Money:
        # Lets sum() start from the integer 0 only; any other int is ambiguous.
        if isinstance(other, int):
            if other == 0 and not isinstance(other, bool):
                return self
            raise TypeError(f"Cannot add Money to the int {other!r}; only sum() may start from 0.")
        return self.__add__(other)

    def __neg__(self) -> Money:
        return _checked(-self.minor, self.currency)

    def __abs__(self) -> Money:
        return _checked(abs(self.minor), self.currency)

    def __mul__(self, factor: int) -> Money:
        _refuse_float(factor, "Money multiplication")
        if not isinstance(factor, int):
            raise TypeError(
                "Money can only be multiplied by an int; use Money.times() for an exact "
                "fraction and round it explicitly."
            )
        return _checked(self.minor * factor, self.currency)

    __rmul__ = __mul__

    def times(self, factor: Decimal | Fraction | int | str) -> MoneyFraction:
        """Exact product with a rate or share, to be rounded explicitly."""
        _refuse_float(factor, "Money.times")
        frac = Fraction(Decimal(factor)) if isinstance(factor, str | Decimal) else Fraction(factor)
        return MoneyFraction(Fraction(self.minor) * frac, self.currency)

    # -- comparison ---------------------------------------------------------------------------
    def __lt__(self, other: Money) -> bool:
        return self.minor < self._check(other).minor

    def __le__(self, other: Money) -> bool:
        return self.minor <= self._check(other).minor

    def __gt__(self, other: Money) -> bool:
        return self.minor > self._check(other).minor

    def __ge__(self, other: Money) -> bool:
        return self.minor >= self._check(other).minor

    def is_zero(self) -> bool:
        """True when the amount is exactly zero."""
        return self.minor == 0

    def is_positive(self) -> bool:
        """True when the amount is above zero."""
        return self.minor > 0

    def is_negative(self) -> bool:
        """True when the amount is below zero."""
        return self.minor < 0

    # -- splitting ----------------------------------------------------------------------------
    def allocate(self, n: int) -> list[Money]:
        """Split into ``n`` parts that sum exactly and differ by at most one fen.

        The larger parts come first, so a schedule's earlier instalments carry the extra fen.
        """
        if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
            raise ValueError(f"allocate needs a positive whole number of parts, not {n!r}.")
        base, extra = divmod(abs(self.minor), n)
        sign = -1 if self.minor < 0 else 1
        return [Money(sign * (base + (1 if k < extra else 0)), self.currency) for k in range(n)]

    def allocate_by(self, weights: Sequence[int]) -> list[Money]:
        """Split in proportion to non-negative integer weights; parts sum exactly.

        Largest-remainder method: every part is within one fen of its exact share.
        """
        if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
            raise ValueError("allocate_by needs non-negative integer weights with a positive sum.")
        total = sum(weights)
        exact = [Fraction(abs(self.minor) * w, total) for w in weights]
        floors = [int(x) for x in exact]
        short = abs(self.minor) - sum(floors)
        order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
        for i in order[:short]:
            floors[i] += 1
        sign = -1 if self.minor < 0 else 1
        return [Money(sign * f, self.currency) for f in floors]

    # -- presentation -------------------------------------------------------------------------
    def to_decimal(self) -> Decimal:
        """The amount in major units (yuan) as an exact Decimal with two places."""
        return (Decimal(self.minor) / MINOR_PER_MAJOR).quantize(Decimal("0.01"))

    def amount_str(self) -> str:
        """Plain decimal string, as the API carries it: ``"1234.56"``."""
        return str(self.to_decimal())

    def format(self, *, symbol: bool = True) -> str:
        """Human format with thousands separators: ``¥1,234.56``."""
        sign = "-" if self.minor < 0 else ""
        text = f"{abs(self.to_decimal()):,.2f}"
        prefix = _SYMBOLS.get(self.currency, self.currency + " ") if symbol else ""
        return f"{sign}{prefix}{text}"

    def __str__(self) -> str:
        return self.format()


def total(amounts: Iterable[Money], currency: str = CNY) -> Money:
    """Sum of amounts (zero in ``currency`` when empty); raises on mixed currencies."""
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result


@dataclass(frozen=True, slots=True)
class MoneyFraction:
    """An exact, possibly fractional number of fen: accruals before the rounding step."""

    fen: Fraction
    currency: str = CNY

    @classmethod
    def zero(cls, currency: str = CNY) -> MoneyFraction:
        """Exact zero."""
        return cls(Fraction(0), currency)

    def __add__(self, other: MoneyFraction | Money) -> MoneyFraction:
        if other.currency != self.currency:
            raise CurrencyMismatch(self.currency, other.currency)
        value = other.fen if isinstance(other, MoneyFraction) else Fraction(other.minor)
        return MoneyFraction(self.fen + value, self.currency)

    def __sub__(self, other: MoneyFraction | Money) -> MoneyFraction:
        if other.currency != self.currency:
            raise CurrencyMismatch(self.currency, other.currency)
        value = other.fen if isinstance(other, MoneyFraction) else Fraction(other.minor)
        return MoneyFraction(self.fen - value, self.currency)

    def round(self, mode: Round = Round.HALF_UP) -> Money:
        """The one explicit rounding step from exact fen to money."""
        return Money(round_fraction(self.fen, mode), self.currency)

    def to_decimal(self, places: int = 10) -> Decimal:
        """Value in yuan as a Decimal with ``places`` decimals (for storage as NUMERIC)."""
        quantum = Decimal(1).scaleb(-places)
        value = Decimal(self.fen.numerator) / Decimal(self.fen.denominator) / MINOR_PER_MAJOR
        return value.quantize(quantum, rounding=ROUND_HALF_EVEN)


class Rate:
    """An annual interest rate as an exact Decimal fraction: ``Rate("0.0435")`` is 4.35 % p.a."""

    __slots__ = ("annual",)
    annual: Decimal

    def __init__(self, value: str | int | Decimal) -> None:
        _refuse_float(value, "Rate")
        try:
            annual = value if isinstance(value, Decimal) else Decimal(str(value).strip())
        except _InvalidOperation as exc:
            raise InvalidAmount(
                f"{value!r} is not a rate; write an annual fraction like '0.0435'."
            ) from exc
        if not annual.is_finite():
            raise InvalidAmount(f"{value!r} is not a finite rate.")
        object.__setattr__(self, "annual", annual)

    def __copy__(self) -> Rate:
        return self  # immutable

    def __deepcopy__(self, memo: dict[int, object]) -> Rate:
        return self  # immutable

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Rate is immutable.")

    @classmethod
    def from_bp(cls, bp: int | Decimal) -> Rate:
        """A rate from basis points: ``Rate.from_bp(48)`` is 0.48 %."""
        _refuse_float(bp, "Rate.from_bp")
        return cls(Decimal(bp) / Decimal(10_000))

    @classmethod
    def from_percent(cls, pct: str | Decimal | int) -> Rate:
        """A rate from a percentage: ``Rate.from_percent("3.45")`` is 0.0345."""
        _refuse_float(pct, "Rate.from_percent")
        return cls(Decimal(str(pct)) / Decimal(100))

    @property
    def fraction(self) -> Fraction:
        """The annual rate as an exact Fraction."""
        return Fraction(self.annual)

    @property
    def monthly(self) -> Fraction:
        """Monthly rate i = annual / 12, exact."""
        return Fraction(self.annual) / 12

    def per_day(self, days_in_year: int = 360) -> Fraction:
        """Daily rate r = annual / days_in_year (360 for ACT/360), exact."""
        return Fraction(self.annual) / days_in_year

    def uplift(self, share: Decimal | str) -> Rate:
        """The rate raised by a share: ``Rate('0.035').uplift('0.5')`` is the 5.25 % penalty."""
        _refuse_float(share, "Rate.uplift")
        return Rate(self.annual * (1 + Decimal(share)))

    def __add__(self, other: Rate) -> Rate:
        return Rate(self.annual + other.annual)

    def __sub__(self, other: Rate) -> Rate:
        return Rate(self.annual - other.annual)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rate) and self.annual == other.annual

    def __lt__(self, other: Rate) -> bool:
        return self.annual < other.annual

    def __le__(self, other: Rate) -> bool:
        return self.annual <= other.annual

    def __gt__(self, other: Rate) -> bool:
        return self.annual > other.annual

    def __ge__(self, other: Rate) -> bool:
        return self.annual >= other.annual

    def __hash__(self) -> int:
        return hash(self.annual)

    def __repr__(self) -> str:
        return f"Rate('{self.annual}')"

    def percent(self, places: int = 2) -> str:
        """Display as a percentage: ``'4.35%'``."""
        return f"{(self.annual * 100).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)}%"
