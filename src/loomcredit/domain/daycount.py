"""Day count conventions (计息基准) and the interest settlement calendar (结息日).

Day count is data, not a formula written inline: a product carries a :class:`DayCount` and every
interest computation takes it as an argument. ACT/360 is the default for CNY loans (DOMAIN.md §7:
daily rate = annual / 360 = monthly / 30). Interest is settled on the 20th of each month, or on the
20th of the last month of each quarter (Mar/Jun/Sep/Dec 20), per 《人民币利率管理规定》 Art. 20.
Dates always come in as arguments; nothing here reads the clock.

>>> DayCount.ACT_360.days(date(2026, 1, 20), date(2026, 2, 20))
31
>>> DayCount.THIRTY_360.year_fraction(date(2026, 1, 20), date(2026, 2, 20))
Fraction(1, 12)
>>> settlement_dates(date(2026, 1, 5), date(2026, 7, 1), Frequency.QUARTERLY)
[datetime.date(2026, 3, 20), datetime.date(2026, 6, 20)]
>>> add_months(date(2026, 1, 31), 1)
datetime.date(2026, 2, 28)
"""

from __future__ import annotations

import calendar
from datetime import date
from enum import Enum
from fractions import Fraction

from loomcredit.domain.errors import ScheduleError

__all__ = ["DayCount", "Frequency", "add_months", "days_in_month", "settlement_dates"]

_THIRTY = 30


def days_in_month(year: int, month: int) -> int:
    """Number of days in a calendar month (28–31)."""
    return calendar.monthrange(year, month)[1]


def add_months(d: date, n: int) -> date:
    """The same day of the month ``n`` months later (or earlier), clamped to the month's end.

    Args:
        d: the anchor date.
        n: months to add; negative goes back.

    Returns:
        ``d`` moved by ``n`` calendar months; the 31st becomes the last day of a shorter month.
    """
    index = d.year * 12 + (d.month - 1) + n
    year, month0 = divmod(index, 12)
    month = month0 + 1
    return date(year, month, min(d.day, days_in_month(year, month)))


class DayCount(Enum):
    """How many days lie between two dates and how many make a year.

    * ``ACT_360`` 实际天数/360: actual calendar days over a 360-day year; the CNY loan default.
    * ``THIRTY_360`` 30/360 (ISDA bond basis): every month counts 30 days; a full month is
      exactly 1/12 of a year, so interest per whole month equals annual/12.
    * ``ACT_365`` 实际天数/365: actual days over a 365-day year.
    """

    ACT_360 = "act/360"
    THIRTY_360 = "30/360"
    ACT_365 = "act/365"

    @property
    def days_in_year(self) -> int:
        """The year's length in days under this convention (360 or 365)."""
        return 365 if self is DayCount.ACT_365 else 360

    @property
    def label_zh(self) -> str:
        """Chinese label for display."""
        return {
            DayCount.ACT_360: "实际天数/360",
            DayCount.THIRTY_360: "30/360",
            DayCount.ACT_365: "实际天数/365",
        }[self]

    def days(self, start: date, end: date) -> int:
        """Days counted from ``start`` (exclusive) to ``end`` (inclusive) under this convention.

        Args:
            start: first date of the period (the day interest starts).
            end: last date of the period, not before ``start``.

        Returns:
            A non-negative number of days.

        Raises:
            ScheduleError: ``end`` is before ``start``.
        """
        if end < start:
            raise ScheduleError(f"Day count period ends {end} before it starts {start}.")
        if self is not DayCount.THIRTY_360:
            return (end - start).days
        d1 = min(start.day, _THIRTY)
        d2 = end.day
        if d2 == 31 and d1 == _THIRTY:  # bond basis: the 31st counts as the 30th
            d2 = _THIRTY
        return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)

    def year_fraction(self, start: date, end: date) -> Fraction:
        """The period's length in years, exact: ``days(start, end) / days_in_year``."""
        return Fraction(self.days(start, end), self.days_in_year)

    @classmethod
    def parse(cls, text: str) -> DayCount:
        """Read a convention name such as ``act360``, ``ACT/360``, ``30360`` or ``30/360``.

        Raises:
            ScheduleError: the name is not a known convention.
        """
        key = text.strip().lower().replace("/", "").replace("_", "").replace("-", "")
        table = {"act360": cls.ACT_360, "30360": cls.THIRTY_360, "act365": cls.ACT_365}
        if key not in table:
            raise ScheduleError(f"Unknown day count {text!r}; use act360, 30360 or act365.")
        return table[key]


class Frequency(Enum):
    """How often interest is settled (结息周期)."""

    MONTHLY = 1
    QUARTERLY = 3

    @property
    def months(self) -> int:
        """Months between two settlement dates."""
        return int(self.value)

    @property
    def label_zh(self) -> str:
        """Chinese label for display."""
        return "按月" if self is Frequency.MONTHLY else "按季"

    def is_settlement_month(self, month: int) -> bool:
        """True when interest is settled in this month (every month, or Mar/Jun/Sep/Dec)."""
        return month % self.months == 0

    @classmethod
    def parse(cls, text: str) -> Frequency:
        """Read ``monthly``/``quarterly`` (or ``m``/``q``, 按月/按季).

        Raises:
            ScheduleError: the name is not a known frequency.
        """
        key = text.strip().lower()
        if key in {"monthly", "month", "m", "按月"}:
            return cls.MONTHLY
        if key in {"quarterly", "quarter", "q", "按季"}:
            return cls.QUARTERLY
        raise ScheduleError(f"Unknown interest frequency {text!r}; use monthly or quarterly.")


def settlement_dates(
    start: date, end: date, frequency: Frequency = Frequency.MONTHLY, day: int = 20
) -> list[date]:
    """Interest settlement dates strictly after ``start`` and on or before ``end``.

    Monthly settlement falls on ``day`` (the 20th) of every month; quarterly on ``day`` of March,
    June, September and December. The interest period therefore runs from the 21st to the 20th.

    Args:
        start: the day interest starts (a loan's value date); a settlement on this day is excluded.
        end: the last day that may carry a settlement (maturity).
        frequency: monthly or quarterly.
        day: day of the month, 1–28 so that it exists in every month.

    Returns:
        The dates in ascending order (possibly empty).

    Raises:
        ScheduleError: ``day`` is outside 1–28.
    """
    if not 1 <= day <= 28:
        raise ScheduleError(f"Settlement day must be 1–28 so every month has it, not {day}.")
    result: list[date] = []
    cursor = date(start.year, start.month, day)
    while cursor <= end:
        if cursor > start and frequency.is_settlement_month(cursor.month):
            result.append(cursor)
        cursor = add_months(cursor, 1)
    return result
