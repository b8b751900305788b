"""The outcome of a credit decision as the lending workflow uses it (授信决策结论).

:class:`CreditDecision` is what the decider port returns and an application keeps: the band,
the contract rate, the limit, the PD, the reasons, the rate build-up, the repayment plan the
engine suggested and for which date, the product kind (a term product opens a one-off line, a
revolving product a revolving line), and the whole :class:`DecisionRecord` as canonical JSON
for the people who ask why (DESIGN.md §4). A referral (转人工) is a decision too: when the engine
cannot decide (no promoted model, no features for the borrower on the date) the application goes
to a person with that reason, with no limit, so only an exception approval can lend on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from loomcredit.domain.decision.bands import Band
from loomcredit.domain.decision.limits import LimitBuildUp
from loomcredit.domain.decision.plan import PlanShape
from loomcredit.domain.decision.policy import ProductKind
from loomcredit.domain.decision.record import DecisionRecord
from loomcredit.domain.money import Money

__all__ = ["CreditDecision", "RateBuildUp", "SuggestedPlan"]


@dataclass(frozen=True, slots=True)
class RateBuildUp:
    """How the rate was built: 1-year LPR, spread, all-in annualised cost, the bound that held."""

    lpr_1y: Decimal | None
    spread: Decimal | None
    all_in_rate: Decimal | None = None
    bound: str = ""


@dataclass(frozen=True, slots=True)
class SuggestedPlan:
    """The repayment plan the engine suggested, and the start date it was suggested for."""

    shape: PlanShape
    suggested_for: date


@dataclass(frozen=True, slots=True)
class CreditDecision:
    """A decision as the workflow keeps it.

    Attributes:
        band: auto-approve, review or decline.
        annual_rate: the contract rate offered (a fraction: ``0.045`` is 4.5 %).
        limit: the most the engine would lend (zero for a referral).
        pd: the model's probability of default, None when no model scored.
        engine: which engine and versions decided (``loom-decision <policy> / <model>``).
        decision_id: the record's stable id ('' for a referral without a record).
        reasons: model reason codes as text.
        band_reasons: why the band is what it is.
        rate_build_up: the price build-up.
        plan: the suggested repayment plan, if any.
        product_kind: term (one-off line) or revolving.
        record_json: the full decision record as canonical JSON ('' when none).
        build_up: the limit build-up the engine made (components, binding one, seasonal monthly
            limits); None for a referral and for a decision read back from the store.
    """

    band: Band
    annual_rate: Decimal
    limit: Money
    pd: Decimal | None
    engine: str
    decision_id: str = ""
    reasons: tuple[str, ...] = ()
    band_reasons: tuple[str, ...] = ()
    rate_build_up: RateBuildUp | None = None
    plan: SuggestedPlan | None = None
    product_kind: ProductKind = ProductKind.TERM
    record_json: str = ""
    build_up: LimitBuildUp | None = field(default=None, compare=False)

    @property
    def is_referral(self) -> bool:
        """The engine could not decide and handed the case to a person."""
        return self.pd is None

    @classmethod
    def from_record(cls, rec: DecisionRecord, product_kind: ProductKind) -> CreditDecision:
        """The workflow's view of an engine's decision record."""
        return cls(
            band=rec.band,
            annual_rate=rec.price.annual_rate,
            limit=rec.limit.limit,
            pd=rec.pd,
            engine=f"loom-decision {rec.policy_version} / {rec.model_version}",
            decision_id=rec.decision_id,
            reasons=tuple(f"{r.code}: {r.text_zh} / {r.text_en}" for r in rec.reason_codes),
            band_reasons=tuple(f"{r.text_zh} / {r.text_en}" for r in rec.band_reasons),
            rate_build_up=RateBuildUp(
                rec.price.lpr_1y, rec.price.spread, rec.price.all_in_rate, rec.price.bound
            ),
            plan=SuggestedPlan(rec.plan, rec.as_of),
            product_kind=product_kind,
            record_json=rec.to_json(),
            build_up=rec.limit,
        )

    @classmethod
    def referral(
        cls,
        *,
        code: str,
        text_zh: str,
        text_en: str,
        annual_rate: Decimal,
        rate_build_up: RateBuildUp | None,
        engine: str,
        currency: str,
        product_kind: ProductKind = ProductKind.TERM,
    ) -> CreditDecision:
        """A case for a person (转人工): review band, no limit (only an exception approval can
        lend), no PD, the reason in both languages."""
        return cls(
            band=Band.REVIEW,
            annual_rate=annual_rate,
            limit=Money.zero(currency),
            pd=None,
            engine=engine,
            reasons=(f"{code}: {text_zh} / {text_en}",),
            band_reasons=(f"{text_zh} / {text_en}",),
            rate_build_up=rate_build_up,
            product_kind=product_kind,
        )
