"""The behaviour score (行为评分): the model's PD now, moved by how the borrower repays.

The promoted model scores the borrower's point-in-time features as of the monitoring date (its
application-time view of the firm). The bank also sees how the borrower behaves on its own
lines, which the model never saw: days past due in the last six months, how often it was late in
the last year, and how much of its line it has drawn. Each of these multiplies the PD's odds by
a factor of the post-loan policy (``behaviour:`` in ``keqiao_warning_rules.yaml``):

    odds(behaviour PD) = odds(model PD) × Π factors that apply

The factors are starting assumptions for the credit committee to calibrate on outcomes (the
policy backtest measures them), not fitted values; the score says which factors applied.

The **PD jump** rule (PD_JUMP) fires when the behaviour PD has risen to at least ``jump_ratio``
times the PD the line was approved on, and by at least ``jump_min`` (both, so a move from 0.1 %
to 0.3 % does not raise an alert).

>>> s = behaviour_score(Decimal("0.02"), RepaymentFacts(35, 20, Decimal("0.97")),
...     BehaviourPolicy())
>>> str(s.pd), [f.code for f in s.factors]
('0.146341', ['DPD_30', 'REPEATED_LATE', 'HIGH_UTILISATION'])
>>> pd_jumped(s, Decimal("0.02"), BehaviourPolicy())
True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from loomcredit.domain.errors import PolicyViolation

__all__ = [
    "BEHAVIOUR_CODES",
    "BehaviourFactor",
    "BehaviourPolicy",
    "BehaviourScore",
    "LoanDay",
    "RepaymentFacts",
    "behaviour_score",
    "exact_pd",
    "may_jump",
    "pd_jumped",
    "repayment_history",
]

#: The warning rules the behaviour score raises (the policy file must name them).
BEHAVIOUR_CODES = frozenset({"PD_JUMP"})

PD_PLACES = Decimal("0.000001")
#: The windows the repayment facts look back over, in days (as of date included).
DPD_WINDOW_DAYS = 182
LATE_WINDOW_DAYS = 365


@dataclass(frozen=True, slots=True)
class RepaymentFacts:
    """How a borrower has repaid the bank, as of the monitoring date.

    Attributes:
        max_dpd_6m: the most days past due on any of its loans in the last 182 days.
        overdue_days_12m: loan-days overdue (DPD > 0) in the last 365 days, its worst loan.
        utilisation: drawn ÷ limit of its line (0 when the limit is zero).
    """

    max_dpd_6m: int = 0
    overdue_days_12m: int = 0
    utilisation: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class LoanDay:
    """One loan-day end of day recorded: the loan, its line, the day and its DPD."""

    loan_id: int
    line_id: int
    on: date
    dpd: int


def repayment_history(days: Iterable[LoanDay], as_of: date) -> dict[int, RepaymentFacts]:
    """Per line, from the loan-days recorded up to ``as_of``: the worst DPD of its loans in the
    last :data:`DPD_WINDOW_DAYS` days and the most overdue loan-days of one of its loans in the
    last :data:`LATE_WINDOW_DAYS` (days after ``as_of`` are not yet known; utilisation is 0
    here, the line's own)."""
    worst: dict[int, int] = {}
    late: dict[tuple[int, int], int] = {}
    dpd_from = as_of - timedelta(days=DPD_WINDOW_DAYS)
    late_from = as_of - timedelta(days=LATE_WINDOW_DAYS)
    for d in days:
        if d.on > as_of or d.on <= late_from:
            continue
        worst.setdefault(d.line_id, 0)
        if d.on > dpd_from:
            worst[d.line_id] = max(worst[d.line_id], d.dpd)
        key = (d.line_id, d.loan_id)
        late[key] = late.get(key, 0) + (1 if d.dpd > 0 else 0)
    most: dict[int, int] = {}
    for (line_id, _), n in late.items():
        most[line_id] = max(most.get(line_id, 0), n)
    return {line: RepaymentFacts(worst[line], most[line]) for line in worst}


def _default_dpd() -> tuple[tuple[int, Decimal], ...]:
    return ((90, Decimal("8")), (30, Decimal("4")), (1, Decimal("1.8")))


@dataclass(frozen=True, slots=True)
class BehaviourPolicy:
    """The odds factors and the PD-jump thresholds.

    Attributes:
        dpd_odds: (days, factor) from the most days down: the first whose days the six-month
            worst DPD reaches applies.
        repeated_late_days: overdue loan-days in a year from which lateness counts as a habit.
        repeated_late_odds: its factor.
        high_utilisation: drawn share of the line from which the line counts as maxed out.
        high_utilisation_odds: its factor.
        jump_ratio: PD_JUMP needs the behaviour PD at least this many times the approval PD …
        jump_min: … and at least this much above it.
    """

    dpd_odds: tuple[tuple[int, Decimal], ...] = field(default_factory=_default_dpd)
    repeated_late_days: int = 15
    repeated_late_odds: Decimal = Decimal("1.5")
    high_utilisation: Decimal = Decimal("0.95")
    high_utilisation_odds: Decimal = Decimal("1.4")
    jump_ratio: Decimal = Decimal(2)
    jump_min: Decimal = Decimal("0.02")

    def __post_init__(self) -> None:
        days = [d for d, _ in self.dpd_odds]
        if days != sorted(days, reverse=True) or any(d < 1 for d in days):
            raise PolicyViolation("behaviour.dpd_odds must list days ≥ 1 from the most down")
        factors = [f for _, f in self.dpd_odds]
        factors += [self.repeated_late_odds, self.high_utilisation_odds]
        if any(f < 1 for f in factors):
            raise PolicyViolation("behaviour odds factors must be at least 1 (they only add risk)")
        if self.jump_ratio <= 1 or not Decimal(0) < self.jump_min < Decimal(1):
            raise PolicyViolation("behaviour.jump_ratio must exceed 1 and jump_min be in (0, 1)")


@dataclass(frozen=True, slots=True)
class BehaviourFactor:
    """One factor that applied: its code, odds multiplier and what it saw."""

    code: str
    odds: Decimal
    text_zh: str
    text_en: str


@dataclass(frozen=True, slots=True)
class BehaviourScore:
    """The model PD, the behaviour PD and the factors between them."""

    model_pd: Decimal
    pd: Decimal
    factors: tuple[BehaviourFactor, ...]
    facts: RepaymentFacts


def exact_pd(value: float) -> Decimal:
    """The one rounding step from a model's float PD to an exact Decimal (six places)."""
    return Decimal(repr(float(value))).quantize(PD_PLACES, rounding=ROUND_HALF_UP)


def _odds(pd: Decimal) -> Decimal:
    return pd / (1 - pd)


def behaviour_score(
    model_pd: Decimal, facts: RepaymentFacts, policy: BehaviourPolicy
) -> BehaviourScore:
    """The behaviour PD from the model's PD and the repayment facts (see the module)."""
    if not Decimal(0) <= model_pd < Decimal(1):
        raise PolicyViolation(f"a PD must be within [0, 1), not {model_pd}")
    factors: list[BehaviourFactor] = []
    for days, odds in policy.dpd_odds:
        if facts.max_dpd_6m >= days:
            factors.append(BehaviourFactor(
                f"DPD_{days}", odds,
                f"近6个月最长逾期 {facts.max_dpd_6m} 天 (≥{days})",
                f"worst DPD in 6 months {facts.max_dpd_6m} (≥ {days})",
            ))  # fmt: skip
            break
    if facts.overdue_days_12m >= policy.repeated_late_days:
        factors.append(BehaviourFactor(
            "REPEATED_LATE", policy.repeated_late_odds,
            f"近12个月逾期 {facts.overdue_days_12m} 天",
            f"{facts.overdue_days_12m} days overdue in 12 months",
        ))  # fmt: skip
    if facts.utilisation >= policy.high_utilisation:
        factors.append(BehaviourFactor(
            "HIGH_UTILISATION", policy.high_utilisation_odds,
            f"额度使用率 {facts.utilisation:.0%}", f"line {facts.utilisation:.0%} drawn",
        ))  # fmt: skip
    odds = _odds(model_pd)
    for f in factors:
        odds *= f.odds
    pd = (odds / (1 + odds)).quantize(PD_PLACES, rounding=ROUND_HALF_UP)
    return BehaviourScore(model_pd, pd, tuple(factors), facts)


def pd_jumped(score: BehaviourScore, approved_pd: Decimal | None, policy: BehaviourPolicy) -> bool:
    """PD_JUMP: the behaviour PD is at least ``jump_ratio`` × and ``jump_min`` above the PD the
    line was approved on (never without that PD: a referral approved by a person had none)."""
    if approved_pd is None:
        return False
    return score.pd >= approved_pd * policy.jump_ratio and score.pd - approved_pd >= policy.jump_min


def may_jump(score: BehaviourScore, policy: BehaviourPolicy) -> bool:
    """Whether any approval PD could make this score a jump (so the approval PD is worth
    reading): the behaviour PD is at least ``jump_min``."""
    return score.pd >= policy.jump_min
