"""Dynamic limit review (额度动态调整): each month a line's limit is recomputed for the month ahead.

The credit decision is run again as of the review date, on the latest point-in-time features and
the promoted model's PD, for the amount the line was approved for. Its limit build-up (sales
multiple by PD tier, debt-service capacity, product cap, concentration) gives the base limit, and
for a revolving line the firm's own seasonal factor (its profile from 24+ months, else the
cluster's; DOMAIN.md §11) gives the limit of the coming month. The review then compares that
target with the limit in force:

* no change beyond the rounding step: **unchanged** (额度不变);
* a change within the policy's band (e.g. ±10 % of the limit in force), never above the limit
  the line was approved for and never a raise on a frozen line: **applied** by itself (自动调整);
* anything larger, a raise above the approved limit, a raise on a frozen line, or a decision
  that now declines: **proposed** with its build-up for a risk manager to approve (提交审批);
* no model or no features on the date: **not reviewed** (无法复核), and the limit stays.

>>> from loomcredit.domain.credit_line import CreditLine, LineKind, LineTerms
>>> line = CreditLine.open(LineTerms(1, "91330603MA2B00000X", LineKind.REVOLVING,
...     Money.parse("500000"), date(2026, 1, 5), date(2027, 1, 5), "D1", "6222000011112222"))
>>> basis = ReviewBasis(Decimal("0.02"), Money.parse("480000"), Money.parse("470000"),
...     Decimal("0.95"), "own", "sales_multiple", ())
>>> r = review_limit(line, basis, as_of=date(2026, 3, 31), policy=LimitReviewPolicy())
>>> r.outcome.value, r.target.format(), r.month.isoformat()
('applied', '¥470,000.00', '2026-04-01')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from loomcredit.domain.credit_line import CreditLine, LineStatus
from loomcredit.domain.daycount import add_months
from loomcredit.domain.decision.bands import Band
from loomcredit.domain.decision.limits import LimitComponent
from loomcredit.domain.decision.outcome import CreditDecision
from loomcredit.domain.errors import PolicyViolation
from loomcredit.domain.money import Money

__all__ = [
    "LimitReview",
    "LimitReviewPolicy",
    "ReviewBasis",
    "ReviewOutcome",
    "basis_from",
    "review_limit",
    "review_month",
]


class ReviewOutcome(StrEnum):
    """What a monthly review did to the line."""

    UNCHANGED = "unchanged"
    APPLIED = "applied"
    PROPOSED = "proposed"
    NOT_REVIEWED = "not_reviewed"

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return {
            "unchanged": "额度不变",
            "applied": "自动调整",
            "proposed": "提交审批",
            "not_reviewed": "无法复核",
        }[self.value]


@dataclass(frozen=True, slots=True)
class LimitReviewPolicy:
    """How far a review may move a limit by itself.

    Attributes:
        band: a change of at most this share of the limit in force applies itself (0.10: ±10 %).
        step: changes smaller than this are no change (the limit policy's rounding step).
        auto_raise_above_approved: whether a raise above the limit the line was approved for may
            apply itself (by default never: that is a new credit decision, for a person).
    """

    band: Decimal = Decimal("0.10")
    step: Money = field(default_factory=lambda: Money.parse("1000"))
    auto_raise_above_approved: bool = False

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.band < Decimal(1):
            raise PolicyViolation(f"limit_review.band must be within 0..1, not {self.band}")
        if not self.step.is_positive():
            raise PolicyViolation("limit_review.step must be a positive amount")


@dataclass(frozen=True, slots=True)
class ReviewBasis:
    """What the credit decision run again as of the review date says about the line.

    Attributes:
        pd: the model's PD now.
        base_limit: the build-up's limit (the smallest component, rounded down).
        month_limit: the limit for the coming month (revolving: base × that month's seasonal
            factor, capped by the product; one-off: the base limit; zero when declined).
        season_factor: the coming month's seasonal factor (None for a one-off line).
        season_source: ``own`` (the firm's history) or ``cluster``.
        binding: the component that binds.
        components: every candidate limit with how it was derived.
        declined: the decision now declines the borrower (its reasons in ``note``).
        note: the decision's band reasons, or why there is no basis.
    """

    pd: Decimal | None
    base_limit: Money
    month_limit: Money
    season_factor: Decimal | None
    season_source: str
    binding: str
    components: tuple[LimitComponent, ...]
    declined: bool = False
    note: str = ""


def review_month(as_of: date) -> date:
    """The month a review as of ``as_of`` sets the limit for: the first day of the next month."""
    return add_months(as_of.replace(day=1), 1)


def basis_from(decision: CreditDecision, month: date) -> ReviewBasis | None:
    """The review basis in a decision run again for the line (None for a referral: no model or
    no features on the date, so nothing to review on)."""
    build = decision.build_up
    if decision.is_referral or build is None:
        return None
    factor: Decimal | None = None
    target = build.limit
    if build.monthly_limits:
        factor = build.season_factors[month.month - 1]
        target = build.monthly_limits[month.month - 1]
    declined = decision.band is Band.DECLINE
    return ReviewBasis(
        pd=decision.pd,
        base_limit=build.limit,
        month_limit=Money.zero(target.currency) if declined else target,
        season_factor=factor,
        season_source=build.season_source if factor is not None else "",
        binding=build.binding,
        components=build.components,
        declined=declined,
        note="; ".join(decision.band_reasons),
    )


@dataclass(slots=True)
class LimitReview:
    """One line's review for one month.

    Attributes:
        review_id: stored id (0 until stored).
        line_id: the line.
        uscc: its borrower.
        month: the month the limit is for (its first day).
        as_of: the date the features and score were taken as of.
        current: the limit in force when reviewed.
        approved: the limit the line was approved for.
        target: the limit the review arrived at (``current`` when not reviewed).
        basis: how the target was built (None when not reviewed).
        outcome: unchanged, applied, proposed or not reviewed.
        reason_zh: why, in Chinese.
        reason_en: why, in English.
        approval_id: the approval request of a proposed change (0 when none).
    """

    review_id: int
    line_id: int
    uscc: str
    month: date
    as_of: date
    current: Money
    approved: Money
    target: Money
    basis: ReviewBasis | None
    outcome: ReviewOutcome
    reason_zh: str
    reason_en: str
    approval_id: int = 0

    @property
    def change(self) -> Money:
        """Target less the limit in force (negative: lowered)."""
        return self.target - self.current

    @property
    def change_share(self) -> Decimal:
        """The change as a share of the limit in force (1 when the limit in force is zero)."""
        if self.current.is_zero():
            return Decimal(0) if self.target.is_zero() else Decimal(1)
        return (Decimal(self.change.minor) / Decimal(self.current.minor)).quantize(
            Decimal("0.0001")
        )


def _pct(share: Decimal) -> str:
    return f"{share * 100:+.1f}%"


def review_limit(
    line: CreditLine, basis: ReviewBasis | None, *, as_of: date, policy: LimitReviewPolicy
) -> LimitReview:
    """Review ``line`` as of ``as_of`` on ``basis`` for the coming month (see the module)."""
    month = review_month(as_of)
    current, approved = line.limit, line.terms.limit

    def made(target: Money, outcome: ReviewOutcome, zh: str, en: str) -> LimitReview:
        return LimitReview(
            0, line.line_id, line.terms.uscc, month, as_of, current, approved, target,
            basis, outcome, zh, en,
        )  # fmt: skip

    if line.status is LineStatus.CLOSED:
        return made(current, ReviewOutcome.NOT_REVIEWED, "额度已关闭", "the line is closed")
    if basis is None:
        return made(
            current,
            ReviewOutcome.NOT_REVIEWED,
            "复核日无评分模型或企业画像，额度不变",
            "no model or no features on the review date: the limit stays",
        )
    target = basis.month_limit
    change = target - current
    if abs(change.minor) < policy.step.minor:
        return made(current, ReviewOutcome.UNCHANGED, "测算额度与现额度一致", "no change")
    review = made(target, ReviewOutcome.PROPOSED, "", "")
    share = review.change_share
    if basis.declined:
        review.reason_zh = f"重新决策不予授信，建议额度降至 {target.format()}：{basis.note}"
        review.reason_en = f"the decision now declines; proposed limit {target.format()}"
    elif change.is_positive() and target > approved and not policy.auto_raise_above_approved:
        review.reason_zh = f"测算额度 {target.format()} 高于批准额度 {approved.format()}，需审批"
        review.reason_en = (
            f"target {target.format()} is above the approved {approved.format()}: for review"
        )
    elif change.is_positive() and line.status is LineStatus.FROZEN:
        review.reason_zh = "额度冻结中，上调需审批"
        review.reason_en = "the line is frozen: a raise is for review"
    elif abs(share) > policy.band:
        review.reason_zh = f"调整幅度 {_pct(share)} 超出自动调整范围 ±{policy.band * 100:.0f}%"
        review.reason_en = f"change {_pct(share)} beyond the ±{policy.band * 100:.0f}% band"
    else:
        review.outcome = ReviewOutcome.APPLIED
        review.reason_zh = f"调整幅度 {_pct(share)} 在 ±{policy.band * 100:.0f}% 内，自动调整"
        review.reason_en = f"change {_pct(share)} within the ±{policy.band * 100:.0f}% band"
    return review
