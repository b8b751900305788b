"""Scoring a rule set's warnings against what happened, on a book worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from loomcredit.domain.errors import PolicyViolation
from loomcredit.domain.warning_evaluation import FirmMonth, score_warnings

ENDS = [date(2024, m + 1, 1) - timedelta(days=1) for m in range(1, 12)] + [date(2024, 12, 31)]


def history(uscc: str, warned: dict[date, set[str]], ends: list[date] = ENDS) -> list[FirmMonth]:
    return [FirmMonth(uscc, d, frozenset(warned.get(d, set()))) for d in ends]


def book() -> tuple[list[FirmMonth], dict[str, date]]:
    may, jun, aug, nov = date(2024, 5, 31), date(2024, 6, 30), date(2024, 8, 31), date(2024, 11, 30)
    months = [
        *history("A", {may: {"SALES"}, jun: {"SALES", "POWER"}}),  # defaults 2024-10-15
        *history("B", {aug: {"COURT"}}),  # defaults 2024-09-20: warned 20 days before
        *history("C", {ENDS[0]: {"COURT"}}),  # defaults 2024-03-10: too soon to judge
        *history("D", {date(2024, 12, 31): {"COURT"}}),  # defaults 2024-12-05, warned after
        *history("H", {ENDS[1]: {"X"}, ENDS[2]: {"X"}, ENDS[3]: {"X", "Y"}}, ENDS[:4]),
        *history("H2", {ENDS[0]: {"X"}, ENDS[1]: {"X"}}, ENDS[:2]),
        *history("H3", {ENDS[0]: {"X"}, ENDS[2]: {"X"}, nov: set()}, ENDS[:3]),
    ]
    defaults = {
        "A": date(2024, 10, 15),
        "B": date(2024, 9, 20),
        "C": date(2024, 3, 10),
        "D": date(2024, 12, 5),
    }
    return months, defaults


def test_defaulters_warned_early_and_lead_time() -> None:
    """A (warned 4.5 months before) counts; B warned only 20 days before; C defaulted before a
    3-month lead was possible; D's warning came after its default. Median lead of A and B."""
    months, defaults = book()
    score = score_warnings("seasonal", months, defaults)
    assert (score.defaulters, score.warned_early) == (3, 1)
    assert score.share_warned_early == pytest.approx(1 / 3)
    assert score.median_lead_months == 2.6  # (137 + 20) / 2 days over 30.44 days a month


def test_false_alarms_are_new_alerts_per_100_borrower_months() -> None:
    """H: X raised in February, Y in April (3 months after the first); H2: X already firing at
    the start raises nothing (1 month); H3: X stops, then fires again in March (2 months) — one
    more alert. 3 alerts over 6 borrower-months."""
    months, defaults = book()
    score = score_warnings("seasonal", months, defaults)
    assert (score.borrower_months, score.alerts) == (6, 3)
    assert score.alerts_per_100 == pytest.approx(50.0)


def test_a_longer_minimum_lead_judges_fewer_defaulters() -> None:
    """With 8 months' minimum lead, B (2024-09-20 is not after 2024-09-30, the first month end
    plus 8 months) leaves the defaulters and A's warnings (4.5 months before) are not early."""
    months, defaults = book()
    score = score_warnings("seasonal", months, defaults, min_lead_months=8)
    assert (score.defaulters, score.warned_early) == (2, 0)
    with pytest.raises(PolicyViolation):
        score_warnings("x", months, defaults, min_lead_months=0)


def test_nothing_to_score() -> None:
    """No months: zeros, and no rates rather than a division by zero."""
    score = score_warnings("x", [], {})
    assert (score.share_warned_early, score.alerts_per_100, score.median_lead_months) == (
        None,
        None,
        None,
    )
