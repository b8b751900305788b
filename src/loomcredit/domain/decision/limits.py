"""Credit limit (授信额度): the smallest of the amount asked, the product cap, a multiple of
trailing 12-month sales by PD tier, debt-service capacity and the cluster concentration cap.

Debt-service capacity: the annual cash flow available for debt service (trailing sales × cash
margin, less a service charge on the debt already reported to the bureau) divided by the minimum
DSCR, turned into principal through the proposed schedule's annual debt service per yuan.
For revolving lines the limit of each calendar month is the base limit × the firm's seasonal
factor (its own profile from 24+ months of history, else the cluster's; DOMAIN.md §11).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction
from typing import Protocol

from loomcredit.domain.decision.policy import LimitPolicy, ProductKind, ProductPolicy
from loomcredit.domain.decision.rules import feature_number
from loomcredit.domain.money import Money


class _Line(Protocol):
    @property
    def payment(self) -> Money: ...


class ScheduleLike(Protocol):
    """What the limit needs from a schedule: its lines' payments."""

    @property
    def installments(self) -> Sequence[_Line]: ...


@dataclass(frozen=True, slots=True)
class LimitComponent:
    """One candidate limit with how it was derived."""

    name: str
    amount: Money
    basis: str


@dataclass(frozen=True, slots=True)
class LimitBuildUp:
    """Every candidate, the binding one, the limit, and monthly limits for revolving lines."""

    components: tuple[LimitComponent, ...]
    binding: str
    limit: Money
    season_source: str
    season_factors: tuple[Decimal, ...]
    monthly_limits: tuple[Money, ...]
    cash_flow_annual: Money
    dscr_debt_service_per_yuan: Decimal

    def component(self, name: str) -> LimitComponent:
        """One component by name."""
        return next(c for c in self.components if c.name == name)


def round_down(amount: Money, step: Money) -> Money:
    """Round down to a multiple of ``step`` (never below zero)."""
    if amount.minor <= 0:
        return Money.zero(amount.currency)
    return Money(amount.minor - amount.minor % step.minor, amount.currency)


def season_factors(
    features: Mapping[str, object], policy: LimitPolicy
) -> tuple[str, tuple[Decimal, ...]]:
    """The firm's own month-of-year factors if it has the history, else the cluster's.

    Returns:
        ``("own" | "cluster", twelve factors)``, each clipped to the policy's floor and cap.
    """
    history = feature_number(features, "months_of_history") or 0.0
    own = [feature_number(features, f"season_factor_{m:02d}") for m in range(1, 13)]
    if history >= policy.min_history_for_own_profile and all(f is not None for f in own):
        raw = tuple(Decimal(repr(f)).quantize(Decimal("0.01")) for f in own if f is not None)
        source = "own"
    else:
        raw, source = policy.cluster_season_factors, "cluster"
    lo, hi = policy.season_factor_floor, policy.season_factor_cap
    return source, tuple(min(max(f, lo), hi) for f in raw)


def annual_debt_service(schedule: ScheduleLike, term_months: int) -> Money:
    """Average payments per year of the schedule (total × 12 / term, rounded up to the fen)."""
    total = sum((line.payment.minor for line in schedule.installments), 0)
    return Money(-((-total * 12) // term_months))


def _fen(value: Fraction | Decimal) -> Money:
    exact = Fraction(value)
    return Money(exact.numerator // exact.denominator)


def _capacity(
    features: Mapping[str, object],
    policy: LimitPolicy,
    asked: Money,
    schedule: ScheduleLike,
    term_months: int,
) -> tuple[Money, Money, Decimal]:
    sales = feature_number(features, "sales_12m_fen") or 0.0
    debt = feature_number(features, "bureau_loans_outstanding_fen") or 0.0
    cash = Fraction(int(sales)) * Fraction(policy.cash_margin)
    cash -= Fraction(int(debt)) * Fraction(policy.existing_debt_service_rate)
    cash_money = _fen(max(cash, Fraction(0)))
    service = annual_debt_service(schedule, term_months)
    per_yuan = Fraction(service.minor, asked.minor) if asked.minor else Fraction(1)
    per_yuan_dec = (Decimal(per_yuan.numerator) / Decimal(per_yuan.denominator)).quantize(
        Decimal("0.000001"), rounding=ROUND_FLOOR
    )
    if cash <= 0 or per_yuan <= 0:
        return Money.zero(), cash_money, per_yuan_dec
    capacity = cash / Fraction(policy.min_dscr) / per_yuan
    return _fen(capacity), cash_money, per_yuan_dec


def credit_limit(
    features: Mapping[str, object],
    *,
    pd: Decimal,
    asked: Money,
    schedule_for_asked: ScheduleLike,
    term_months: int,
    product: ProductPolicy,
    policy: LimitPolicy,
    cluster_exposure: Money,
) -> LimitBuildUp:
    """Build the limit.

    Args:
        features: the firm's feature vector (sales, bureau debt, seasonal factors).
        pd: the model's PD, which picks the sales-multiple tier.
        asked: the amount asked for.
        schedule_for_asked: the proposed schedule for ``asked`` at the offered rate.
        term_months: the term of that schedule.
        product: the product (cap, kind).
        policy: the limit policy.
        cluster_exposure: what the cluster already owes (for the concentration cap).

    Returns:
        The limit build-up; ``limit`` is the smallest component rounded down to the policy step.
    """
    sales = int(feature_number(features, "sales_12m_fen") or 0)
    tier = policy.multiple_for(pd)
    multiple = tier.multiple if tier else Decimal(0)
    by_sales = _fen(Fraction(sales) * Fraction(multiple))
    capacity, cash, per_yuan = _capacity(features, policy, asked, schedule_for_asked, term_months)
    room = policy.cluster_cap - cluster_exposure
    single = _fen(Fraction(policy.cluster_cap.minor) * Fraction(policy.single_name_share))
    concentration = max(min(room, single), Money.zero())
    tier_text = f"PD ≤ {tier.pd_max}" if tier else "PD above every tier"
    components = (
        LimitComponent("asked", asked, "amount asked 申请金额"),
        LimitComponent("product_cap", product.cap, f"product {product.product_id} cap 产品上限"),
        LimitComponent("sales_multiple", by_sales, f"{multiple} × 12m sales ({tier_text})"),
        LimitComponent(
            "dscr_capacity",
            capacity,
            f"cash flow {cash.amount_str()} / DSCR {policy.min_dscr} / debt service {per_yuan}",
        ),
        LimitComponent(
            "concentration", concentration, f"min(cluster room, {policy.single_name_share} × cap)"
        ),
    )
    # On a tie the binding constraint is the policy's, not the ask (a re-decided offer equals it).
    binding = min(components, key=lambda c: (c.amount.minor, c.name == "asked"))
    limit = round_down(binding.amount, policy.round_down_to)
    source, factors = season_factors(features, policy)
    monthly: tuple[Money, ...] = ()
    if product.kind is ProductKind.REVOLVING:
        monthly = tuple(
            round_down(
                min(_fen(Fraction(limit.minor) * Fraction(f)), product.cap), policy.round_down_to
            )
            for f in factors
        )
    return LimitBuildUp(
        components=components,
        binding=binding.name,
        limit=limit,
        season_source=source,
        season_factors=factors,
        monthly_limits=monthly,
        cash_flow_annual=cash,
        dscr_debt_service_per_yuan=per_yuan,
    )
