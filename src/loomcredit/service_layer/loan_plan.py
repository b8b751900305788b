"""The repayment plan a drawdown is contracted and booked on (还款计划): decision or asked.

When the application's decision carries a plan (method, custom weights, whether the firm is
seasonal and why), the contract shows that plan and each drawdown books its schedule, built by the
plan engine for the amount drawn, the contract rate, the term and the drawdown's start date: due
on the 20th (DOMAIN.md §7), custom principal scaled to the amount by the plan's weights. Decisions
without a plan (referrals, older records) keep the method asked, due on the start day of each
month. :func:`loan_plan` is the one place that turns an application, an amount and a start date
into a schedule, so the schedule shown is the schedule booked for the same amount and date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from loomcredit.domain.application import Application
from loomcredit.domain.decision.plan import build_plan, shape_for_start
from loomcredit.domain.errors import LoomError
from loomcredit.domain.money import Money, Rate
from loomcredit.domain.schedule import Method, Schedule, build_schedule

ASKED_REASON = ("按申请的还款方式", "the repayment method asked for")


@dataclass(frozen=True, slots=True)
class LoanPlan:
    """The plan of one drawdown: method, whether it is seasonal and why, and its schedule."""

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


def loan_plan(app: Application, start: date, amount: Money | None = None) -> LoanPlan:
    """The plan and schedule of a drawdown of ``amount`` (default: the approved amount) starting
    on ``start``.

    Raises:
        LoomError: the decision's plan does not fit the application (a damaged record is not
            lent on).
    """
    amount = amount or app.approved_amount
    rate = Rate(app.decision.annual_rate)
    term = app.term_months
    suggested = app.decision.plan
    if suggested is None:
        method = Method.parse(app.method)
        sched = build_schedule(amount, rate, term, start, method)
        return LoanPlan(method, False, *ASKED_REASON, False, sched)
    shape = suggested.shape
    if shape.method == "custom" and len(shape.weights) != term:
        raise LoomError(
            f"the decision's plan has {len(shape.weights)} periods, the application {term} months"
        )
    moved = shape_for_start(shape, suggested.suggested_for, start)
    sched = build_plan(moved, amount, app.decision.annual_rate, term, start)
    return LoanPlan(
        Method.parse(moved.method), moved.seasonal, moved.reason_zh, moved.reason_en, True, sched
    )
