"""Scoring warning rule sets against what happened (``loom monitor --evaluate``).

Each rule set runs on every enterprise's features at each month end of a window; the month's red
and amber rules are its warnings, scored by ``domain/warning_evaluation.py`` against the first
default of each firm. Running the house rules (year on year) beside a naive sequential set on the
same months makes the value of the seasonal baseline a number.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Protocol

from loomcredit.domain.alerts import AlertLevel
from loomcredit.domain.warning_evaluation import FirmMonth, WarningScore, score_warnings
from loomcredit.service_layer.monitoring import WarningRules

WARNED = frozenset({AlertLevel.RED, AlertLevel.AMBER})


class MonthlyFeatures(Protocol):
    """Every enterprise's point-in-time features at month ends."""

    def by_month(
        self, months: Sequence[date]
    ) -> Iterator[tuple[date, Mapping[str, Mapping[str, object]]]]:
        """For each month end in order: ``uscc`` → features as of it."""


def evaluate_rules(
    history: MonthlyFeatures,
    rule_sets: Mapping[str, WarningRules],
    defaults: Mapping[str, date],
    months: Sequence[date],
    *,
    min_lead_months: int = 3,
) -> list[WarningScore]:
    """Each rule set's score over the month ends (a firm is not judged once it has defaulted)."""
    seen: dict[str, list[FirmMonth]] = {name: [] for name in rule_sets}
    for as_of, firms in history.by_month(months):
        for uscc, features in firms.items():
            day = defaults.get(uscc)
            if day is not None and day <= as_of:
                continue
            for name, rules in rule_sets.items():
                warned = frozenset(
                    h.rule for h in rules.warnings(features, as_of) if h.level in WARNED
                )
                seen[name].append(FirmMonth(uscc, as_of, warned))
    return [
        score_warnings(name, seen[name], defaults, min_lead_months=min_lead_months)
        for name in rule_sets
    ]
