"""Typed credit policy values (授信政策): screening, pricing, limits, plan and bands.

A :class:`Policy` is plain data: the adapter ``adapters/policy_file.py`` builds it from a versioned
YAML file and validates it; the decision functions in this package only read it. Rates and shares
are exact ``Decimal`` fractions (``Decimal("0.45")`` is 45 %); amounts are :class:`Money`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from loomcredit.domain.errors import PolicyViolation
from loomcredit.domain.money import Money


class Outcome(StrEnum):
    """What a failed screening rule does to the application."""

    DECLINE = "decline"  # 拒绝
    REFER = "refer"  # 转人工


class ProductKind(StrEnum):
    """A term loan (流动资金贷款) or a revolving line (随借随还循环额度)."""

    TERM = "term"
    REVOLVING = "revolving"


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One screening rule as the policy states it: id, outcome on failure, reason texts."""

    rule_id: str
    outcome: Outcome
    reason_zh: str
    reason_en: str
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class ScreeningPolicy:
    """Thresholds the screening rules read (DOMAIN.md §1, §5, §12)."""

    rules: tuple[RuleSpec, ...]
    required_consent_scopes: tuple[str, ...] = ("bureau", "tax", "invoices")
    min_firm_age_months: int = 24
    industry_allow_prefixes: tuple[str, ...] = ()
    industry_deny_prefixes: tuple[str, ...] = ()
    region_allow_prefixes: tuple[str, ...] = ()
    denied_tax_grades: tuple[str, ...] = ("D",)
    max_bureau_dpd_24m: int = 30
    min_months_of_history: int = 12
    min_sales_12m: Money = field(default_factory=lambda: Money.parse("500000"))

    def spec(self, rule_id: str) -> RuleSpec:
        """The spec of one rule by id."""
        for rule in self.rules:
            if rule.rule_id == rule_id:
                return rule
        raise PolicyViolation(f"the policy has no screening rule {rule_id!r}")


@dataclass(frozen=True, slots=True)
class PricingPolicy:
    """Risk-based pricing: LPR(1Y) + spread built from EL, funding, cost, capital and margin."""

    lgd: Decimal = Decimal("0.45")
    funding_spread: Decimal = Decimal("0.0030")
    operating_cost: Decimal = Decimal("0.0050")
    capital_ratio: Decimal = Decimal("0.08")
    risk_weight: Decimal = Decimal("0.75")
    cost_of_capital: Decimal = Decimal("0.10")
    margin: Decimal = Decimal("0.0030")
    floor_spread: Decimal = Decimal("0")
    internal_ceiling: Decimal = Decimal("0.12")
    all_in_ceiling: Decimal = Decimal("0.24")
    upfront_fee_rate: Decimal = Decimal("0")
    annual_fee_rate: Decimal = Decimal("0")

    @property
    def capital_charge(self) -> Decimal:
        """Capital charge = capital ratio × risk weight × cost of capital."""
        return self.capital_ratio * self.risk_weight * self.cost_of_capital


@dataclass(frozen=True, slots=True)
class SalesMultipleTier:
    """Up to ``pd_max`` the limit may reach ``multiple`` × trailing 12-month sales."""

    pd_max: Decimal
    multiple: Decimal


