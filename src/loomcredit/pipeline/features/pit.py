"""Point in time (时点): when each source's rows become known, and month arithmetic.

A feature as of a date may only use rows dated on or before that date *and* obtained by then.
Two rules make that up. The windows below follow the agreed per-source lags
(:data:`loomcredit.pipeline.arrival.LAGS`): invoices and monthly sales of month M on the 15th of
M+1; tax of period M on the 20th of M+1; utilities and social insurance of month M on the 10th of
M+2; bank flows the next day; bureau snapshots 5 days after ``reported_on``; judicial cases 7 days
after ``filed_on``; news the same day; registry changes 3 days after ``changed_on``; the market
series of month M on the 5th of M+1. And every row also carries the day the bank obtained it
(``obtained_on``, or ``known_on`` on derived tables): a row of a consent's lapse, pulled only when
the consent was renewed, is obtained on the renewal day, and :func:`known_by` keeps it out of
every snapshot before that day.

Every cut-off is computed here in Python, so the feature expressions only compare columns with
literal dates and run unchanged on DuckDB and Spark.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from loomcredit.pipeline.arrival import LAGS, Lag


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
        tax_month = _last_month(as_of, LAGS["tax"])
        return cls(
            as_of=as_of,
            sales_month=_last_month(as_of, LAGS["invoices"]),
            tax_period=f"{tax_month.year:04d}-{tax_month.month:02d}",
            utilities_month=_last_month(as_of, LAGS["utilities"]),
            market_month=_last_month(as_of, LAGS["market"]),
            bank_day=_last_day(as_of, LAGS["bank_flows"]),
            bureau_day=_last_day(as_of, LAGS["bureau"]),
            judicial_day=_last_day(as_of, LAGS["judicial"]),
            news_day=_last_day(as_of, LAGS["news"]),
            registry_day=_last_day(as_of, LAGS["registry"]),
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


def _last_month(as_of: date, lag: Lag) -> date:
    if lag.publish_day is None:
        raise ValueError("a monthly lag needs a publish day")
    return last_available_month(as_of, publish_day=lag.publish_day, months_after=lag.months_after)


def _last_day(as_of: date, lag: Lag) -> date:
    return as_of - timedelta(days=lag.days)


def known_by(column: Any, as_of: date) -> Any:
    """The rows whose arrival column (``obtained_on`` / ``known_on``) is on or before ``as_of``.

    A NULL arrival date counts as known under the lag alone (hand-built integrated tables; ingest
    always fills the column). A comparison with a literal date, so it runs on every engine.
    """
    return column.isnull() | (column <= as_of)


_UNITS = {
    "bank_flows": "booked_on",
    "bureau": "reported_on",
    "judicial": "filed_on",
    "news": "published_on",
    "registry": "changed_on",
}


def _lag_text() -> dict[str, str]:
    out = {source: lag.text(_UNITS.get(source, "")) for source, lag in LAGS.items()}
    out["tax"] = out["tax"].replace("month M", "period M") + "; payments from paid_on"
    out["monthly_activity.sales"] = out["invoices"]
    return out


LAG_TEXT: dict[str, str] = _lag_text()


def monthly_known(m: Any, as_of: date) -> Any:
    """``monthly_activity`` as known on ``as_of``: its partial rows known by then, added up to one
    row per enterprise and month (sums; the headcount's maximum)."""
    m = m.filter(known_by(m.known_on, as_of))
    return m.group_by(["uscc", "month"]).aggregate(
        sales_fen=m.sales_fen.sum(),
        purchases_fen=m.purchases_fen.sum(),
        invoices_issued=m.invoices_issued.sum(),
        invoices_void=m.invoices_void.sum(),
        invoices_red=m.invoices_red.sum(),
        kwh=m.kwh.sum(),
        steam_t=m.steam_t.sum(),
        headcount=m.headcount.max(),
    )
