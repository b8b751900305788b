"""Point in time (时点): when each source's rows become known, and month arithmetic.

A feature as of a date may only use rows dated on or before that date *and* available by then.
Availability follows the agreed per-source lags (docs: lake layout): invoices and monthly sales of
month M on the 15th of M+1; tax of period M on the 20th of M+1; utilities and social insurance of
month M on the 10th of M+2; bank flows the next day; bureau snapshots 5 days after ``reported_on``;
judicial cases 7 days after ``filed_on``; news the same day; registry changes 3 days after
``changed_on``; the market series of month M on the 5th of M+1.

Every cut-off is computed here in Python, so the feature expressions only compare columns with
literal dates and run unchanged on DuckDB and Spark.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


def month_index(day: date) -> int:
    """Months since year 0 (``year * 12 + month - 1``), the unit of every monthly window."""
    return day.year * 12 + day.month - 1


def month_from_index(index: int) -> date:
    """The first day of the month with the given :func:`month_index`."""
    return date(index // 12, index % 12 + 1, 1)


def add_months(month: date, months: int) -> date:
    """The first day of the month ``months`` after (or before, if negative) ``month``."""
    return month_from_index(month_index(month) + months)


def shift_months(day: date, months: int) -> date:
    """The same day of month ``months`` later (clamped to the month's last day)."""
    first = add_months(day, months)
    nxt = add_months(first, 1)
    last_day = (nxt - timedelta(days=1)).day
    return first.replace(day=min(day.day, last_day))


def last_available_month(as_of: date, *, publish_day: int, months_after: int) -> date:
    """The latest month M whose data, published on ``publish_day`` of M+``months_after``, is known.

    Args:
        as_of: The decision date.
        publish_day: Day of the month on which the data arrives.
        months_after: How many months after M the data arrives.

    Returns:
        The first day of month M.
    """
    this_month = as_of.replace(day=1)
    back = months_after if as_of.day >= publish_day else months_after + 1
    return add_months(this_month, -back)


@dataclass(frozen=True)
class Cutoffs:
    """What is known on ``as_of``: the last available month or day of every source."""

    as_of: date
    sales_month: date
    tax_period: str
    utilities_month: date
    market_month: date
    bank_day: date
    bureau_day: date
    judicial_day: date
    news_day: date
    registry_day: date

    @classmethod
    def at(cls, as_of: date) -> Cutoffs:
        """Cut-offs for a decision on ``as_of`` under the agreed lags."""
        tax_month = last_available_month(as_of, publish_day=20, months_after=1)
        return cls(
            as_of=as_of,
            sales_month=last_available_month(as_of, publish_day=15, months_after=1),
            tax_period=f"{tax_month.year:04d}-{tax_month.month:02d}",
            utilities_month=last_available_month(as_of, publish_day=10, months_after=2),
            market_month=last_available_month(as_of, publish_day=5, months_after=1),
            bank_day=as_of - timedelta(days=1),
            bureau_day=as_of - timedelta(days=5),
            judicial_day=as_of - timedelta(days=7),
            news_day=as_of,
            registry_day=as_of - timedelta(days=3),
        )

    def event_day(self, source: str) -> date:
        """Last known day for a dated event from ``source`` (risk events carry their source)."""
        return {
            "judicial": self.judicial_day,
            "registry": self.registry_day,
            "bureau": self.bureau_day,
            "bank_flows": self.bank_day,
            "tax": self.as_of - timedelta(days=20),
        }.get(source, self.news_day)


LAG_TEXT: dict[str, str] = {
    "invoices": "month M on the 15th of M+1",
    "monthly_activity.sales": "month M on the 15th of M+1",
    "tax": "period M on the 20th of M+1; payments from paid_on",
    "utilities": "month M on the 10th of M+2",
    "social_insurance": "month M on the 10th of M+2",
    "bank_flows": "booked_on + 1 day",
    "bureau": "reported_on + 5 days",
    "judicial": "filed_on + 7 days",
    "news": "published_on, same day",
    "registry": "changed_on + 3 days",
    "market": "month M on the 5th of M+1",
}
