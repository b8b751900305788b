"""End of day for one loan (日终), defined once: DPD, bucket, grade floor, non-accrual, normal,
penalty and compound accrual, the income recognised, and the reminders due.

:func:`assess_day` is the rule; :meth:`loomcredit.domain.loan.Loan.close_day` applies it. The
set-based SQL end of day in ``adapters/`` writes the same rule with these constants, and a
property test runs random books through both and finds them equal to the fen.

For a loan on day ``d`` (a night of interest: 算头不算尾, a period runs from a due date to the night
before the next, so on a due date the period restarts with that night):

* **DPD** counts from the earliest instalment due before ``d`` with principal or interest unpaid
  (``delinquency.days_past_due``); bucket and floor grade follow (``delinquency.bucket``,
  ``delinquency.floor_grade``); the floor only ever pushes the grade down.
* **Normal interest** accrues on the principal not yet due (outstanding − principal due by ``d``)
  at the contract rate, ACT/360, in 1e-8 fen truncated once a day.
* **Penalty and compound interest** accrue on what is overdue (principal and interest due before
  ``d`` and unpaid) at the penalty rate, contract × (1 + uplift), the same way (银发〔2003〕251号).
* **Income recognised** that day: interest billed by instalments due so far plus the current
  period's accrual rounded half up, less what was recognised before (so on a due date the ACT/360
  accrual is trued up to the instalment's contractual interest); penalty accrued rounded half up
  less what was recognised.
* **Non-accrual** (非应计) past :data:`NON_ACCRUAL_AFTER_DAYS` overdue: accrual goes on off the
  books, and income recognised but unpaid is reversed; what is paid later is income when paid.
* **Reminders** T−7, T−3, T−1 (:data:`REMINDER_OFFSETS`) for unpaid instalments falling due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING

from loomcredit.domain.delinquency import (
    SUBSTANDARD_AFTER_DAYS,
    Bucket,
    Grade,
    bucket,
    days_past_due,
    floor_grade,
)
from loomcredit.domain.ledger import Account
from loomcredit.domain.money import Money, Round, round_fraction

if TYPE_CHECKING:
    from loomcredit.domain.loan import Legs, Loan

__all__ = [
    "ACCRUAL_BASIS_DAYS",
    "E8",
    "NON_ACCRUAL_AFTER_DAYS",
    "REMINDER_OFFSETS",
    "DayClose",
    "Reminder",
    "accrual_entry_id",
    "assess_day",
    "day_accrual_e8",
    "e8_to_fen",
]

E8 = 100_000_000
"""1e-8 fen: the unit accruals are kept in (exact integers on SQLite and PostgreSQL)."""

ACCRUAL_BASIS_DAYS = 360
"""ACT/360: a day's interest is balance × annual rate / 360 (DOMAIN.md §7)."""

NON_ACCRUAL_AFTER_DAYS = SUBSTANDARD_AFTER_DAYS
"""Past this many days overdue (the 次级 floor) interest and penalty accrue on the loan, but no
longer as income (非应计: 表外核算)."""

REMINDER_OFFSETS: tuple[tuple[str, int], ...] = (("T-7", 7), ("T-3", 3), ("T-1", 1))
"""Pre-due reminders: kind and days before the due date."""


def day_accrual_e8(balance_fen: int, rate_ppm: int, uplift_pct: int = 0) -> int:
    """One night's interest on ``balance_fen`` in 1e-8 fen, truncated (the named rounding step).

    ``rate_ppm`` is the annual rate in millionths, ``uplift_pct`` the penalty uplift in percent
    (0 for normal interest): fen × rate × (1 + uplift) / 360 × 1e8 = fen × ppm × (100 + pct) / 360.

    >>> day_accrual_e8(36_000_000, 36_000)  # ¥360,000 at 3.6 %: ¥36.00 a night
    360000000000
    """
    if balance_fen < 0:
        raise ValueError(f"a balance that bears interest cannot be negative ({balance_fen} fen)")
    return balance_fen * rate_ppm * (100 + uplift_pct) // ACCRUAL_BASIS_DAYS


def e8_to_fen(units: int) -> int:
    """1e-8 fen to whole fen, half up (the rounding step at recognition)."""
    return round_fraction(Fraction(units, E8), Round.HALF_UP)


@dataclass(frozen=True, slots=True)
class Reminder:
    """A pre-due reminder to queue: which instalment, which kind (``T-7``…), its due date."""

    loan_id: int
    installment: int
    kind: str
    due_on: date


