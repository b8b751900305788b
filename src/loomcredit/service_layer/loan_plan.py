"""The repayment plan a loan is contracted and booked on (还款计划): the decision's or the asked.

When the application's decision record carries a plan (method, custom weights, whether the firm
is seasonal and why), the contract shows that plan and the loan books its schedule, built by the
plan engine for the approved amount, the contract rate, the term and the loan's start date: due
on the 20th (DOMAIN.md §7), custom principal scaled to the approved amount by the plan's weights.
Records without a plan (older ones, the fallback rules) keep the method asked, due on the start
day of each month. :func:`loan_plan` is the one place that turns an application and a start date
into a schedule, so the schedule accepted is the schedule booked for the same start date.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from loomcredit.domain.decision.plan import PlanShape, build_plan, shape_for_start
from loomcredit.domain.errors import LoomError, ScheduleError
from loomcredit.domain.money import Money, Rate
from loomcredit.domain.schedule import Method, Schedule, build_schedule
from loomcredit.service_layer.unit_of_work import Row

ASKED_REASON = ("按申请的还款方式", "the repayment method asked for")


@dataclass(frozen=True, slots=True)
class LoanPlan:
    """The plan of one loan: method, whether it is seasonal and why, and its schedule."""

    method: Method
    seasonal: bool
    reason_zh: str
    reason_en: str
    from_decision: bool
    schedule: Schedule

    @property
    def label_zh(self) -> str:
        """Chinese name of the method (等额本息, 自定义本金计划, …)."""
        return self.method.label_zh


def approved_amount(row: Row) -> Money:
    """The amount approved (by the engine or a reviewer); the amount asked for older rows."""
    fen = row.get("approved_fen")
    return Money(row["amount_fen"] if fen is None else int(fen), row["currency"])


def _decision(row: Row) -> Mapping[str, Any]:
    """The stored decision: parsed already (``decision``) or as stored (``decision_json``)."""
    if isinstance(row.get("decision"), Mapping):
        return row["decision"]  # type: ignore[no-any-return]
    text = row.get("decision_json")
    return json.loads(text) if text else {}


def suggested_plan(row: Row) -> tuple[PlanShape, date] | None:
    """The plan the decision engine suggested and the start date it was suggested for, if any.

    Raises:
        LoomError: the record has a plan that cannot be read (a damaged record is not lent on).
    """
    record = _decision(row).get("record")
    if not isinstance(record, Mapping) or record.get("plan") is None:
        return None
    plan = record["plan"]
    try:
        weights = tuple(int(w) for w in plan.get("weights", ()))
        shape = PlanShape(
            Method.parse(str(plan["method"])).value,
            weights,
            bool(plan["seasonal"]),
            str(plan["reason_zh"]),
            str(plan["reason_en"]),
        )
        suggested_for = date.fromisoformat(str(record.get("as_of") or row["as_of"]))
    except (KeyError, TypeError, ValueError, AttributeError, ScheduleError) as exc:
        raise LoomError(f"the decision record's repayment plan cannot be read: {exc}") from None
    if shape.method == "custom" and len(weights) != int(row["term_months"]):
        raise LoomError(
            f"the decision record's plan has {len(weights)} periods, "
            f"the application {row['term_months']} months"
        )
    return shape, suggested_for


def loan_plan(row: Row, start: date) -> LoanPlan:
    """The plan and schedule of an application's loan starting on ``start``.

    Args:
        row: the application (stored row, or as :func:`origination.get_application` shows it).
        start: the loan's start date (the contract's date, the disbursement date).

    Returns:
        The decision's plan for the approved amount, or the method asked if it suggested none.
    """
    amount = approved_amount(row)
    rate = Rate(row["annual_rate"])
    term = int(row["term_months"])
    suggested = suggested_plan(row)
    if suggested is None:
        method = Method.parse(row["method"])
        sched = build_schedule(amount, rate, term, start, method)
        return LoanPlan(method, False, *ASKED_REASON, False, sched)
    shape = shape_for_start(*suggested, start)
    sched = build_plan(shape, amount, Decimal(row["annual_rate"]), term, start)
    return LoanPlan(
        Method.parse(shape.method), shape.seasonal, shape.reason_zh, shape.reason_en, True, sched
    )
