"""The repayment plan a decision suggests is what the contract shows and what a drawdown books,
on SQLite and PostgreSQL: seasonal custom plans due on the 20th, scaled to the amount drawn,
moved with the calendar; no plan keeps the method asked; a damaged plan is not lent on; a
custom plan keeps its shape when part is prepaid."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest
from tests.fakes import FakeDecider
from tests.lending_fixtures import database_url
from tests.world import USCC, World

from loomcredit.adapters.migrations import upgrade_database
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork, make_engine
from loomcredit.domain.decision.outcome import CreditDecision, SuggestedPlan
from loomcredit.domain.decision.plan import PlanShape
from loomcredit.domain.errors import LoomError
from loomcredit.domain.money import Money
from loomcredit.domain.schedule import Method
from loomcredit.service_layer import approvals, lines, origination, servicing
from loomcredit.service_layer.decisioning import DecisionRequest
from loomcredit.service_layer.loan_plan import loan_plan

pytestmark = pytest.mark.integration
START = date(2026, 1, 5)  # first due date 2026-02-20 under a plan
#: The cluster's troughs (CNY in Jan-Feb, midsummer Jul-Aug): the months after them repay no
#: principal under the suggested plan.
NO_PRINCIPAL_MONTHS_FROM_JANUARY = {2, 3, 8, 9}
M = Money.parse


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    for url in database_url(request.param, tmp_path):
        upgrade_database(url)
        engine = make_engine(url)
        yield World(
            today=START,
            decider=FakeDecider(seasonal=True),
            make_uow=lambda e=engine: SqlAlchemyUnitOfWork(e, b"p" * 32, b"a" * 32),
        )
        engine.dispose()


def _line_and_plan(w: World, amount: str) -> tuple[int, int]:
    line_id = w.open_line(amount)
    with w.uow() as uow:
        line = uow.lines.get(line_id)
    assert line is not None
    return line_id, line.terms.application_id


def _booked(w: World, loan_id: int) -> list[tuple[int, date, Money, Money]]:
    return [(i.number, i.due_on, i.principal, i.interest) for i in w.loan(loan_id).instalments]


def test_the_seasonal_plan_is_shown_and_a_drawdown_books_it(world: World) -> None:
    """自定义本金计划 due on the 20th, interest only after the troughs, principal summing to the
    amount; the loan drawn the same day books exactly the contract's schedule."""
    line_id, app_id = _line_and_plan(world, "500000")
    with world.uow() as uow:
        c = origination.contract(uow, world.firm, app_id, now=world.now)
    sched = c.plan.schedule.installments
    assert (c.plan.method, c.plan.seasonal, c.plan.from_decision) == (Method.CUSTOM, True, True)
    assert "淡季只付息" in c.plan.reason_zh
    assert [i.due_on for i in sched][:2] == [date(2026, 2, 20), date(2026, 3, 20)]
    assert all(i.due_on.day == 20 for i in sched)
    zero = {i.due_on.month for i in sched[:-1] if i.principal.is_zero()}
    assert zero == NO_PRINCIPAL_MONTHS_FROM_JANUARY
    assert all(i.interest.is_positive() for i in sched)
    assert sum(i.principal.minor for i in sched) == M("500000").minor
    loan_id = world.draw(line_id, "500000")
    assert world.loan(loan_id).terms.method is Method.CUSTOM
    assert _booked(world, loan_id) == [(i.number, i.due_on, i.principal, i.interest) for i in sched]


def test_a_partial_drawdown_scales_the_plan_by_its_weights(world: World) -> None:
    """Drawing ¥300,000 of a ¥500,000 line: each month repays its weight's share of ¥300,000
    (in whole hundreds of yuan), the trough months still nothing."""
    line_id, app_id = _line_and_plan(world, "500000")
    with world.uow() as uow:
        app = uow.applications.get(app_id)
    assert app is not None
    assert app.decision.plan is not None
    weights = app.decision.plan.shape.weights
    loan_id = world.draw(line_id, "300000")
    sched = world.loan(loan_id).instalments
    assert sum(i.principal.minor for i in sched) == M("300000").minor
    share = [Fraction(w, sum(weights)) * M("300000").minor for w in weights]
    for inst, exact in zip(sched, share, strict=True):
        assert abs(inst.principal.minor - exact) <= 10_000
    zero = {i.due_on.month for i in sched[:-1] if i.principal.is_zero()}
    assert zero == NO_PRINCIPAL_MONTHS_FROM_JANUARY


def test_a_later_drawdown_moves_the_plan_with_the_calendar(world: World) -> None:
    """Signed in January, drawn on 10 March: dues from 20 April, still no principal in August or
    September; the preview on that day is what is booked."""
    line_id, _ = _line_and_plan(world, "400000")
    world.close_days_until(date(2026, 3, 10))
    with world.uow() as uow:
        preview = lines.drawdown_plan(uow, world.firm, line_id, M("400000"), now=world.now)
    loan_id = world.draw(line_id, "400000")
    sched = world.loan(loan_id).instalments
    assert sched[0].due_on == date(2026, 4, 20)
    by_month = {i.due_on.month: i.principal for i in sched}
    assert by_month[8].is_zero()
    assert by_month[9].is_zero()
    assert by_month[10].is_positive()
    assert _booked(world, loan_id) == [
        (i.number, i.due_on, i.principal, i.interest) for i in preview.schedule.installments
    ]


