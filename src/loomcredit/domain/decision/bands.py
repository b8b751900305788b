"""Decision bands (审批分层): auto-approve, manual review or decline.

Decline when a decline rule fails, PD is at or above ``decline_pd_min``, no price fits under the
ceilings, or the limit is below the product minimum. Auto-approve when every rule passes, PD is at
most ``auto_pd_max``, the amount asked is within the auto limit and the limit covers it. Anything
else goes to a person. An applicant may always ask for a person (PIPL Art. 24): that turns any band
into review.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from loomcredit.domain.decision.policy import BandPolicy, Outcome
from loomcredit.domain.decision.rules import RuleResult
from loomcredit.domain.money import Money


class Band(StrEnum):
    """The three bands."""

    AUTO_APPROVE = "auto_approve"
    REVIEW = "review"
    DECLINE = "decline"

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return {"auto_approve": "自动通过", "review": "人工审批", "decline": "拒绝"}[self.value]


@dataclass(frozen=True, slots=True)
class BandReason:
    """Why the band is what it is (code plus texts)."""

    code: str
    text_zh: str
    text_en: str


@dataclass(frozen=True, slots=True)
class BandInputs:
    """Everything the band depends on."""

    rules: Sequence[RuleResult]
    pd: Decimal
    asked: Money
    limit: Money
    min_amount: Money
    price_feasible: bool
    person_requested: bool = False


def _decline_reasons(inputs: BandInputs, policy: BandPolicy) -> list[BandReason]:
    reasons = [
        BandReason(f"rule:{r.rule_id}", r.reason_zh, r.reason_en)
        for r in inputs.rules
        if r.outcome is Outcome.DECLINE
    ]
    if inputs.pd >= policy.decline_pd_min:
        reasons.append(
            BandReason(
                "pd_high",
                f"违约概率 {inputs.pd} ≥ {policy.decline_pd_min}",
                f"PD {inputs.pd} at or above {policy.decline_pd_min}",
            )
        )
    if not inputs.price_feasible:
        reasons.append(
            BandReason("price_infeasible", "定价超过利率上限", "no price fits the ceilings")
        )
    if inputs.limit < inputs.min_amount:
        reasons.append(
            BandReason(
                "limit_below_minimum", "可贷额度低于产品最低金额", "limit below the product minimum"
            )
        )
    return reasons


def _review_reasons(inputs: BandInputs, policy: BandPolicy) -> list[BandReason]:
    reasons = [
        BandReason(f"rule:{r.rule_id}", r.reason_zh, r.reason_en)
        for r in inputs.rules
        if r.outcome is Outcome.REFER
    ]
    if inputs.pd > policy.auto_pd_max:
        reasons.append(
            BandReason(
                "pd_review",
                f"违约概率 {inputs.pd} 高于自动审批线 {policy.auto_pd_max}",
                f"PD {inputs.pd} above the auto-approve line {policy.auto_pd_max}",
            )
        )
    if inputs.asked > policy.auto_amount_max:
        reasons.append(
            BandReason(
                "amount_above_auto",
                f"申请金额超过自动审批上限 {policy.auto_amount_max.format()}",
                f"amount above the auto limit {policy.auto_amount_max.format()}",
            )
        )
    if inputs.limit < inputs.asked:
        reasons.append(
            BandReason(
                "limit_below_asked",
                f"可贷额度 {inputs.limit.format()} 低于申请金额",
                f"limit {inputs.limit.format()} below the amount asked",
            )
        )
    return reasons


def assign_band(inputs: BandInputs, policy: BandPolicy) -> tuple[Band, tuple[BandReason, ...]]:
    """The band and its reasons.

    Args:
        inputs: rule results, PD, amounts and price feasibility.
        policy: band thresholds.

    Returns:
        ``(band, reasons)``; reasons are empty for a clean auto-approval.
    """
    declines = _decline_reasons(inputs, policy)
    reviews = _review_reasons(inputs, policy)
    band = Band.DECLINE if declines else Band.REVIEW if reviews else Band.AUTO_APPROVE
    reasons = declines or reviews
    if inputs.person_requested and band is not Band.REVIEW:
        person = BandReason(
            "person_requested", "申请人要求人工审批", "the applicant asked for a person"
        )
        return Band.REVIEW, (*reasons, person)
    return band, tuple(reasons)
