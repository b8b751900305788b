"""How good are the early warnings (预警效果评估)? Measured against what happened.

A rule set is run on every enterprise's point-in-time features at each month end of a window; a
month's *warnings* are the rules firing at red or amber. Against the known defaults:

* **Defaulters** — firms whose first default falls after the window's first month end plus the
  minimum lead (so a warning that early could have been seen). A defaulter is *warned early* when
  some month end between 12 months and ``min_lead_months`` months before the default carried a
  warning; its *lead time* is from the earliest warning in the 12 months before the default to
  the default. Month ends on or after the default are not judged.
* **Firms that do not default** — every firm-month after the window's first month end (the first
  is the state the monitor starts from) counts as one borrower-month; an *alert* is a rule that
  fires at a month end where it did not fire at the one before (what a monitor raising one alert
  per firm and rule, closed once the rule stops firing, would raise). Their rate is alerts per
  100 borrower-months: the false-alarm load a customer manager carries.
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from loomcredit.domain.daycount import add_months
from loomcredit.domain.errors import PolicyViolation

#: Warnings older than this before the default do not count as warning it.
WINDOW_MONTHS = 12
#: Days in an average month, to show lead times in months.
MONTH_DAYS = 365.25 / 12


@dataclass(frozen=True, slots=True)
class FirmMonth:
    """One enterprise at one month end: the rules firing at red or amber."""

    uscc: str
    as_of: date
    warned: frozenset[str]


@dataclass(frozen=True, slots=True)
class WarningScore:
    """One rule set's record over a window."""

    rules: str
    defaulters: int
    warned_early: int
    median_lead_months: float | None
    borrower_months: int
    alerts: int

    @property
    def share_warned_early(self) -> float | None:
        """Share of defaulters warned at least the minimum lead before (None: no defaulter)."""
        return self.warned_early / self.defaulters if self.defaulters else None

    @property
    def alerts_per_100(self) -> float | None:
        """Alerts per 100 borrower-months of firms that did not default."""
        return 100 * self.alerts / self.borrower_months if self.borrower_months else None


def score_warnings(
    rules: str,
    months: Iterable[FirmMonth],
    defaults: Mapping[str, date],
    *,
    min_lead_months: int = 3,
) -> WarningScore:
    """Score one rule set's month-end warnings against the first default of each firm."""
    if not 0 < min_lead_months <= WINDOW_MONTHS:
        raise PolicyViolation(f"min_lead_months must be 1–{WINDOW_MONTHS}, not {min_lead_months}")
    by_firm: dict[str, list[FirmMonth]] = defaultdict(list)
    for m in months:
        by_firm[m.uscc].append(m)
    if not by_firm:
        return WarningScore(rules, 0, 0, None, 0, 0)
    first = min(m.as_of for ms in by_firm.values() for m in ms)
    defaulters = early = borrower_months = alerts = 0
    leads: list[float] = []
    for uscc, history in by_firm.items():
        history.sort(key=lambda m: m.as_of)
        day = defaults.get(uscc)
        if day is None:
            for before, now in itertools.pairwise(history):
                borrower_months += 1
                alerts += len(now.warned - before.warned)
            continue
        if day <= add_months(first, min_lead_months):
            continue
        defaulters += 1
        window = [m for m in history if add_months(day, -WINDOW_MONTHS) <= m.as_of < day]
        warned = [m for m in window if m.warned]
        if any(m.as_of <= add_months(day, -min_lead_months) for m in warned):
            early += 1
        if warned:
            leads.append((day - warned[0].as_of).days / MONTH_DAYS)
    median = round(statistics.median(leads), 1) if leads else None
    return WarningScore(rules, defaulters, early, median, borrower_months, alerts)
