"""Days past due, overdue buckets and the five-grade classification floor (DOMAIN.md §5, §8).

* :func:`days_past_due` counts from the earliest unpaid due item (principal or interest).
* :func:`bucket` maps DPD to M0 (current), M1 (1–30), … M6 (151–180), M7 (over 180).
* :func:`floor_grade` is the hard floor of the 2023 Measures 《商业银行金融资产风险分类办法》: any
  overdue is at least 关注 (except a flagged technical delay of at most 7 days), over 90 days
  次级, over 270 可疑, over 360 损失; misuse of funds and 借新还旧 without a qualifying SME
  renewal (无还本续贷) are at least 关注.
* :func:`apply_floor` only ever pushes a grade down (towards 损失), never up: the final grade stays
  a human decision.

>>> floor_grade(91)
<Grade.SUBSTANDARD: 3>
>>> apply_floor(Grade.DOUBTFUL, Grade.SPECIAL_MENTION)
<Grade.DOUBTFUL: 4>
"""

from __future__ import annotations

from datetime import date
from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

TECHNICAL_DELAY_MAX_DAYS = 7
SUBSTANDARD_AFTER_DAYS = 90
DOUBTFUL_AFTER_DAYS = 270
LOSS_AFTER_DAYS = 360
BUCKET_DAYS = 30


class Grade(IntEnum):
    """The five grades 五级分类; a higher value is a worse grade."""

    NORMAL = 1
    SPECIAL_MENTION = 2
    SUBSTANDARD = 3
    DOUBTFUL = 4
    LOSS = 5

    @property
    def label_zh(self) -> str:
        """Chinese name: 正常, 关注, 次级, 可疑, 损失."""
        return ("正常", "关注", "次级", "可疑", "损失")[self.value - 1]

    @property
    def label_en(self) -> str:
        """English name."""
        return ("normal", "special mention", "substandard", "doubtful", "loss")[self.value - 1]

    @property
    def is_nonperforming(self) -> bool:
        """True for 次级, 可疑 and 损失 (不良)."""
        return self >= Grade.SUBSTANDARD


class Bucket(IntEnum):
    """Overdue buckets of 30 days; M7 is everything over 180 days (M6+)."""

    M0 = 0
    M1 = 1
    M2 = 2
    M3 = 3
    M4 = 4
    M5 = 5
    M6 = 6
    M7 = 7

    @property
    def label(self) -> str:
        """Display label: ``M0`` … ``M6``, ``M7+``."""
        return "M7+" if self is Bucket.M7 else self.name


def days_past_due(unpaid_due_dates: Iterable[date], as_of: date) -> int:
    """Days past due on ``as_of``, counted from the earliest unpaid due date.

    An item due on ``as_of`` itself is not yet overdue (0); due the day before is 1 day past due.
    Items due after ``as_of`` and an empty list give 0.

    Args:
        unpaid_due_dates: Due dates of the items (principal or interest) still unpaid.
        as_of: The business date of the count.

    Returns:
        Whole days past due, never negative.
    """
    earliest = min(unpaid_due_dates, default=None)
    if earliest is None:
        return 0
    return max(0, (as_of - earliest).days)


def bucket(dpd: int) -> Bucket:
    """The overdue bucket of a DPD count (M1 = 1–30, M2 = 31–60, …, M7 = over 180)."""
    if dpd < 0:
        raise ValueError(f"Days past due cannot be negative, got {dpd}.")
    if dpd == 0:
        return Bucket.M0
    return Bucket(min(7, (dpd - 1) // BUCKET_DAYS + 1))


def floor_grade(
    dpd: int,
    *,
    technical_delay: bool = False,
    misuse: bool = False,
    refinanced: bool = False,
    qualifying_renewal: bool = False,
) -> Grade:
    """The hard floor grade from days past due and flags.

    Args:
        dpd: Days past due of the earliest unpaid item.
        technical_delay: A flagged, audited operational or technical delay; exempts an overdue of
            at most 7 days from the 关注 floor (nothing else).
        misuse: Funds used for another purpose without the bank's consent (at least 关注).
        refinanced: Repaid by new borrowing 借新还旧 or other debt financing.
        qualifying_renewal: The refinancing is a qualifying small/micro-enterprise renewal 续贷,
            which is exempt from the 借新还旧 floor.

    Returns:
        The worst grade the rules force; :attr:`Grade.NORMAL` when none applies.
    """
    if dpd < 0:
        raise ValueError(f"Days past due cannot be negative, got {dpd}.")
    if dpd > LOSS_AFTER_DAYS:
        return Grade.LOSS
    if dpd > DOUBTFUL_AFTER_DAYS:
        return Grade.DOUBTFUL
    if dpd > SUBSTANDARD_AFTER_DAYS:
        return Grade.SUBSTANDARD
    floor = Grade.NORMAL
    if dpd > 0 and not (technical_delay and dpd <= TECHNICAL_DELAY_MAX_DAYS):
        floor = Grade.SPECIAL_MENTION
    if misuse or (refinanced and not qualifying_renewal):
        floor = max(floor, Grade.SPECIAL_MENTION)
    return floor


def apply_floor(current: Grade, floor: Grade) -> Grade:
    """The grade after a floor: pushed down to the floor, never raised above ``current``."""
    return Grade(max(current, floor))
