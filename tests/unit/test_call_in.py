"""Calling a loan in early (宣布提前到期) on the fakes: the loan's rule (everything not yet due
falls due on the day, exactly what a payoff that day would charge; unpaid, it is overdue the next
day) and the post-loan action on an alert through four eyes (all active loans of the line, the
line frozen, the alert actioned)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.fakes import FakeFeatures, FakeWarningRules
from tests.world import USCC, World

from loomcredit.domain.alerts import AlertStatus
from loomcredit.domain.credit_line import LineStatus
from loomcredit.domain.errors import FourEyesViolation, LoanStateError
from loomcredit.domain.loan import Loan, LoanRef, LoanStatus
from loomcredit.domain.money import Money, Rate
from loomcredit.domain.schedule import Method, build_schedule
from loomcredit.service_layer import approvals, monitoring
from loomcredit.service_layer.errors import InvalidRequestError
from loomcredit.service_layer.users import AccessDeniedError

START = date(2026, 1, 5)


def _loan(principal: str = "120000", months: int = 12, method: Method = Method.ANNUITY) -> Loan:
    sched = build_schedule(Money.parse(principal), Rate("0.0435"), months, START, method)
    return Loan.open(sched, LoanRef(1, 1, 1, USCC, "k1"), Decimal("0.5"))


class TestTheLoan:
    @settings(max_examples=60)
    @given(
        months=st.integers(2, 36),
        day=st.integers(1, 1000),
        method=st.sampled_from([Method.ANNUITY, Method.EQUAL_PRINCIPAL, Method.INTEREST_ONLY]),
    )
    def test_a_call_in_makes_due_what_a_payoff_that_day_would_charge(
        self, months: int, day: int, method: Method
    ) -> None:
        loan = _loan(months=months, method=method)
        on = START + timedelta(days=day % (months * 30))
        if not any(i.due_on > on for i in loan.instalments):
            return
        quote = loan.payoff_quote(on)
        due = loan.call_in(on, "contract clause 12: enforcement case")
        assert due == quote.payoff
        assert loan.undue_principal(on) == Money.zero()
        assert all(i.due_on <= on for i in loan.instalments)
        assert sum(i.principal.minor for i in loan.instalments) == loan.terms.principal.minor
        assert loan.payoff_quote(on).payoff == due  # nothing more to come

    def test_unpaid_it_is_overdue_the_next_day_and_normal_interest_stops(self) -> None:
        loan = _loan()
        on = date(2026, 1, 25)  # before the first instalment
        loan.call_in(on, "clause 12")
        today = loan.close_day(on)
        assert today.dpd == 0
        assert today.interest_accrual_e8 == 0  # nothing left that is not due
        nxt = loan.close_day(on + timedelta(days=1))
        assert nxt.dpd == 1
        assert nxt.penalty_accrual_e8 > 0

    def test_paying_the_call_closes_the_loan(self) -> None:
        loan = _loan()
        on = date(2026, 3, 20)
        due = loan.call_in(on, "clause 12")
        paid = loan.repay(due, on)
        assert paid.closed
        assert loan.status is LoanStatus.CLOSED

    def test_nothing_to_call_and_no_reason_are_refused(self) -> None:
        loan = _loan(months=3)
        with pytest.raises(LoanStateError):
            loan.call_in(loan.instalments[-1].due_on, "clause 12")
        with pytest.raises(LoanStateError):
            loan.call_in(date(2026, 2, 1), " ")


def _alerted_world() -> tuple[World, int, int]:
    """A line of ¥300,000 with two drawdowns and an open court alert on it."""
    w = World()
    line = w.open_line()
    w.draw(line, "100000")
    w.draw(line, "50000")
    with w.uow() as uow:
        run = monitoring.monitor(uow, w.risk, FakeFeatures({USCC: {"drop": 0.4}}),
                                 FakeWarningRules(), as_of=w.today - timedelta(days=1),
                                 now=w.now)  # fmt: skip
        uow.commit()
    (alert,) = run.raised
    return w, line, alert.alert_id


class TestTheAction:
    def test_asked_on_the_alert_approved_by_a_risk_manager_every_loan_falls_due(self) -> None:
        w, line_id, alert_id = _alerted_world()
        with w.uow() as uow:
            req = monitoring.request_call_in(uow, w.officer, alert_id,
                                             reason="合同第12条 court case", now=w.now)  # fmt: skip
            uow.commit()
        with w.uow() as uow:
            (before, _) = uow.loans.find(line_id=line_id)
            assert before.amount_due(w.today) == Money.zero()
            with pytest.raises(AccessDeniedError):
                approvals.approve(uow, w.officer, req.request_id, now=w.now)
            approvals.approve(uow, w.risk, req.request_id, now=w.now, comment="同意")
            uow.commit()
        with w.uow() as uow:
            loans = uow.loans.find(line_id=line_id)
            line = uow.lines.get(line_id)
            alert = uow.alerts.get(alert_id)
            actions = [r.action for r in uow.audit.records()]
        assert line is not None
        assert alert is not None
        assert sum(loan.amount_due(w.today).minor for loan in loans) >= 150_000_00
        assert all(loan.undue_principal(w.today).is_zero() for loan in loans)
        assert line.status is LineStatus.FROZEN
        assert alert.status is AlertStatus.ACTIONED
        assert actions.count("loan.called_in") == 2
        with w.uow() as uow, pytest.raises(InvalidRequestError, match="no active loan"):
            monitoring.request_call_in(uow, w.risk, alert_id, reason="again", now=w.now)

    def test_the_requester_cannot_approve_and_a_closed_alert_cannot_be_used(self) -> None:
        w, _, alert_id = _alerted_world()
        with w.uow() as uow:
            req = monitoring.request_call_in(uow, w.risk, alert_id, reason="x", now=w.now)
            with pytest.raises(FourEyesViolation):
                approvals.approve(uow, w.risk, req.request_id, now=w.now)
            monitoring.move_alert(uow, w.risk, alert_id, AlertStatus.CLOSED, comment="已化解",
                                  now=w.now)  # fmt: skip
            uow.commit()
        with w.uow() as uow, pytest.raises(Exception, match="closed"):
            monitoring.request_call_in(uow, w.risk2, alert_id, reason="x", now=w.now)
