"""Use case: decide on a credit application (授信审批决策), one at a time or for a whole cluster.

``make_decision`` screens, scores, prices, sizes the limit, suggests a repayment plan and assigns
the band, returning a :class:`DecisionRecord` that explains itself. The same inputs give the same
record. ``explain_decision`` re-runs the pure steps on nearby amounts and terms to say what would
change the outcome. ``decide_all`` makes pre-approved offers (白名单) for every enterprise given.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from loomcredit.domain.behaviour import exact_pd
from loomcredit.domain.decision.bands import Band, BandInputs, assign_band
from loomcredit.domain.decision.limits import credit_limit, season_factors
from loomcredit.domain.decision.outcome import CreditDecision, RateBuildUp
from loomcredit.domain.decision.plan import PlanShape, build_plan, plan_shape
from loomcredit.domain.decision.policy import Policy, ProductKind
from loomcredit.domain.decision.pricing import LprTable, average_balance_share, price
from loomcredit.domain.decision.record import (
    Application,
    DecisionRecord,
    ReasonCode,
    ScheduleLine,
    Suggestion,
    decision_id,
)
from loomcredit.domain.decision.rules import Applicant, Status, screen
from loomcredit.domain.errors import LoomError, NotFound
from loomcredit.domain.money import Money
from loomcredit.domain.schedule import Schedule
from loomcredit.service_layer.ports import ConsentSource, FeatureSource, ScoreLike, Scorer

log = logging.getLogger(__name__)


class InvalidApplicationError(LoomError, ValueError):
    """An application the product cannot take (amount, term or method outside the product)."""


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    """A credit application as the decision engine sees it."""

    uscc: str
    amount: Money
    term_months: int = 12
    method: str = "annuity"
    person_requested: bool = False
    cluster_exposure: Money = field(default_factory=Money.zero)


@dataclass(frozen=True, slots=True)
class _Inputs:
    """What the external ports gave: kept so re-runs (explain, offers) need no second lookup."""

    features: Mapping[str, object]
    scopes: frozenset[str]
    score: ScoreLike
    model_version: str


def _validate(request: DecisionRequest, policy: Policy) -> None:
    product = policy.product
    if not request.amount.is_positive():
        raise InvalidApplicationError(f"amount must be positive, not {request.amount.amount_str()}")
    if request.term_months not in product.terms_months:
        raise InvalidApplicationError(
            f"term {request.term_months} months is not offered; "
            f"choose one of {product.terms_months}"
        )
    if request.method not in product.methods:
        raise InvalidApplicationError(
            f"method {request.method!r} is not offered; choose one of {', '.join(product.methods)}"
        )


def _gather(
    request: DecisionRequest,
    *,
    features: FeatureSource,
    scorer: Scorer,
    consents: ConsentSource,
    as_of: date,
) -> _Inputs:
    try:
        vector = dict(features.get(request.uscc, as_of))
    except NotFound:
        log.info("no features for %s as of %s", request.uscc, as_of)
        vector = {}
    scopes = frozenset(consents.scopes_on(request.uscc, as_of))
    return _Inputs(vector, scopes, scorer.score_one(vector), scorer.version)


def _pd(score: ScoreLike) -> Decimal:
    return exact_pd(score.pd)


def _lines(
    shape: PlanShape,
    amount: Money,
    rate: Decimal,
    term: int,
    as_of: date,
    built: Schedule,
) -> tuple[ScheduleLine, ...]:
    if not amount.is_positive():
        return ()
    asked = sum(i.principal.minor for i in built.installments)
    schedule = built if asked == amount.minor else build_plan(shape, amount, rate, term, as_of)
    return tuple(
        ScheduleLine(i.number, i.due_on, i.principal, i.interest, i.payment, i.balance_after)
        for i in schedule.installments
    )


def _decide(
    request: DecisionRequest, inputs: _Inputs, policy: Policy, lpr: LprTable, as_of: date
) -> DecisionRecord:
    _validate(request, policy)
    term = request.term_months
    rules = screen(Applicant(request.uscc, inputs.scopes, inputs.features), policy.screening)
    pd = _pd(inputs.score)
    _, factors = season_factors(inputs.features, policy.limits)
    if policy.product.kind is ProductKind.REVOLVING:
        shape = PlanShape(
            request.method,
            (),
            False,
            "循环额度：按月季节额度随借随还",
            "revolving line: seasonal monthly limits instead of a plan",
        )
    else:
        shape = plan_shape(request.method, term, as_of, factors, policy.plan)
    asked_shape = PlanShape(
        request.method if request.method != "custom" else "annuity", (), False, "", ""
    )
    share = min(
        average_balance_share(shape.principal_shares(term)),
        average_balance_share(asked_shape.principal_shares(term)),
    )
    priced = price(pd, lpr, policy.pricing, on=as_of, term_months=term, balance_share=share)
    proposed = build_plan(shape, request.amount, priced.annual_rate, term, as_of)
    limit = credit_limit(
        inputs.features,
        pd=pd,
        asked=request.amount,
        schedule_for_asked=proposed,
        term_months=term,
        product=policy.product,
        policy=policy.limits,
        cluster_exposure=request.cluster_exposure,
    )
    offer = min(request.amount, limit.limit)
    band, reasons = assign_band(
        BandInputs(
            rules,
            pd,
            request.amount,
            limit.limit,
            policy.product.min_amount,
            priced.feasible,
            request.person_requested,
        ),
        policy.bands,
    )
    if band is Band.DECLINE:
        offer = Money.zero()
    application = Application(
        request.uscc,
        request.amount,
        term,
        request.method,
        policy.product.product_id,
        request.person_requested,
    )
    return DecisionRecord(
        decision_id=decision_id(application, as_of, policy.version, inputs.model_version),
        application=application,
        as_of=as_of,
        policy_version=policy.version,
        model_version=inputs.model_version,
        consent_scopes=tuple(sorted(inputs.scopes)),
        features=dict(sorted(inputs.features.items())),
        rules=rules,
        score=float(inputs.score.score),
        pd=pd,
        reason_codes=tuple(
            ReasonCode(r.feature, r.code, r.text_zh, r.text_en, float(r.impact))
            for r in inputs.score.reasons
        ),
        price=priced,
        limit=limit,
        offer_amount=offer,
        plan=shape,
        schedule=_lines(shape, offer, priced.annual_rate, term, as_of, proposed)
        if priced.feasible
        else (),
        band=band,
        band_reasons=reasons,
    )


def make_decision(
    request: DecisionRequest,
    *,
    policy: Policy,
    features: FeatureSource,
    scorer: Scorer,
    lpr: LprTable,
    consents: ConsentSource,
    as_of: date,
    explain: bool = False,
) -> DecisionRecord:
    """Decide on one application.

    Args:
        request: the application.
        policy: the credit policy in force.
        features: point-in-time feature source.
        scorer: the PD model.
        lpr: the dated LPR table.
        consents: the consent registry.
        as_of: the decision date (features, LPR and consents as of this date).
        explain: add what would change the outcome.

    Returns:
        The decision record.

    Raises:
        InvalidApplicationError: amount, term or method outside the product.
    """
    inputs = _gather(request, features=features, scorer=scorer, consents=consents, as_of=as_of)
    record = _decide(request, inputs, policy, lpr, as_of)
    if explain:
        record = replace(record, explanation=_explain(record, request, inputs, policy, lpr, as_of))
    return record


def _max_auto_amount(
    request: DecisionRequest, inputs: _Inputs, policy: Policy, lpr: LprTable, as_of: date
) -> Money | None:
    step = policy.limits.round_down_to.minor
    lo, hi = policy.product.min_amount.minor // step, request.amount.minor // step
    best = None
    while lo <= hi:
        mid = (lo + hi) // 2
        trial = replace(request, amount=Money(mid * step), person_requested=False)
        if _decide(trial, inputs, policy, lpr, as_of).band is Band.AUTO_APPROVE:
            best, lo = Money(mid * step), mid + 1
        else:
            hi = mid - 1
    return best


def _explain(
    record: DecisionRecord,
    request: DecisionRequest,
    inputs: _Inputs,
    policy: Policy,
    lpr: LprTable,
    as_of: date,
) -> tuple[Suggestion, ...]:
    if record.band is Band.AUTO_APPROVE:
        return (Suggestion("auto", "已自动通过", "already auto-approved", ""),)
    out = [
        Suggestion(
            f"rule:{r.rule_id}",
            f"{r.reason_zh}：当前 {r.observed}，要求 {r.threshold}",
            f"{r.reason_en}: now {r.observed}, needs {r.threshold}",
            r.threshold,
        )
        for r in record.rules
        if r.status is not Status.PASS
    ]
    if record.pd > policy.bands.auto_pd_max:
        out.append(
            Suggestion(
                "pd",
                f"违约概率需 ≤ {policy.bands.auto_pd_max}（当前 {record.pd}）",
                f"PD must be ≤ {policy.bands.auto_pd_max} (now {record.pd})",
                str(policy.bands.auto_pd_max),
            )
        )
    amount = _max_auto_amount(request, inputs, policy, lpr, as_of)
    if amount is not None:
        out.append(
            Suggestion(
                "amount",
                f"申请金额不超过 {amount.format()} 时可自动通过",
                f"auto-approved for an amount up to {amount.format()}",
                amount.amount_str(),
            )
        )
    for term in sorted(policy.product.terms_months):
        if term == request.term_months:
            continue
        trial = replace(request, term_months=term, person_requested=False)
        if _decide(trial, inputs, policy, lpr, as_of).band is Band.AUTO_APPROVE:
            out.append(
                Suggestion(
                    "term",
                    f"期限改为 {term} 个月可自动通过",
                    f"auto-approved with a {term}-month term",
                    str(term),
                )
            )
            break
    if request.person_requested:
        out.append(
            Suggestion("person", "申请人已要求人工审批", "the applicant asked for a person", "")
        )
    if len(out) == 0:
        out.append(
            Suggestion(
                "none",
                "无可自动通过的调整，需人工审批",
                "no change of amount or term makes it automatic",
                "",
            )
        )
    return tuple(out)


def decide_all(
    usccs: Iterable[str],
    *,
    policy: Policy,
    features: FeatureSource,
    scorer: Scorer,
    lpr: LprTable,
    consents: ConsentSource,
    as_of: date,
    amount: Money | None = None,
    term_months: int = 12,
    method: str = "annuity",
    on_progress: Callable[[int], None] | None = None,
) -> Iterator[DecisionRecord]:
    """Pre-approved offers (白名单) for each enterprise: decide at ``amount``, then at the limit.

    Args:
        usccs: enterprises to decide for.
        policy: the credit policy.
        features: feature source.
        scorer: PD model.
        lpr: LPR table.
        consents: consent registry.
        as_of: decision date.
        amount: amount to test (default: the smaller of the product cap and the auto limit).
        term_months: term of the offer.
        method: repayment method of the offer.
        on_progress: called with the count decided so far after each enterprise.

    Yields:
        One decision record per enterprise; when the limit is below ``amount`` the record is
        re-decided at the limit, so it is the offer the enterprise would get.
    """
    ask = amount or min(policy.product.cap, policy.bands.auto_amount_max)
    for count, uscc in enumerate(usccs, start=1):
        request = DecisionRequest(uscc, ask, term_months, method)
        inputs = _gather(request, features=features, scorer=scorer, consents=consents, as_of=as_of)
        record = _decide(request, inputs, policy, lpr, as_of)
        offer = record.limit.limit
        if record.band is not Band.DECLINE and policy.product.min_amount <= offer < ask:
            record = _decide(replace(request, amount=offer), inputs, policy, lpr, as_of)
        if on_progress is not None:
            on_progress(count)
        yield record


@dataclass(frozen=True, slots=True)
class _Fixed:
    """A feature source that hands back one vector already fetched."""

    vector: Mapping[str, object]

    def get(self, uscc: str, as_of: date) -> Mapping[str, object]:
        return self.vector


NO_MODEL = ("NO_MODEL", "无已上线的评分模型，转人工审批", "no promoted model: a person decides")
NO_FEATURES = (
    "NO_FEATURES",
    "决策日无该企业的画像数据，转人工审批",
    "no features for the borrower on the decision date: a person decides",
)


@dataclass
class EngineDecider:
    """The decider the lending workflow asks (the port ``Decider``), failing closed.

    With a promoted model and the borrower's features on the date it runs :func:`make_decision`
    (with the explanation). With no model, or no features for the borrower on the date, it never
    approves: the application goes to a person with that reason, priced as the riskiest borrower
    the policy still lends to, with no limit (so only a risk manager's exception can lend).
    """

    policy: Policy
    lpr: LprTable
    features: FeatureSource
    consents: ConsentSource
    scorer: Scorer | None = None

    def decide(self, request: DecisionRequest, as_of: date) -> CreditDecision:
        """Decide one application as of ``as_of``."""
        _validate(request, self.policy)
        if self.scorer is None:
            return self._referral(request, as_of, NO_MODEL)
        try:
            vector = dict(self.features.get(request.uscc, as_of))
        except NotFound:
            vector = {}
        if not vector:
            return self._referral(request, as_of, NO_FEATURES)
        record = make_decision(
            request,
            policy=self.policy,
            features=_Fixed(vector),
            scorer=self.scorer,
            lpr=self.lpr,
            consents=self.consents,
            as_of=as_of,
            explain=True,
        )
        return CreditDecision.from_record(record, self.policy.product.kind)

    def _referral(
        self, request: DecisionRequest, as_of: date, why: tuple[str, str, str]
    ) -> CreditDecision:
        code, text_zh, text_en = why
        asked = PlanShape(
            request.method if request.method != "custom" else "annuity", (), False, "", ""
        )
        share = average_balance_share(asked.principal_shares(request.term_months))
        priced = price(
            self.policy.bands.decline_pd_min,
            self.lpr,
            self.policy.pricing,
            on=as_of,
            term_months=request.term_months,
            balance_share=share,
        )
        log.info("referral %s for %s as of %s", code, request.uscc, as_of)
        return CreditDecision.referral(
            code=code,
            text_zh=text_zh,
            text_en=text_en,
            annual_rate=priced.annual_rate,
            rate_build_up=RateBuildUp(
                priced.lpr_1y, priced.spread, priced.all_in_rate, priced.bound
            ),
            engine=f"loom-decision {self.policy.version} / referral",
            currency=request.amount.currency,
            product_kind=self.policy.product.kind,
        )


@dataclass
class DecisionService:
    """The decision use cases with their ports bound."""

    policy: Policy
    lpr: LprTable
    features: FeatureSource
    scorer: Scorer
    consents: ConsentSource

    def decide(
        self, request: DecisionRequest, as_of: date, *, explain: bool = False
    ) -> DecisionRecord:
        """Decide on one application."""
        return make_decision(
            request,
            policy=self.policy,
            features=self.features,
            scorer=self.scorer,
            lpr=self.lpr,
            consents=self.consents,
            as_of=as_of,
            explain=explain,
        )

    def decide_all(
        self,
        usccs: Sequence[str],
        as_of: date,
        *,
        amount: Money | None = None,
        term_months: int = 12,
        method: str = "annuity",
        on_progress: Callable[[int], None] | None = None,
    ) -> Iterator[DecisionRecord]:
        """Pre-approved offers for every enterprise given."""
        return decide_all(
            usccs,
            policy=self.policy,
            features=self.features,
            scorer=self.scorer,
            lpr=self.lpr,
            consents=self.consents,
            as_of=as_of,
            amount=amount,
            term_months=term_months,
            method=method,
            on_progress=on_progress,
        )
