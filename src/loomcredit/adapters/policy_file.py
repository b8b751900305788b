"""Policy and LPR files → domain values: YAML validated with pydantic, LPR history from CSV.

``load_policy(path)`` reads a policy YAML (default: the Keqiao textile policy shipped in
``domain/decision/data``), validates every field and returns a :class:`Policy`; a bad file raises
:class:`PolicyViolation` with one line naming the field. ``load_lpr(path)`` reads the dated LPR
table.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from loomcredit.domain.alerts import AlertLevel, AlertPolicy
from loomcredit.domain.behaviour import BehaviourPolicy
from loomcredit.domain.decision.policy import (
    BandPolicy,
    LimitPolicy,
    Outcome,
    PlanPolicy,
    Policy,
    PricingPolicy,
    ProductKind,
    ProductPolicy,
    RuleSpec,
    SalesMultipleTier,
    ScreeningPolicy,
)
from loomcredit.domain.decision.pricing import LprQuote, LprTable
from loomcredit.domain.decision.rules import RULES
from loomcredit.domain.errors import PolicyViolation
from loomcredit.domain.follow_up import FollowUpPolicy
from loomcredit.domain.limit_review import LimitReviewPolicy
from loomcredit.domain.money import Money
from loomcredit.domain.warning_policy import WarningAction, WarningPolicy, WarningRuleSpec

DATA = resources.files("loomcredit.domain.decision") / "data"
PCT_PLACES = Decimal("0.0001")
Share = Annotated[Decimal, Field(ge=0, le=1)]
Amount = Annotated[Decimal, Field(ge=0, decimal_places=2)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_M = TypeVar("_M", bound=BaseModel)


class _Rule(_Strict):
    id: str
    outcome: Literal["decline", "refer"]
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    enabled: bool = True

    @field_validator("id")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in RULES:
            raise ValueError(f"unknown rule id {value!r}; known: {', '.join(RULES)}")
        return value


class _Screening(_Strict):
    rules: list[_Rule] = Field(min_length=1)
    required_consent_scopes: list[str] = ["bureau", "tax", "invoices"]
    min_firm_age_months: int = Field(24, ge=0)
    industry_allow_prefixes: list[str] = []
    industry_deny_prefixes: list[str] = []
    region_allow_prefixes: list[str] = []
    denied_tax_grades: list[Literal["A", "B", "M", "C", "D"]] = ["D"]
    max_bureau_dpd_24m: int = Field(30, ge=0)
    min_months_of_history: int = Field(12, ge=0)
    min_sales_12m: Amount = Decimal("500000")


class _Pricing(_Strict):
    lgd: Share
    funding_spread: Share
    operating_cost: Share
    capital_ratio: Share
    risk_weight: Annotated[Decimal, Field(ge=0, le=3)]
    cost_of_capital: Share
    margin: Share
    floor_spread: Share = Decimal(0)
    internal_ceiling: Share
    all_in_ceiling: Share = Decimal("0.24")
    upfront_fee_rate: Share = Decimal(0)
    annual_fee_rate: Share = Decimal(0)


class _Tier(_Strict):
    pd_max: Share
    multiple: Annotated[Decimal, Field(ge=0, le=5)]


class _Limits(_Strict):
    sales_multiple_tiers: list[_Tier] = Field(min_length=1)
    cash_margin: Share
    existing_debt_service_rate: Share
    min_dscr: Annotated[Decimal, Field(gt=0, le=10)]
    cluster_cap: Amount
    single_name_share: Share
    round_down_to: Annotated[Decimal, Field(gt=0, decimal_places=2)] = Decimal(1000)
    cluster_season_factors: list[Annotated[Decimal, Field(gt=0, le=3)]] = Field(
        min_length=12, max_length=12
    )
    min_history_for_own_profile: int = Field(24, ge=12)
    season_factor_floor: Annotated[Decimal, Field(gt=0)] = Decimal("0.5")
    season_factor_cap: Annotated[Decimal, Field(gt=0)] = Decimal("1.5")


class _Product(_Strict):
    id: str = Field(min_length=1)
    name_zh: str
    kind: Literal["term", "revolving"] = "term"
    min_amount: Amount
    cap: Amount
    terms_months: list[Annotated[int, Field(ge=1, le=360)]] = Field(min_length=1)
    methods: list[Literal["annuity", "equal_principal", "interest_only", "custom"]] = Field(
        min_length=1
    )


class _Plan(_Strict):
    seasonal_ratio: Annotated[Decimal, Field(ge=1)] = Decimal("1.3")
    repay_factor_min: Annotated[Decimal, Field(gt=0)] = Decimal("1.0")
    min_term_months: int = Field(6, ge=1)
    avoid_principal_months: list[Annotated[int, Field(ge=1, le=12)]] = [8]
    avoid_cny_window: bool = True


class _Bands(_Strict):
    auto_pd_max: Share
    decline_pd_min: Share
    auto_amount_max: Amount


class _PolicyFile(_Strict):
    version: str = Field(min_length=1)
    name: str
    screening: _Screening
    pricing: _Pricing
    limits: _Limits
    product: _Product
    plan: _Plan = _Plan()
    bands: _Bands


def _to_domain(doc: _PolicyFile) -> Policy:
    s, p, li, pr, b = doc.screening, doc.pricing, doc.limits, doc.product, doc.bands
    return Policy(
        version=doc.version,
        name=doc.name,
        screening=ScreeningPolicy(
            rules=tuple(RuleSpec(r.id, Outcome(r.outcome), r.zh, r.en, r.enabled) for r in s.rules),
            required_consent_scopes=tuple(s.required_consent_scopes),
            min_firm_age_months=s.min_firm_age_months,
            industry_allow_prefixes=tuple(x.upper() for x in s.industry_allow_prefixes),
            industry_deny_prefixes=tuple(x.upper() for x in s.industry_deny_prefixes),
            region_allow_prefixes=tuple(s.region_allow_prefixes),
            denied_tax_grades=tuple(s.denied_tax_grades),
            max_bureau_dpd_24m=s.max_bureau_dpd_24m,
            min_months_of_history=s.min_months_of_history,
            min_sales_12m=Money.parse(s.min_sales_12m),
        ),
        pricing=PricingPolicy(**p.model_dump()),
        limits=LimitPolicy(
            sales_multiple_tiers=tuple(
                SalesMultipleTier(t.pd_max, t.multiple) for t in li.sales_multiple_tiers
            ),
            cash_margin=li.cash_margin,
            existing_debt_service_rate=li.existing_debt_service_rate,
            min_dscr=li.min_dscr,
            cluster_cap=Money.parse(li.cluster_cap),
            single_name_share=li.single_name_share,
            round_down_to=Money.parse(li.round_down_to),
            cluster_season_factors=tuple(li.cluster_season_factors),
            min_history_for_own_profile=li.min_history_for_own_profile,
            season_factor_floor=li.season_factor_floor,
            season_factor_cap=li.season_factor_cap,
        ),
        product=ProductPolicy(
            product_id=pr.id,
            name_zh=pr.name_zh,
            kind=ProductKind(pr.kind),
            min_amount=Money.parse(pr.min_amount),
            cap=Money.parse(pr.cap),
            terms_months=tuple(pr.terms_months),
            methods=tuple(pr.methods),
        ),
        plan=PlanPolicy(
            **{
                **doc.plan.model_dump(),
                "avoid_principal_months": tuple(doc.plan.avoid_principal_months),
            }
        ),
        bands=BandPolicy(b.auto_pd_max, b.decline_pd_min, Money.parse(b.auto_amount_max)),
    )


def _validated(text: str, source: str, model: type[_M]) -> _M:
    """YAML text validated against ``model``; a :class:`PolicyViolation` naming the field."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyViolation(f"{source}: not valid YAML ({exc})") from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise PolicyViolation(f"{source}: field {where}: {first['msg']}{more}") from exc


