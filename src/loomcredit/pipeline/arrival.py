"""Arrival (到达时间): when the bank can hold a row of each source, the one rule for the lake.

A row describes a day (its ``ROW_DATE``) and is *obtained* on a day (``obtained_on``). Point in
time means both: a snapshot as of D uses only rows obtained by D, whatever their own dates.

* Every source publishes with an agreed lag (:data:`LAGS`): invoices of month M on the 15th of
  M+1, bank flows the next day, and so on. That is the row's ``available_on``.
* A public source (registry, court, news, market) is obtained when it is available.
* A consented source is obtained when it is available *and* a consent covering it has been
  granted: ``max(available_on, first grant)``, where a consent covers a row when the row's day is
  before the consent's end (expiry or revocation) — the gate's own rule, history is pulled when a
  consent is granted. So a consent renewed after a lapse backfills the gap, and the gap's rows
  are obtained on the renewal day, not before. A row no consent ever covers is never obtained.

The simulator stamps ``obtained_on`` with this rule, ingest fills it with the same rule when a feed
lacks the column, and the feature cut-offs (:mod:`features.pit`) take their lags from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

# The raw contract column: the day the bank held the row (every source but consents, whose
# ``granted_at`` plays that role).
OBTAINED = "obtained_on"


@dataclass(frozen=True)
class Lag:
    """How long after the day it describes a row becomes available.

    Either ``days`` after the row's day, or (``publish_day`` set) on that day of the month
    ``months_after`` months after the row's month.
    """

    days: int = 0
    months_after: int = 0
    publish_day: int | None = None

    def available_on(self, row_day: date) -> date:
        """The first day a row describing ``row_day`` can be held."""
        if self.publish_day is None:
            return row_day + timedelta(days=self.days)
        index = row_day.year * 12 + row_day.month - 1 + self.months_after
        return date(index // 12, index % 12 + 1, self.publish_day)

    def text(self, unit: str) -> str:
        """The lag in words (the feature catalogue's ``known`` column)."""
        if self.publish_day is None and self.days == 0:
            return f"{unit}, same day"
        if self.publish_day is None:
            return f"{unit} + {self.days} day{'s' if self.days > 1 else ''}"
        return f"month M on the {_ordinal(self.publish_day)} of M+{self.months_after}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


LAGS: dict[str, Lag] = {
    "registry": Lag(days=3),
    "invoices": Lag(months_after=1, publish_day=15),
    "tax": Lag(months_after=1, publish_day=20),
    "utilities": Lag(months_after=2, publish_day=10),
    "social_insurance": Lag(months_after=2, publish_day=10),
    "bank_flows": Lag(days=1),
    "judicial": Lag(days=7),
    "bureau": Lag(days=5),
    "news": Lag(days=0),
    "market": Lag(months_after=1, publish_day=5),
}


def available_on(source: str, row_day: date) -> date:
    """The agreed publication day of a ``source`` row describing ``row_day``."""
    return LAGS[source].available_on(row_day)


def obtained_on(
    source: str, row_day: date, first_grant: date | None, *, consented: bool
) -> date | None:
    """The day the bank holds a row (``None``: never, no consent covers it).

    Args:
        source: The raw source.
        row_day: The day the row describes (a tax period's first day).
        first_grant: The day the earliest consent covering the row was granted, if any.
        consented: Whether the source needs a consent.
    """
    available = available_on(source, row_day)
    if not consented:
        return available
    if first_grant is None:
        return None
    return max(available, first_grant)