@dataclass(frozen=True, slots=True)
class LimitPolicy:
    """Limit build-up: product cap, sales multiple by PD tier, DSCR capacity, concentration."""

    sales_multiple_tiers: tuple[SalesMultipleTier, ...]
    cash_margin: Decimal = Decimal("0.12")
    existing_debt_service_rate: Decimal = Decimal("0.10")
    min_dscr: Decimal = Decimal("1.25")
    cluster_cap: Money = field(default_factory=lambda: Money.parse("2000000000"))
    single_name_share: Decimal = Decimal("0.005")
    round_down_to: Money = field(default_factory=lambda: Money.parse("1000"))
    cluster_season_factors: tuple[Decimal, ...] = (
        Decimal("0.7"),
        Decimal("0.7"),
        Decimal("1.0"),
        Decimal("1.0"),
        Decimal("1.0"),
        Decimal("1.1"),
        Decimal("0.9"),
        Decimal("0.9"),
        Decimal("1.2"),
        Decimal("1.2"),
        Decimal("1.0"),
        Decimal("0.8"),
    )
    min_history_for_own_profile: int = 24
    season_factor_floor: Decimal = Decimal("0.5")
    season_factor_cap: Decimal = Decimal("1.5")

    def multiple_for(self, pd: Decimal) -> SalesMultipleTier | None:
        """The first tier whose ``pd_max`` covers ``pd`` (tiers sorted by ``pd_max``)."""
        for tier in self.sales_multiple_tiers:
            if pd <= tier.pd_max:
                return tier
        return None


@dataclass(frozen=True, slots=True)
class ProductPolicy:
    """The loan product offered: kind, amounts, terms and repayment methods."""

    product_id: str
    name_zh: str
    kind: ProductKind = ProductKind.TERM
    min_amount: Money = field(default_factory=lambda: Money.parse("10000"))
    cap: Money = field(default_factory=lambda: Money.parse("3000000"))
    terms_months: tuple[int, ...] = (3, 6, 12, 24, 36)
    methods: tuple[str, ...] = ("annuity", "equal_principal", "interest_only", "custom")


@dataclass(frozen=True, slots=True)
class PlanPolicy:
    """When and how to suggest a seasonal repayment plan (DOMAIN.md §7, §11)."""

    seasonal_ratio: Decimal = Decimal("1.3")
    repay_factor_min: Decimal = Decimal("1.0")
    min_term_months: int = 6
    avoid_principal_months: tuple[int, ...] = (8,)
    avoid_cny_window: bool = True


@dataclass(frozen=True, slots=True)
class BandPolicy:
    """Band thresholds: auto-approve up to ``auto_pd_max`` and ``auto_amount_max``.

    Decline from ``decline_pd_min``.
    """

    auto_pd_max: Decimal = Decimal("0.02")
    decline_pd_min: Decimal = Decimal("0.10")
    auto_amount_max: Money = field(default_factory=lambda: Money.parse("1000000"))


@dataclass(frozen=True, slots=True)
class Policy:
    """A whole versioned credit policy."""

    version: str
    name: str
    screening: ScreeningPolicy
    pricing: PricingPolicy
    limits: LimitPolicy
    product: ProductPolicy
    plan: PlanPolicy = field(default_factory=PlanPolicy)
    bands: BandPolicy = field(default_factory=BandPolicy)

    def __post_init__(self) -> None:
        check_policy(self)


def check_policy(policy: Policy) -> None:
    """Raise :class:`PolicyViolation` when the policy contradicts itself."""
    pricing, bands, limits = policy.pricing, policy.bands, policy.limits
    if not Decimal(0) <= pricing.lgd <= Decimal(1):
        raise PolicyViolation("pricing.lgd must be within 0..1")
    if pricing.internal_ceiling > pricing.all_in_ceiling:
        raise PolicyViolation("pricing.internal_ceiling must not exceed pricing.all_in_ceiling")
    if bands.auto_pd_max >= bands.decline_pd_min:
        raise PolicyViolation("bands.auto_pd_max must be below bands.decline_pd_min")
    if len(limits.cluster_season_factors) != 12:
        raise PolicyViolation("limits.cluster_season_factors needs 12 monthly factors")
    pds = [t.pd_max for t in limits.sales_multiple_tiers]
    if not pds or pds != sorted(pds):
        raise PolicyViolation("limits.sales_multiple_tiers must be non-empty and sorted by pd_max")
    if policy.product.min_amount > policy.product.cap:
        raise PolicyViolation("product.min_amount must not exceed product.cap")
    if limits.min_dscr <= 0:
        raise PolicyViolation("limits.min_dscr must be positive")