def parse_policy(text: str, *, source: str = "<policy>") -> Policy:
    """Validate policy YAML text and build the domain :class:`Policy`.

    Raises:
        PolicyViolation: one line naming the file, the field and what is wrong.
    """
    doc = _validated(text, source, _PolicyFile)
    try:
        return _to_domain(doc)
    except PolicyViolation as exc:
        raise PolicyViolation(f"{source}: {exc}") from exc


def load_policy(path: Path | str | None = None) -> Policy:
    """Load a policy file, or a shipped policy by name (default: ``keqiao_textile``).

    Shipped policies: ``keqiao_textile`` (term loans) and ``keqiao_revolving`` (a revolving line
    with seasonal monthly limits).
    """
    name = "keqiao_textile" if path is None else str(path)
    shipped = DATA / f"{name}.yaml"
    if "/" not in name and not name.endswith((".yaml", ".yml")) and shipped.is_file():
        return parse_policy(shipped.read_text("utf-8"), source=f"{name}.yaml")
    file = Path(name)
    if not file.is_file():
        raise PolicyViolation(f"policy file {file} does not exist")
    return parse_policy(file.read_text("utf-8"), source=str(file))


class _WarningRule(_Strict):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,39}$")
    level: AlertLevel
    action: WarningAction
    enabled: bool = True


class _Escalation(_Strict):
    red: int = Field(ge=0, le=30)
    amber: int = Field(ge=0, le=60)
    watch: int = Field(ge=0, le=90)


class _LimitReview(_Strict):
    band: Annotated[Decimal, Field(ge=0, lt=1)] = Decimal("0.10")
    step: Annotated[Decimal, Field(gt=0, decimal_places=2)] = Decimal(1000)
    auto_raise_above_approved: bool = False