def test_a_decision_without_a_plan_keeps_the_method_asked(world: World) -> None:
    """A level annuity due on the start day of each month, booked as annuity."""
    world.decider.seasonal = False  # type: ignore[attr-defined]
    line_id, _ = _line_and_plan(world, "120000")
    loan = world.loan(world.draw(line_id, "120000"))
    assert loan.terms.method is Method.ANNUITY
    assert loan.instalments[0].due_on == date(2026, 2, 5)
    payments = {(i.principal + i.interest).minor for i in loan.instalments[:-1]}
    assert len(payments) == 1


def test_a_damaged_plan_is_not_lent_on(world: World) -> None:
    """Weights that do not fit the term stop the contract instead of lending on a guess."""
    _, app_id = _line_and_plan(world, "100000")
    with world.uow() as uow:
        app = uow.applications.get(app_id)
    assert app is not None
    assert app.decision.plan is not None
    bad = replace(app.decision.plan.shape, weights=(100, 100))
    app.decision = replace(app.decision, plan=SuggestedPlan(bad, START))
    with pytest.raises(LoomError, match="2 periods"):
        loan_plan(app, START)


def test_a_custom_plan_keeps_its_shape_when_part_is_prepaid(world: World) -> None:
    """Prepaying part of a seasonal loan: the principal left is spread in proportion to the old
    plan, so the trough months still repay nothing."""
    line_id, _ = _line_and_plan(world, "500000")
    loan_id = world.draw(line_id, "500000")
    world.close_days_until(date(2026, 2, 20))
    world.auto_debit()
    world.close_days_until(date(2026, 4, 10))
    with world.uow() as uow:
        servicing.request_prepayment(uow, world.firm, loan_id, now=world.now, principal=M("100000"))
        uow.commit()
    paid = world.auto_debit().paid
    assert paid[0].principal == M("100000")
    loan = world.loan(loan_id)
    undue = [i for i in loan.instalments if i.due_on > date(2026, 4, 10)]
    assert sum(i.principal.minor for i in undue) == loan.outstanding.minor
    assert {i.due_on.month for i in undue[:-1] if i.principal.is_zero()} >= {8, 9}


def test_a_reviewers_reduced_amount_scales_the_plan(world: World) -> None:
    """Asked ¥800,000 (to review), approved ¥300,000 by a risk manager: the line is ¥300,000,
    each month repays its weight's share of it (in hundreds of yuan), the trough months still
    nothing, and the drawdown of the line books the contract."""
    with world.uow() as uow:
        view = origination.create_application(
            uow,
            world.decider,
            world.officer,
            uscc=USCC,
            amount=M("800000"),
            term=12,
            method="annuity",
            now=world.now,
        )
        app_id = view.app.app_id
        origination.review(
            uow, world.risk, app_id, "approve", comment="less", now=world.now, approved=M("300000")
        )
        line = origination.accept_contract(
            uow, world.firm, app_id, settlement_account="6222000011112222", now=world.now
        )
        uow.commit()
    assert line.limit == M("300000")
    with world.uow() as uow:
        c = origination.contract(uow, world.firm, app_id, now=world.now)
        app = uow.applications.get(app_id)
    assert app is not None
    assert app.decision.plan is not None
    weights = app.decision.plan.shape.weights
    sched = c.plan.schedule.installments
    assert c.plan.schedule.principal == M("300000")
    assert sum(i.principal.minor for i in sched) == M("300000").minor
    share = [Fraction(w, sum(weights)) * M("300000").minor for w in weights]
    for inst, exact in zip(sched, share, strict=True):
        assert abs(inst.principal.minor - exact) <= 10_000  # whole hundreds of yuan
    zero = {i.due_on.month for i in sched[:-1] if i.principal.is_zero()}
    assert zero == NO_PRINCIPAL_MONTHS_FROM_JANUARY
    loan_id = world.draw(line.line_id, "300000")
    assert _booked(world, loan_id) == [(i.number, i.due_on, i.principal, i.interest) for i in sched]


class DamagedPlanDecider(FakeDecider):
    """A decision whose custom plan has 2 periods, whatever the term asked."""

    def decide(self, request: DecisionRequest, as_of: date) -> CreditDecision:
        plain = super().decide(request, as_of)
        shape = PlanShape("custom", (100, 100), True, "淡季只付息", "interest only")
        return replace(plain, plan=SuggestedPlan(shape, as_of))


def test_a_damaged_plan_stored_with_the_decision_is_not_lent_on(world: World) -> None:
    """A stored decision whose plan does not fit the 12-month term stops the contract and the
    approval of a drawdown: no loan, no money out, the reservation still held for a person."""
    world.decider = DamagedPlanDecider()
    line_id, app_id = _line_and_plan(world, "100000")
    with world.uow() as uow, pytest.raises(LoomError, match="2 periods"):
        origination.contract(uow, world.firm, app_id, now=world.now)
    with world.uow() as uow:
        req = lines.request_drawdown(
            uow, world.firm, line_id, M("100000"), key="damaged", now=world.now
        )
        uow.commit()
    with world.uow() as uow, pytest.raises(LoomError, match="2 periods"):
        approvals.approve(uow, world.ops, req.request_id, now=world.now)
    with world.uow() as uow:
        line = uow.lines.get(line_id)
        assert uow.loans.find() == []
        assert [r.request_id for r in uow.approvals.pending()] == [req.request_id]
        assert all(m.is_zero() for m in uow.ledger.trial_balance().values())  # nothing paid out
    assert line is not None
    assert (line.utilised, line.reserved) == (Money.zero(), M("100000"))
