"""The collection strategy (催收策略) as values: queues, assignment, and how a case is prioritised.

**Queues.** A queue takes cases of some buckets from some regions (division-code prefixes of the
borrower's registration region, ``*`` for any); the first queue in policy order that matches a
case is its queue. A case is assigned to the least-loaded collector of its queue (fewest open
cases, ties by name); when its bucket moves it to another queue whose list does not include its
collector it is reassigned the same way. A risk manager can reassign by hand.

**Priority** = expected loss × weights, in fen: PD × exposure × LGD, where exposure is the
borrower's outstanding principal plus overdue interest and penalty / compound interest, PD is the
one its credit line was approved on (the policy's default PD for a line a person approved without
a model), LGD comes from the policy. It is multiplied by

* ``season_weight`` when the *coming* calendar month (the month after the business date) is one
  of the borrower's cash-in months (a dyeing mill short in February is worth a call before the
  March orders pay);
* ``broken_promise_factor`` when the case's last promise to pay that came due was broken.

**Cash-in months** (:func:`cash_in_months`) come from the borrower's twelve month-of-year
factors (its own, from the decision's limit build-up, else the cluster's, DOMAIN.md §11): a
month is a cash-in month when its factor is at least ``cash_in_factor`` (a busy month), or when
it is above the month before by at least ``cash_in_rise`` (the recovery after a trough, when the
money of the new season's orders arrives). With the Keqiao cluster's factors (0.7, 0.7, 1.0,
1.0, 1.0, 1.1, 0.9, 0.9, 1.2, 1.2, 1.0, 0.8) and 1.1 / 0.2 they are March, June, September and
October.

>>> from decimal import Decimal as D
>>> factors = tuple(D(f) for f in "0.7 0.7 1.0 1.0 1.0 1.1 0.9 0.9 1.2 1.2 1.0 0.8".split())
>>> sorted(cash_in_months(factors, cash_in_factor=D("1.1"), cash_in_rise=D("0.2")))
[3, 6, 9, 10]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from loomcredit.domain.conduct import ConductPolicy
from loomcredit.domain.money import Round, round_fraction

__all__ = [
    "DEFAULT_POLICY",
    "CaseBucket",
    "CollectionsPolicy",
    "Queue",
    "cash_in_months",
    "expected_loss_fen",
    "pick_collector",
]


class CaseBucket(StrEnum):
    """A case's bucket: the worst bucket of the borrower's loans, M4 and beyond as M3+."""

    M1 = "M1"
    M2 = "M2"
    M3 = "M3"
    M3_PLUS = "M3+"

    @classmethod
    def of_dpd(cls, dpd: int) -> CaseBucket:
        """M1 1–30, M2 31–60, M3 61–90, M3+ over 90 days past due (``dpd`` > 0)."""
        if dpd <= 0:
            raise ValueError(f"a case bucket needs days past due, got {dpd}")
        return (cls.M1, cls.M2, cls.M3, cls.M3_PLUS)[min(3, (dpd - 1) // 30)]

    @property
    def rank(self) -> int:
        """1 for M1 … 4 for M3+."""
        return list(CaseBucket).index(self) + 1


@dataclass(frozen=True, slots=True)
class Queue:
    """A work queue: its id, the buckets and region prefixes it takes, its collectors."""

    queue_id: str
    buckets: frozenset[CaseBucket]
    regions: tuple[str, ...]
    collectors: tuple[str, ...]

    def takes(self, bucket: CaseBucket, region: str) -> bool:
        """Whether a case of ``bucket`` from ``region`` belongs in this queue."""
        return bucket in self.buckets and any(
            p == "*" or region.startswith(p) for p in self.regions
        )


@dataclass(frozen=True, slots=True)
class CollectionsPolicy:
    """The collection strategy and conduct rules of one policy file version."""

    version: str
    conduct: ConductPolicy
    queues: tuple[Queue, ...]
    lgd: Decimal
    default_pd: Decimal
    season_weight: Decimal
    cash_in_factor: Decimal
    cash_in_rise: Decimal
    broken_promise_factor: Decimal
    next_action_days: Mapping[CaseBucket, int]
    promise_max_days: int
    cluster_season_factors: tuple[Decimal, ...]

    def queue_for(self, bucket: CaseBucket, region: str) -> Queue | None:
        """The first queue that takes the case, or None (no queue: unassigned)."""
        return next((q for q in self.queues if q.takes(bucket, region)), None)

    def cash_in(self, factors: Sequence[Decimal] | None) -> frozenset[int]:
        """The borrower's cash-in months from its factors (the cluster's when None)."""
        return cash_in_months(
            factors if factors else self.cluster_season_factors,
            cash_in_factor=self.cash_in_factor,
            cash_in_rise=self.cash_in_rise,
        )


def cash_in_months(
    factors: Sequence[Decimal], *, cash_in_factor: Decimal, cash_in_rise: Decimal
) -> frozenset[int]:
    """Months (1–12) whose factor is at least ``cash_in_factor`` or at least ``cash_in_rise``
    above the month before (December before January)."""
    if len(factors) != 12:
        raise ValueError(f"twelve monthly factors are needed, got {len(factors)}")
    return frozenset(
        m + 1
        for m, f in enumerate(factors)
        if f >= cash_in_factor or f - factors[m - 1] >= cash_in_rise
    )


def expected_loss_fen(pd: Decimal, exposure_fen: int, lgd: Decimal, *weights: Decimal) -> int:
    """PD × exposure × LGD × weights in fen, rounded half up once."""
    value = Fraction(pd) * exposure_fen * Fraction(lgd)
    for w in weights:
        value *= Fraction(w)
    return round_fraction(value, Round.HALF_UP)


def pick_collector(queue: Queue, load: Mapping[str, int]) -> str:
    """The queue's least-loaded collector (open cases), ties by name; '' for an empty queue."""
    if not queue.collectors:
        return ""
    return min(queue.collectors, key=lambda c: (load.get(c, 0), c))


