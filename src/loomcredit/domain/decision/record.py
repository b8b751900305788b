"""The decision record (审批决策记录) of DESIGN.md §4: all it takes to explain a decision later.

The record holds the application, the date, the policy and model versions, the feature values
used, every rule with its verdict, score, PD, reason codes, the price and limit build-ups, the
suggested schedule, the band, and (once a person acts) who reviewed it and when. It holds no
wall-clock time, so the same inputs give an identical record. :meth:`DecisionRecord.to_dict` is
JSON-safe: money as ``{"amount": "1234.56", "currency": "CNY"}``, rates and PD as decimal strings.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from fractions import Fraction

from loomcredit.domain.decision.bands import Band, BandReason
from loomcredit.domain.decision.limits import LimitBuildUp
from loomcredit.domain.decision.plan import PlanShape
from loomcredit.domain.decision.pricing import PriceBuildUp
from loomcredit.domain.decision.rules import RuleResult
from loomcredit.domain.money import Money


@dataclass(frozen=True, slots=True)
class Application:
    """What was asked: who, how much, how long, how to repay."""

    uscc: str
    amount: Money
    term_months: int
    method: str
    product_id: str
    person_requested: bool = False


@dataclass(frozen=True, slots=True)
class ReasonCode:
    """A model reason code (原因码): the feature, its code, texts and its push on the score."""

    feature: str
    code: str
    text_zh: str
    text_en: str
    impact: float


@dataclass(frozen=True, slots=True)
class ScheduleLine:
    """One line of the suggested schedule."""

    number: int
    due_on: date
    principal: Money
    interest: Money
    payment: Money
    balance_after: Money


@dataclass(frozen=True, slots=True)
class Suggestion:
    """What would change the outcome (for ``--explain``)."""

    code: str
    text_zh: str
    text_en: str
    value: str


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """A complete, self-explaining credit decision."""

    decision_id: str
    application: Application
    as_of: date
    policy_version: str
    model_version: str
    consent_scopes: tuple[str, ...]
    features: Mapping[str, object]
    rules: tuple[RuleResult, ...]
    score: float | None
    pd: Decimal
    reason_codes: tuple[ReasonCode, ...]
    price: PriceBuildUp
    limit: LimitBuildUp
    offer_amount: Money
    plan: PlanShape
    schedule: tuple[ScheduleLine, ...]
    band: Band
    band_reasons: tuple[BandReason, ...]
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    explanation: tuple[Suggestion, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """The record as JSON-safe plain data (stable key order)."""
        out = json_safe(self)
        if not isinstance(out, dict):  # pragma: no cover - a dataclass always gives a dict
            raise TypeError("record did not serialise to a mapping")
        return out

    def to_json(self) -> str:
        """Canonical JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)


def json_safe(value: object) -> object:
    """Convert a value to JSON-safe plain data (Money, Decimal, dates, enums, dataclasses)."""
    if isinstance(value, Money):
        return {"amount": value.amount_str(), "currency": value.currency}
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Decimal | Fraction):
        exact = (
            value if isinstance(value, Decimal) else Decimal(value.numerator) / value.denominator
        )
        return format(exact, "f")
    if isinstance(value, date | datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_safe(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [json_safe(v) for v in items]
    item = getattr(value, "item", None)  # numpy scalars arrive through feature stores
    if callable(item):
        return json_safe(item())
    return str(value)


def decision_id(
    application: Application, as_of: date, policy_version: str, model_version: str
) -> str:
    """A stable id from the inputs that define a decision (same inputs, same id)."""
    key = json.dumps(
        [json_safe(application), as_of.isoformat(), policy_version, model_version],
        sort_keys=True,
        ensure_ascii=False,
    )
    return "D" + hashlib.sha256(key.encode()).hexdigest()[:20]
