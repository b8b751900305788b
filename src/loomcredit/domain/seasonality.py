"""Shaoxing / Keqiao textile seasonality (DOMAIN.md §11): the lunar Chinese New Year trough and the
cluster's month-of-year profile.

The Spring Festival (正月初一) moves between 21 January and 20 February, so the trough it causes
must come from the lunar calendar, never from a fixed month. The cluster's suggested monthly
factors are an assumption to be calibrated (DOMAIN.md §11 marks them [P]).

>>> cny_date(2024)
datetime.date(2024, 2, 10)
>>> cny_date(2025)
datetime.date(2025, 1, 29)
>>> is_cny_window(date(2025, 1, 20)), is_cny_window(date(2025, 2, 20))
(True, False)
>>> CLUSTER_MONTH_FACTORS[9], CLUSTER_MONTH_FACTORS[12]
(1.2, 0.8)
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import lru_cache

from lunardate import LunarDate

# Suggested cluster starting factors (DOMAIN.md §11, assumption to calibrate), month 1..12.
CLUSTER_MONTH_FACTORS: dict[int, float] = {
    1: 0.7,
    2: 0.7,
    3: 1.0,
    4: 1.0,
    5: 1.0,
    6: 1.1,
    7: 0.9,
    8: 0.9,
    9: 1.2,
    10: 1.2,
    11: 1.0,
    12: 0.8,
}

# The market winds down about two weeks before the festival (2025: by 22 January, DOMAIN.md §11).
CNY_LEAD_DAYS = 14
# Mills reopen over 正月初十–十二; the festival period ends on 正月十五 (Lantern Festival).
CNY_REOPEN_DAYS = 10
LANTERN_DAYS = 14
# Days of ramp on either side of the full closure, where activity is partly down.
_RAMP_DAYS = 10
# How far activity falls at the bottom of the CNY trough (40–50 % capacity, DOMAIN.md §11).
CNY_DEPTH = 0.6
# January–February activity outside the trough itself (winter slack after December).
WINTER_BASE = 0.95

_SUPPORTED_YEARS = range(1901, 2100)


@lru_cache(maxsize=256)
def cny_date(year: int) -> date:
    """The Gregorian date of Chinese New Year (正月初一) in ``year``, from the lunar calendar.

    Args:
        year: Gregorian year, 1901–2099 (the range of the lunar tables).

    Returns:
        The date of the first day of the first lunar month.

    Raises:
        ValueError: when the year is outside the lunar tables.
    """
    if year not in _SUPPORTED_YEARS:
        raise ValueError(f"Lunar calendar tables cover 1901–2099, not {year}.")
    solar: date = LunarDate(year, 1, 1).to_solar_date()
    return solar


def lantern_date(year: int) -> date:
    """The Lantern Festival (正月十五) of the lunar year that starts in ``year``."""
    return cny_date(year) + timedelta(days=LANTERN_DAYS)


def is_cny_window(day: date) -> bool:
    """True from 14 days before 正月初一 up to and including 正月十五 (DOMAIN.md §11).

    Banks avoid principal due dates and suppress calendar-driven alerts in this window.
    """
    for year in (day.year, day.year + 1):
        if year not in _SUPPORTED_YEARS:
            continue
        start = cny_date(year) - timedelta(days=CNY_LEAD_DAYS)
        if start <= day <= lantern_date(year):
            return True
    return False


def cny_trough_weight(day: date) -> float:
    """How deep the CNY trough is on ``day``: 1.0 at full closure, 0.0 in normal times.

    Full closure runs from CNY−7 to 正月初十 (mills reopen); activity ramps down linearly over the
    ten days before that and back up over the ten days after, so the weight is 0 outside
    CNY−17 … CNY+20.
    """
    best = 0.0
    for year in (day.year - 1, day.year, day.year + 1):
        if year not in _SUPPORTED_YEARS:
            continue
        offset = (day - cny_date(year)).days
        full_from, full_to = -7, CNY_REOPEN_DAYS
        if full_from <= offset <= full_to:
            return 1.0
        if full_from - _RAMP_DAYS < offset < full_from:
            best = max(best, (offset - (full_from - _RAMP_DAYS)) / _RAMP_DAYS)
        elif full_to < offset < full_to + _RAMP_DAYS:
            best = max(best, (full_to + _RAMP_DAYS - offset) / _RAMP_DAYS)
    return best


@lru_cache(maxsize=4096)
def cny_month_activity(year: int, month: int) -> float:
    """Mean activity level of a month under the CNY trough alone (1.0 when it has no trough day)."""
    days = calendar.monthrange(year, month)[1]
    lost = sum(cny_trough_weight(date(year, month, d)) for d in range(1, days + 1))
    return 1.0 - CNY_DEPTH * lost / days


def _months_back(last_month: date, months: int) -> list[tuple[int, int]]:
    index = last_month.year * 12 + last_month.month - 1
    return [divmod(i, 12) for i in range(index - months + 1, index + 1)]


@lru_cache(maxsize=4096)
def cny_calendar_ratio(last_month: date, months: int = 3) -> float:
    """How much the Spring Festival's lunar date alone makes the ``months`` months ending with
    ``last_month`` busier or quieter than the same months a year before (1.0 when the trough
    falls alike in both).

    >>> round(cny_calendar_ratio(date(2024, 4, 1)), 3)  # Feb–Apr: 2024's festival on 10 Feb
    0.867
    >>> cny_calendar_ratio(date(2025, 6, 1))
    1.0
    """
    this = sum(cny_month_activity(y, m + 1) for y, m in _months_back(last_month, months))
    before = sum(cny_month_activity(y - 1, m + 1) for y, m in _months_back(last_month, months))
    return this / before


def calendar_adjusted_change(change: float, last_month: date, months: int = 3) -> float:
    """A year-on-year change of a ``months``-month total ending ``last_month`` with the Spring
    Festival's shift between the two years taken out (DOMAIN.md §11: suppress alerts the CNY
    calendar causes).

    >>> round(calendar_adjusted_change(-0.35, date(2024, 4, 1)), 3)  # partly the festival
    -0.25
    """
    return (1.0 + change) / cny_calendar_ratio(last_month, months) - 1.0


def seasonal_factor(year: int, month: int) -> float:
    """The cluster's activity factor for a calendar month, with the CNY trough on its lunar dates.

    March–December use :data:`CLUSTER_MONTH_FACTORS`. January and February take a winter base of
    0.95 times the CNY trough of that particular year, so the trough falls in January in a year
    with an early festival (2025) and in February in a late one (2024). Over a typical year the
    January–February average stays close to the suggested 0.7.
    """
    if not 1 <= month <= 12:
        raise ValueError(f"Month must be 1–12, not {month}.")
    if month in (1, 2):
        return WINTER_BASE * cny_month_activity(year, month)
    return CLUSTER_MONTH_FACTORS[month]
