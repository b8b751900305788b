"""The decision as ``applications.decision_json`` keeps it, in the layout older rows have.

Keys: ``band``, ``annual_rate`` (text), ``limit`` (fen), ``pd`` (text or null), ``reasons``,
``band_reasons``, ``rate_build_up`` {``lpr_1y``, ``spread``, ``all_in_rate``, ``bound``},
``decision_id``, ``engine``, ``record`` (the whole decision record, for display; its ``plan`` and
``as_of`` give the suggested plan), and since 0006 ``product_kind`` (``term`` when missing) and
``plan`` (the suggested plan with the date it was suggested for, when the decision has one).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from loomcredit.domain.decision.bands import Band
from loomcredit.domain.decision.outcome import CreditDecision, RateBuildUp, SuggestedPlan
from loomcredit.domain.decision.plan import PlanShape
from loomcredit.domain.decision.policy import ProductKind
from loomcredit.domain.money import Money


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal(value: object) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


def canonical(record: object) -> str:
    """The canonical JSON text of a decision record (as ``DecisionRecord.to_json`` writes it)."""
    return json.dumps(record, ensure_ascii=False, sort_keys=True)


def dump(decision: CreditDecision) -> str:
    """The JSON text to store."""
    doc: dict[str, Any] = {
        "band": decision.band.value,
        "annual_rate": str(decision.annual_rate),
        "limit": decision.limit.minor,
        "pd": _text(decision.pd),
        "reasons": list(decision.reasons),
        "band_reasons": list(decision.band_reasons),
        "decision_id": decision.decision_id,
        "engine": decision.engine,
        "product_kind": decision.product_kind.value,
    }
    rb = decision.rate_build_up
    if rb is not None:
        doc["rate_build_up"] = {
            "lpr_1y": _text(rb.lpr_1y),
            "spread": _text(rb.spread),
            "all_in_rate": _text(rb.all_in_rate),
            "bound": rb.bound,
        }
    if decision.plan is not None:
        shape = decision.plan.shape
        doc["plan"] = {
            "method": shape.method,
            "weights": list(shape.weights),
            "seasonal": shape.seasonal,
            "reason_zh": shape.reason_zh,
            "reason_en": shape.reason_en,
            "suggested_for": decision.plan.suggested_for.isoformat(),
        }
    if decision.record_json:
        doc["record"] = json.loads(decision.record_json)
    return json.dumps(doc, ensure_ascii=False)


def _shape(plan: dict[str, Any]) -> PlanShape:
    return PlanShape(
        method=str(plan["method"]),
        weights=tuple(int(w) for w in plan.get("weights") or ()),
        seasonal=bool(plan.get("seasonal", False)),
        reason_zh=str(plan.get("reason_zh", "")),
        reason_en=str(plan.get("reason_en", "")),
    )


def _plan(doc: dict[str, Any], record: object, fallback: date) -> SuggestedPlan | None:
    plan = doc.get("plan")
    if isinstance(plan, dict):
        return SuggestedPlan(_shape(plan), date.fromisoformat(plan["suggested_for"]))
    if isinstance(record, dict) and isinstance(record.get("plan"), dict):
        as_of = record.get("as_of")
        on = date.fromisoformat(str(as_of)[:10]) if as_of else fallback
        return SuggestedPlan(_shape(record["plan"]), on)
    return None


def record_date(text: str) -> date | None:
    """The ``record.as_of`` of a stored decision, if it has one (older rows had no ``as_of``
    column)."""
    doc = json.loads(text) if text else {}
    record = doc.get("record")
    as_of = record.get("as_of") if isinstance(record, dict) else None
    return date.fromisoformat(str(as_of)[:10]) if as_of else None


def load(text: str, *, currency: str, band: str, annual_rate: str, as_of: date) -> CreditDecision:
    """The decision a stored row holds; ``band`` and ``annual_rate`` are the row's columns (used
    when the JSON lacks them), ``as_of`` the application's date."""
    doc: dict[str, Any] = json.loads(text) if text else {}
    record = doc.get("record")
    rb = doc.get("rate_build_up")
    build_up = (
        RateBuildUp(
            _decimal(rb.get("lpr_1y")),
            _decimal(rb.get("spread")),
            _decimal(rb.get("all_in_rate")),
            str(rb.get("bound") or ""),
        )
        if isinstance(rb, dict)
        else None
    )
    limit = doc.get("limit")
    return CreditDecision(
        band=Band(doc.get("band") or band),
        annual_rate=Decimal(str(doc.get("annual_rate") or annual_rate)),
        limit=Money(int(limit) if limit is not None else 0, currency),
        pd=_decimal(doc.get("pd")),
        engine=str(doc.get("engine") or ""),
        decision_id=str(doc.get("decision_id") or ""),
        reasons=tuple(str(r) for r in doc.get("reasons") or ()),
        band_reasons=tuple(str(r) for r in doc.get("band_reasons") or ()),
        rate_build_up=build_up,
        plan=_plan(doc, record, as_of),
        product_kind=ProductKind(doc.get("product_kind") or ProductKind.TERM.value),
        record_json=canonical(record) if record else "",
    )
