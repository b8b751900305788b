"""Collection figures from the book (催收指标): roll rates, cure rate, amount recovered by bucket.

They are read from what end of day records per loan per day (``loan_days``: DPD and bucket) and
from the receipts booked, so they need nothing but the book:

* **Roll rates** (迁徙率), for each pair of consecutive month ends m → m+1: of the loans (and of
  the outstanding principal) in bucket b at m, the share in bucket b' at m+1. Buckets are the
  report's :class:`RollBucket` — current, M1, M2, M3, M3+ (over 90 days, the 次级 floor), and
  *closed* for a loan no end of day recorded at m+1 (repaid in full or written off). A loan
  first recorded after m is not in m's base.
* **Cure rate** (回正率): of the loans overdue (M1 or worse) at m, the share current at m+1; and
  over the whole period, cured transitions over overdue loan-months. A loan repaid in full goes
  to *closed*, not to current: the matrix shows it.
* **Amount recovered by bucket** (回收金额): the receipts booked in a month, by the bucket the
  loan was in when the money came (after the previous day's end of day; current before its first
  one).

The shares are exact fractions (:class:`~fractions.Fraction`); presentation rounds them.
:class:`CollectionFigures` also has room for the figures the collection cases give (promises
kept, contacts per case, cases per collector); they stay ``None`` until those tables fill them.

>>> s = [MonthEndState(1, date(2026, 3, 31), Bucket.M0, 0, Money(0), Money(100)),
...      MonthEndState(1, date(2026, 4, 30), Bucket.M1, 5, Money(10), Money(100))]
>>> (m,) = roll_matrices(s, [date(2026, 3, 31), date(2026, 4, 30)])
>>> m.rate(RollBucket.CURRENT, RollBucket.M1)
Fraction(1, 1)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise

from loomcredit.domain.delinquency import Bucket
from loomcredit.domain.money import Money

__all__ = [
    "OPEN_BUCKETS",
    "CollectionFigures",
    "CureRate",
    "MonthEndState",
    "Recovered",
    "RollBucket",
    "RollCell",
    "RollMatrix",
    "collection_figures",
    "cure_rates",
    "month_ends",
    "recovered_by_bucket",
    "roll_matrices",
]


class RollBucket(StrEnum):
    """A bucket of the roll-rate matrix."""

    CURRENT = "current"
    M1 = "M1"
    M2 = "M2"
    M3 = "M3"
    M3_PLUS = "M3+"
    CLOSED = "closed"

    @classmethod
    def of(cls, bucket: Bucket) -> RollBucket:
        """The report's bucket of an end-of-day bucket (M4 … M7 are M3+)."""
        if bucket is Bucket.M0:
            return cls.CURRENT
        if bucket <= Bucket.M3:
            return cls(bucket.name)
        return cls.M3_PLUS

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return {"current": "正常", "closed": "结清/核销"}.get(self.value, self.value)

    @property
    def is_overdue(self) -> bool:
        """M1 or worse."""
        return self not in (RollBucket.CURRENT, RollBucket.CLOSED)


#: The buckets a loan can be in at a month end (rows of the matrix).
OPEN_BUCKETS = tuple(b for b in RollBucket if b is not RollBucket.CLOSED)


@dataclass(frozen=True, slots=True)
class MonthEndState:
    """One loan at one month end, as end of day recorded it.

    Attributes:
        loan_id: the loan.
        month_end: the last day of the month (an end of day ran on it).
        bucket: the bucket recorded.
        dpd: days past due recorded.
        overdue: principal and interest overdue that day.
        outstanding: principal outstanding after that day (disbursed less principal received).
    """

    loan_id: int
    month_end: date
    bucket: Bucket
    dpd: int
    overdue: Money
    outstanding: Money


@dataclass(frozen=True, slots=True)
class Recovered:
    """Receipts booked in ``month`` (its first day) while the loan was in ``bucket``."""

    month: date
    bucket: RollBucket
    amount: Money
    receipts: int


@dataclass(frozen=True, slots=True)
class RollCell:
    """Loans (and their outstanding principal at m) in ``source`` at m and ``target`` at m+1."""

    source: RollBucket
    target: RollBucket
    loans: int
    balance: Money


@dataclass(frozen=True, slots=True)
class RollMatrix:
    """The transitions from month end ``start`` to month end ``end``."""

    start: date
    end: date
    cells: tuple[RollCell, ...]

    def _base(self, source: RollBucket) -> tuple[int, int]:
        mine = [c for c in self.cells if c.source is source]
        return sum(c.loans for c in mine), sum(c.balance.minor for c in mine)

    def _cell(self, source: RollBucket, target: RollBucket) -> RollCell | None:
        return next((c for c in self.cells if (c.source, c.target) == (source, target)), None)

    def loans_in(self, source: RollBucket) -> int:
        """Loans in ``source`` at the start month end."""
        return self._base(source)[0]

    def rate(self, source: RollBucket, target: RollBucket) -> Fraction | None:
        """Share of the loans in ``source`` at ``start`` that are in ``target`` at ``end`` (None
        when none were in ``source``)."""
        n = self._base(source)[0]
        cell = self._cell(source, target)
        return None if n == 0 else Fraction(cell.loans if cell else 0, n)

    def balance_rate(self, source: RollBucket, target: RollBucket) -> Fraction | None:
        """The same share by outstanding principal at ``start``."""
        total = self._base(source)[1]
        cell = self._cell(source, target)
        return None if total == 0 else Fraction(cell.balance.minor if cell else 0, total)