@dataclass(frozen=True, slots=True)
class DayClose:
    """One loan-day of end of day (what ``loan_days`` records, and what it changes).

    Attributes:
        on: the business date closed.
        dpd: days past due.
        bucket: overdue bucket.
        floor: the grade floor the rules force that day (the grade is pushed down to it).
        overdue_principal: principal due before the day and unpaid.
        overdue_interest: interest due before the day and unpaid.
        penalty_accrual_e8: the night's penalty and compound interest (1e-8 fen).
        interest_accrual_e8: the night's normal interest (1e-8 fen).
        interest_fen: interest income recognised that day (negative: reversed).
        penalty_fen: penalty income recognised that day (negative: reversed).
        due_today: an instalment falls due on the day (the period restarts).
        non_accrual: the loan is past :data:`NON_ACCRUAL_AFTER_DAYS` overdue.
        non_accrual_after: the threshold in force.
        reminders: reminders to queue (the store keeps each once).
        currency: the loan's currency.
    """

    on: date
    dpd: int
    bucket: Bucket
    floor: Grade
    overdue_principal: Money
    overdue_interest: Money
    penalty_accrual_e8: int
    interest_accrual_e8: int
    interest_fen: int
    penalty_fen: int
    due_today: bool
    non_accrual: bool
    non_accrual_after: int
    reminders: tuple[Reminder, ...]
    currency: str

    @property
    def legs(self) -> Legs:
        """The accrual entry's legs (计提): Dr 应收利息 / Cr 利息收入, Dr 应收罚息 / Cr 罚息收入;
        empty when nothing was recognised."""
        cur = self.currency
        pairs = (
            (Account.INTEREST_RECEIVABLE, Money(self.interest_fen, cur)),
            (Account.INTEREST_INCOME, Money(-self.interest_fen, cur)),
            (Account.PENALTY_RECEIVABLE, Money(self.penalty_fen, cur)),
            (Account.PENALTY_INCOME, Money(-self.penalty_fen, cur)),
        )
        return tuple((a, m) for a, m in pairs if not m.is_zero())


def accrual_entry_id(loan_id: int, on: date) -> str:
    """The id of a loan's accrual entry for a day (one per loan-day: a rerun cannot post twice)."""
    return f"acr-{loan_id}-{on.isoformat()}"


def assess_day(loan: Loan, on: date) -> DayClose:
    """End of day for ``on`` on one active loan, computed from its state (nothing changed).

    Args:
        loan: the loan as it stands before the day closes (money events of the day applied).
        on: the business date.

    Returns:
        The day's figures; :meth:`Loan.close_day` applies them.
    """
    cur = loan.currency
    overdue = [i for i in loan.instalments if i.due_on < on and not i.is_settled]
    dpd = days_past_due((i.due_on for i in overdue), on)
    op = sum(i.principal_unpaid.minor for i in overdue)
    oi = sum(i.interest_unpaid.minor for i in overdue)
    due = [i for i in loan.instalments if i.due_on <= on]
    billed = sum(i.interest.minor for i in due)
    due_principal = sum(i.principal_unpaid.minor for i in due)
    due_today = any(i.due_on == on for i in due)
    ppm, pct = loan.terms.rate_ppm, loan.terms.uplift_pct
    pen = day_accrual_e8(op + oi, ppm, pct)
    acc = day_accrual_e8(loan.outstanding.minor - due_principal, ppm)
    a = loan.accrual
    non_accrual = dpd > NON_ACCRUAL_AFTER_DAYS
    if non_accrual:
        interest_fen = a.interest_received.minor - a.interest_recognised.minor
        penalty_fen = a.penalty_paid.minor - a.penalty_recognised.minor
    else:
        period = acc if due_today else a.interest_e8 + acc
        interest_fen = billed + e8_to_fen(period) - a.interest_recognised.minor
        penalty_fen = e8_to_fen(a.penalty_e8 + pen) - a.penalty_recognised.minor
    reminders = tuple(
        Reminder(loan.loan_id, i.number, kind, i.due_on)
        for kind, days in REMINDER_OFFSETS
        for i in loan.instalments
        if i.due_on == on + timedelta(days=days) and not i.is_settled
    )
    return DayClose(
        on=on,
        dpd=dpd,
        bucket=bucket(dpd),
        floor=floor_grade(dpd),
        overdue_principal=Money(op, cur),
        overdue_interest=Money(oi, cur),
        penalty_accrual_e8=pen,
        interest_accrual_e8=acc,
        interest_fen=interest_fen,
        penalty_fen=penalty_fen,
        due_today=due_today,
        non_accrual=non_accrual,
        non_accrual_after=NON_ACCRUAL_AFTER_DAYS,
        reminders=reminders,
        currency=cur,
    )