def _d(text: str) -> Decimal:
    return Decimal(text)


#: The shipped Keqiao policy (``keqiao_collections.yaml``; a test keeps the two equal), for use
#: cases run without a policy file wired (tests, end of day called without one).
DEFAULT_POLICY = CollectionsPolicy(
    version="keqiao-collections-2026.12-1",
    conduct=ConductPolicy("keqiao-collections-2026.12-1", "Asia/Shanghai", time(8), time(21), 3),
    queues=(
        Queue(
            "keqiao-early",
            frozenset({CaseBucket.M1, CaseBucket.M2}),
            ("330603", "330621"),
            ("collector1", "collector2"),
        ),
        Queue("shaoxing-early", frozenset({CaseBucket.M1, CaseBucket.M2}), ("*",), ("collector3",)),
        Queue(
            "late",
            frozenset({CaseBucket.M3, CaseBucket.M3_PLUS}),
            ("*",),
            ("collector4", "collector5"),
        ),
    ),
    lgd=_d("0.45"),
    default_pd=_d("0.10"),
    season_weight=_d("1.5"),
    cash_in_factor=_d("1.1"),
    cash_in_rise=_d("0.2"),
    broken_promise_factor=_d("2"),
    next_action_days={
        CaseBucket.M1: 3,
        CaseBucket.M2: 2,
        CaseBucket.M3: 1,
        CaseBucket.M3_PLUS: 1,
    },
    promise_max_days=30,
    cluster_season_factors=tuple(
        _d(f)
        for f in [
            "0.7",
            "0.7",
            "1.0",
            "1.0",
            "1.0",
            "1.1",
            "0.9",
            "0.9",
            "1.2",
            "1.2",
            "1.0",
            "0.8",
        ]
    ),
)