@dataclass(frozen=True, slots=True)
class CureRate:
    """Of the loans overdue at ``start``, how many were current at ``end``."""

    start: date
    end: date
    overdue: int
    cured: int

    @property
    def rate(self) -> Fraction | None:
        """cured / overdue (None when nothing was overdue)."""
        return None if self.overdue == 0 else Fraction(self.cured, self.overdue)


@dataclass(frozen=True, slots=True)
class CollectionFigures:
    """The collection report's figures as of a date.

    Attributes:
        as_of: the report date (the month ends are those on or before it).
        month_ends: the month ends read, in order.
        roll_rates: one matrix per consecutive pair of month ends.
        cure_rates: one per consecutive pair.
        recovered: receipts by month and bucket.
        promise_kept_rate: share of the promises to pay judged in the period that were kept
            (partly kept is not kept); None without promises.
        contacts_per_case: contacts recorded per case open in the period; None without cases.
        cases_per_collector: (collector, cases open in the period), by collector ('' is
            unassigned).
    """

    as_of: date
    month_ends: tuple[date, ...]
    roll_rates: tuple[RollMatrix, ...]
    cure_rates: tuple[CureRate, ...]
    recovered: tuple[Recovered, ...]
    promise_kept_rate: Fraction | None = None
    contacts_per_case: Fraction | None = None
    cases_per_collector: tuple[tuple[str, int], ...] = ()

    @property
    def cure_rate(self) -> Fraction | None:
        """Cured transitions over overdue loan-months, over the whole period."""
        overdue = sum(c.overdue for c in self.cure_rates)
        return None if overdue == 0 else Fraction(sum(c.cured for c in self.cure_rates), overdue)

    def recovered_in(self, bucket: RollBucket) -> Money | None:
        """Everything recovered while loans were in ``bucket`` (None: nothing)."""
        found = [r.amount for r in self.recovered if r.bucket is bucket]
        if not found:
            return None
        total = found[0]
        for amount in found[1:]:
            total = total + amount
        return total


def month_ends(first: date, as_of: date) -> list[date]:
    """The last day of every month from ``first``'s month whose end is on or before ``as_of``."""
    out: list[date] = []
    year, month = first.year, first.month
    while True:
        nxt = date(year + month // 12, month % 12 + 1, 1)
        end = date.fromordinal(nxt.toordinal() - 1)
        if end > as_of:
            return out
        out.append(end)
        year, month = nxt.year, nxt.month


def roll_matrices(states: Iterable[MonthEndState], ends: Sequence[date]) -> list[RollMatrix]:
    """One matrix per consecutive pair of ``ends``."""
    by_end: dict[date, dict[int, MonthEndState]] = {e: {} for e in ends}
    for s in states:
        if s.month_end in by_end:
            by_end[s.month_end][s.loan_id] = s
    out = []
    for start, end in pairwise(ends):
        cells: dict[tuple[RollBucket, RollBucket], tuple[int, int, str]] = {}
        for loan_id, s in by_end[start].items():
            after = by_end[end].get(loan_id)
            key = (RollBucket.of(s.bucket), RollBucket.of(after.bucket) if after else
                   RollBucket.CLOSED)  # fmt: skip
            n, fen, _ = cells.get(key, (0, 0, ""))
            cells[key] = (n + 1, fen + s.outstanding.minor, s.outstanding.currency)
        order = list(RollBucket)
        ordered = sorted(cells.items(), key=lambda kv: (order.index(kv[0][0]),
                                                        order.index(kv[0][1])))  # fmt: skip
        out.append(
            RollMatrix(
                start,
                end,
                tuple(RollCell(a, b, n, Money(fen, cur)) for (a, b), (n, fen, cur) in ordered),
            )
        )
    return out


def cure_rates(matrices: Iterable[RollMatrix]) -> list[CureRate]:
    """The cure rate of each matrix: overdue at the start, current at the end."""
    out = []
    for m in matrices:
        overdue = sum(c.loans for c in m.cells if c.source.is_overdue)
        cured = sum(
            c.loans for c in m.cells if c.source.is_overdue and c.target is RollBucket.CURRENT
        )
        out.append(CureRate(m.start, m.end, overdue, cured))
    return out


def recovered_by_bucket(
    receipts: Iterable[tuple[date, Bucket | None, Money]],
) -> list[Recovered]:
    """Receipts ``(booked on, the loan's bucket the day before or None, amount)`` summed by
    month and report bucket (None: no end of day yet, so current)."""
    sums: dict[tuple[date, RollBucket, str], tuple[int, int]] = {}
    for booked_on, bucket, amount in receipts:
        rb = RollBucket.CURRENT if bucket is None else RollBucket.of(bucket)
        key = (booked_on.replace(day=1), rb, amount.currency)
        fen, n = sums.get(key, (0, 0))
        sums[key] = (fen + amount.minor, n + 1)
    order = list(RollBucket)
    return [
        Recovered(month, rb, Money(fen, cur), n)
        for (month, rb, cur), (fen, n) in sorted(
            sums.items(), key=lambda kv: (kv[0][0], order.index(kv[0][1]), kv[0][2])
        )
    ]


def collection_figures(
    as_of: date,
    ends: Sequence[date],
    states: Iterable[MonthEndState],
    receipts: Iterable[tuple[date, Bucket | None, Money]],
) -> CollectionFigures:
    """The book-based figures over the month ends ``ends``."""
    matrices = roll_matrices(states, ends)
    return CollectionFigures(
        as_of,
        tuple(ends),
        tuple(matrices),
        tuple(cure_rates(matrices)),
        tuple(recovered_by_bucket(receipts)),
    )