class _DpdOdds(_Strict):
    days: int = Field(ge=1, le=3650)
    odds: Annotated[Decimal, Field(ge=1, le=100)]


class _Behaviour(_Strict):
    dpd_odds: list[_DpdOdds] = Field(min_length=1)
    repeated_late_days: int = Field(ge=1, le=365)
    repeated_late_odds: Annotated[Decimal, Field(ge=1, le=100)]
    high_utilisation: Annotated[Decimal, Field(gt=0, le=1)]
    high_utilisation_odds: Annotated[Decimal, Field(ge=1, le=100)]
    jump_ratio: Annotated[Decimal, Field(gt=1, le=100)]
    jump_min: Annotated[Decimal, Field(gt=0, lt=1)]


class _LevelDays(_Strict):
    red: int = Field(ge=0, le=90)
    amber: int = Field(ge=0, le=90)
    watch: int = Field(ge=0, le=90)


class _FollowUp(_Strict):
    visit_days: _LevelDays
    documents_days: _LevelDays
    documents: list[str] = Field(min_length=1)


class _WarningFile(_Strict):
    version: str = Field(min_length=1, max_length=60)
    escalation: _Escalation
    rules: list[_WarningRule] = Field(min_length=1)
    limit_review: _LimitReview = Field(default_factory=_LimitReview)
    behaviour: _Behaviour | None = None
    follow_up: _FollowUp | None = None


def parse_warning_policy(text: str, *, source: str = "<warning policy>") -> WarningPolicy:
    """Validate warning-policy YAML text and build the domain :class:`WarningPolicy`."""
    doc = _validated(text, source, _WarningFile)
    codes = [r.code for r in doc.rules]
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise PolicyViolation(f"{source}: rule {', '.join(twice)} given more than once")
    esc = doc.escalation
    return WarningPolicy(
        version=doc.version,
        rules={r.code: WarningRuleSpec(r.code, r.level, r.action, r.enabled) for r in doc.rules},
        escalation=AlertPolicy(
            doc.version,
            timedelta(days=esc.red),
            timedelta(days=esc.amber),
            timedelta(days=esc.watch),
        ),
        limit_review=LimitReviewPolicy(
            band=doc.limit_review.band,
            step=Money.parse(str(doc.limit_review.step)),
            auto_raise_above_approved=doc.limit_review.auto_raise_above_approved,
        ),
        behaviour=_behaviour(doc.behaviour),
        follow_up=_follow_up(doc.follow_up),
    )


def _follow_up(f: _FollowUp | None) -> FollowUpPolicy:
    if f is None:
        return FollowUpPolicy()

    def days(d: _LevelDays) -> dict[AlertLevel, int]:
        return {AlertLevel.RED: d.red, AlertLevel.AMBER: d.amber, AlertLevel.WATCH: d.watch}

    return FollowUpPolicy(days(f.visit_days), days(f.documents_days), tuple(f.documents))


def _behaviour(b: _Behaviour | None) -> BehaviourPolicy:
    if b is None:
        return BehaviourPolicy()
    return BehaviourPolicy(
        dpd_odds=tuple((d.days, d.odds) for d in b.dpd_odds),
        repeated_late_days=b.repeated_late_days,
        repeated_late_odds=b.repeated_late_odds,
        high_utilisation=b.high_utilisation,
        high_utilisation_odds=b.high_utilisation_odds,
        jump_ratio=b.jump_ratio,
        jump_min=b.jump_min,
    )


def load_warning_policy(path: Path | str | None = None) -> WarningPolicy:
    """Load a warning-policy file (default: the shipped ``keqiao_warning_rules.yaml``)."""
    if path is None:
        shipped = DATA / "keqiao_warning_rules.yaml"
        return parse_warning_policy(shipped.read_text("utf-8"), source=shipped.name)
    file = Path(path)
    if not file.is_file():
        raise PolicyViolation(f"warning policy file {file} does not exist")
    return parse_warning_policy(file.read_text("utf-8"), source=str(file))


def load_lpr(path: Path | str | None = None) -> LprTable:
    """Load the dated LPR table (``effective_on,one_year_pct,five_year_pct``; ``#`` comments)."""
    text = (DATA / "lpr.csv").read_text("utf-8") if path is None else Path(path).read_text("utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    quotes = []
    for row in csv.DictReader(lines):
        try:
            quotes.append(
                LprQuote(
                    date.fromisoformat(row["effective_on"]),
                    (Decimal(row["one_year_pct"]) / 100).quantize(PCT_PLACES),
                    (Decimal(row["five_year_pct"]) / 100).quantize(PCT_PLACES),
                )
            )
        except (KeyError, ValueError, ArithmeticError) as exc:
            raise PolicyViolation(f"LPR table: bad row {row!r} ({exc})") from exc
    if not quotes:
        raise PolicyViolation("LPR table is empty")
    return LprTable(tuple(quotes))
