"""Restructuring (展期 / 调整还款计划) on the fakes: the loan's rule (paid instalments kept, the
principal owed scheduled again to the fen, overdue interest deferred to the first new due date,
not capitalised; watch period; grade floor) with figures worked out by hand, and the four-eyes
path (a collector proposes, a risk manager who did not ask approves)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.world import World

from loomcredit.domain.delinquency import Grade
from loomcredit.domain.errors import FourEyesViolation, LoanStateError, NotRestructurable
from loomcredit.domain.loan import Loan, LoanRef, LoanStatus
from loomcredit.domain.money import Money, Rate
from loomcredit.domain.restructuring import RestructureKind, RestructurePlan
from loomcredit.domain.schedule import Method, build_schedule
from loomcredit.service_layer import approvals
from loomcredit.service_layer.restructuring import propose_restructure
from loomcredit.service_layer.users import AccessDeniedError, Role, User

START = date(2026, 1, 5)
USCC = "91330603MA2B00000X"
EXTEND_6 = RestructurePlan(RestructureKind.EXTENSION, 6)


def _loan(method: Method = Method.ANNUITY, months: int = 12) -> Loan:
    """¥12,000 at 6 %, 12 monthly instalments from 2026-01-05 (due on the 5th)."""
    sched = build_schedule(Money.parse("12000"), Rate("0.06"), months, START, method)
    return Loan.open(sched, LoanRef(1, 1, 1, USCC, "k1"), Decimal("0.5"))


def _close(loan: Loan, first: date, last: date) -> None:
    day = first
    while day <= last:
        loan.close_day(day)
        day += timedelta(days=1)


# By hand: A = 12,000 × 0.5 % × 1.005¹² / (1.005¹² − 1) = 1,032.7984 → ¥1,032.80.
# Instalment 1 (02-05): interest 12,000.00 × 0.5 % = 60.00, principal 972.80, left 11,027.20.
# Instalment 2 (03-05): interest 11,027.20 × 0.5 % = 55.136 → 55.14, principal 977.66,
# left 10,049.54.
AFTER_ONE = 1_102_720
AFTER_TWO = 1_004_954
INSTALMENT_2 = (97_766, 5_514)


class TestReschedule:
    def test_a_new_plan_by_hand_to_the_fen(self) -> None:
        """Two instalments paid on time, rescheduled on 2026-03-10 as 6 equal-principal periods
        from 2026-04-05: every line worked out by hand."""
        loan = _loan()
        loan.repay(Money(103_280), date(2026, 2, 5))
        loan.repay(Money(103_280), date(2026, 3, 5))
        plan = RestructurePlan(RestructureKind.RESCHEDULE, 6, method=Method.EQUAL_PRINCIPAL)
        done = loan.restructure(plan, date(2026, 3, 10), "客户订单延迟 orders delayed")
        new = loan.instalments[2:]
        # principal: 10,049.54 / 6 = 1,674.923 → 1,674.92 × 5, the last takes 1,674.94
        assert [i.principal.minor for i in new] == [167_492] * 5 + [167_494]
        # first line: 5 nights (03-05 → 03-10) on 10,049.54 at 6 % / 360 = 8.374 → 8.37, and
        # 26 nights (03-10 → 04-05) = 43.548 → 43.55; then 0.5 % a month on what is left:
        # 8,374.62 → 41.87, 6,699.70 → 33.50, 5,024.78 → 25.12, 3,349.86 → 16.75,
        # 1,674.94 → 8.37
        assert [i.interest.minor for i in new] == [837 + 4_355, 4_187, 3_350, 2_512, 1_675, 837]
        assert [i.due_on for i in new] == [date(2026, m, 5) for m in range(4, 10)]
        assert [i.number for i in new] == list(range(13, 19))  # after every old number
        assert done.principal == Money(AFTER_TWO)
        assert done.deferred_interest == Money.zero()
        # watch: from 2026-04-05, two periods (to 05-05) and a year (to 2027-04-05)
        assert done.watch_until == loan.watch_until == date(2027, 4, 5)

    def test_paid_instalments_are_kept_as_they_were(self) -> None:
        """The settled instalments stay, unchanged, in front of the new ones."""
        loan = _loan()
        loan.repay(Money(103_280), date(2026, 2, 5))
        before = [(i.number, i.due_on, i.principal, i.interest) for i in loan.instalments[:1]]
        loan.restructure(EXTEND_6, date(2026, 2, 10), "cash-in delayed")
        after = [(i.number, i.due_on, i.principal, i.interest) for i in loan.instalments[:1]]
        assert after == before
        assert loan.instalments[0].is_settled
        assert loan.instalments[1].number == 13


class TestExtensionWithArrears:
    def _overdue(self) -> Loan:
        """Instalment 1 paid, instalment 2 (due 2026-03-05) unpaid and 15 days overdue."""
        loan = _loan()
        loan.repay(Money(103_280), date(2026, 2, 5))
        _close(loan, date(2026, 2, 6), date(2026, 3, 19))
        assert loan.dpd == 14
        return loan

    def test_principal_is_conserved_and_overdue_interest_deferred_not_capitalised(self) -> None:
        """Extended by 6 months on 2026-03-20: maturity 2027-01-05 → 2027-07-05, the ¥11,027.20
        owed re-amortised over the 16 dates from 2026-04-05, the ¥55.14 overdue interest charged
        on the first new date (not added to principal)."""
        loan = self._overdue()
        penalty = loan.accrual.penalty_due
        done = loan.restructure(EXTEND_6, date(2026, 3, 20), "展期 extension, seasonal trough")
        new = [i for i in loan.instalments if i.number > 12]
        assert len(new) == 16
        assert new[-1].due_on == date(2027, 7, 5) == done.maturity
        assert sum(i.principal.minor for i in new) == AFTER_ONE == loan.outstanding.minor
        # 16 annuity periods on 11,027.20 at 0.5 %: 718.86 a month; first principal
        # 718.86 − 55.14 (the full month's interest the level payment is built on) = 663.72
        assert new[0].principal.minor == 71_886 - 5_514
        # first interest: the overdue 55.14, 15 nights (03-05 → 03-20) on the 10,049.54 not
        # yet due = 25.12, and 16 nights (03-20 → 04-05) on the 11,027.20 = 29.41
        assert new[0].interest.minor == 5_514 + 2_512 + 2_941
        assert done.deferred_interest == Money(INSTALMENT_2[1])
        assert done.penalty_owed == penalty == loan.accrual.penalty_due  # still owed, not added
        assert penalty.is_positive()

    def test_dpd_restarts_and_no_income_is_reversed(self) -> None:
        """The day of the restructuring closes at DPD 0 with no penalty, a night's normal
        interest on the whole ¥11,027.20 (183.79 fen-ish, 1e-8 exact), and its income is that
        night's interest: the deferred ¥55.14 stays recognised."""
        loan = self._overdue()
        loan.restructure(EXTEND_6, date(2026, 3, 20), "展期")
        day = loan.close_day(date(2026, 3, 20))
        assert (day.dpd, day.penalty_accrual_e8) == (0, 0)
        assert day.interest_accrual_e8 == AFTER_ONE * 60_000 * 100 // 360  # 1,102,720 × 6 %/360
        assert day.interest_fen in (183, 184)  # one night; without the carry it would be −5,330
        assert loan.grade is Grade.SPECIAL_MENTION  # at least 关注 after a restructuring
        _close(loan, date(2026, 3, 21), date(2026, 4, 5))
        assert loan.dpd == 0

    def test_unpaid_after_the_first_new_date_it_is_overdue_again(self) -> None:
        """The new schedule is the one DPD counts from."""
        loan = self._overdue()
        loan.restructure(EXTEND_6, date(2026, 3, 20), "展期")
        _close(loan, date(2026, 3, 20), date(2026, 4, 8))
        assert loan.dpd == 3


class TestRules:
    @settings(max_examples=80)
    @given(
        method=st.sampled_from([Method.ANNUITY, Method.EQUAL_PRINCIPAL, Method.INTEREST_ONLY]),
        to=st.sampled_from([None, Method.ANNUITY, Method.EQUAL_PRINCIPAL, Method.INTEREST_ONLY]),
        kind=st.sampled_from(list(RestructureKind)),
        months=st.integers(1, 36),
        day=st.integers(0, 500),
        paid=st.integers(0, 4),
    )
    def test_the_principal_owed_is_scheduled_exactly_and_the_past_is_kept(
        self, method: Method, to: Method | None, kind: RestructureKind, months: int, day: int,
        paid: int,
    ) -> None:  # fmt: skip
        """Whatever the plan: Σ new principal = outstanding, nothing new falls due by the day,
        the settled instalments are untouched, the final balance is zero."""
        loan = _loan(method)
        for i in loan.instalments[:paid]:
            loan.repay(loan.amount_due(i.due_on), i.due_on)
        on = START + timedelta(days=day)
        if loan.status is not LoanStatus.ACTIVE:
            return
        settled = [(i.number, i.principal, i.interest) for i in loan.instalments if i.is_settled]
        try:
            done = loan.restructure(RestructurePlan(kind, months, method=to), on, "r")
        except NotRestructurable:
            assert kind is RestructureKind.EXTENSION  # an extension ending before the day
            return
        new = [i for i in loan.instalments if i.number > 12]
        assert sum(i.principal.minor for i in new) == loan.outstanding.minor
        assert all(i.due_on > on for i in new)
        assert [i.due_on for i in new] == sorted(i.due_on for i in new)
        kept = [(i.number, i.principal, i.interest) for i in loan.instalments if i.number <= 12]
        assert kept == settled
        assert done.watch_until >= done.first_due + timedelta(days=365)
        assert loan.undue_principal(on) == loan.outstanding

    def test_a_closed_or_written_off_loan_is_refused(self) -> None:
        """Only an active loan is restructured."""
        closed = _loan(months=1)
        closed.repay(closed.amount_due(date(2026, 2, 5)), date(2026, 2, 5))
        assert closed.status is LoanStatus.CLOSED
        with pytest.raises(NotRestructurable, match="closed"):
            closed.restructure(EXTEND_6, date(2026, 2, 6), "r")
        gone = _loan()
        gone.write_off(date(2026, 6, 1))
        with pytest.raises(NotRestructurable, match="written_off"):
            gone.restructure(EXTEND_6, date(2026, 6, 2), "r")

    def test_a_reason_is_required(self) -> None:
        """No reason, no restructuring."""
        with pytest.raises(NotRestructurable):
            _loan().restructure(EXTEND_6, date(2026, 1, 20), "  ")

    def test_restructured_again_while_under_watch_is_at_least_doubtful(self) -> None:
        """A second restructuring inside the watch period floors the grade at 可疑."""
        loan = _loan()
        loan.restructure(EXTEND_6, date(2026, 1, 20), "first")
        assert loan.grade is Grade.SPECIAL_MENTION
        assert loan.is_under_watch(date(2026, 12, 1))
        loan.restructure(EXTEND_6, date(2026, 2, 1), "again")
        assert loan.grade is Grade.DOUBTFUL

    def test_the_first_due_date_must_be_after_the_day(self) -> None:
        """A first due date not after the restructuring date, or more than a year after it, is
        refused."""
        plan = RestructurePlan(RestructureKind.RESCHEDULE, 6, first_due=date(2026, 1, 20))
        with pytest.raises(NotRestructurable):
            _loan().restructure(plan, date(2026, 1, 20), "r")
        far = RestructurePlan(RestructureKind.RESCHEDULE, 6, first_due=date(2027, 1, 21))
        with pytest.raises(NotRestructurable, match="within 12 months"):
            _loan().restructure(far, date(2026, 1, 20), "r")


COLLECTOR = User("col", Role.COLLECTOR)


def _world_with_loan() -> tuple[World, int]:
    w = World()
    loan_id = w.draw(w.open_line(), "100000")
    return w, loan_id


class TestFourEyes:
    def test_a_collector_proposes_and_a_risk_manager_approves(self) -> None:
        """The approval applies the plan on the business date, audited; no entry is posted."""
        w, loan_id = _world_with_loan()
        with w.uow() as uow:
            entries = len(uow.ledger.entries_for(loan_id))
            prop = propose_restructure(uow, COLLECTOR, loan_id, EXTEND_6, reason="季节性回款",
                                       now=w.now)  # fmt: skip
            uow.commit()
        assert prop.request.requested_by == "col"
        assert w.loan(loan_id).restructured_on is None  # nothing happens before approval
        with w.uow() as uow:
            out = approvals.approve(uow, w.risk, prop.request.request_id, now=w.now)
            uow.commit()
        assert out.result == f"loan:{loan_id}"
        loan = w.loan(loan_id)
        assert loan.restructured_on == w.today
        assert loan.watch_until == prop.preview.watch_until
        with w.uow() as uow:
            assert len(uow.ledger.entries_for(loan_id)) == entries
            actions = [r.action for r in uow.audit.records()]
        assert "restructure.requested" in actions
        assert "loan.restructured" in actions

    def test_the_requester_cannot_approve_its_own_proposal(self) -> None:
        """A risk manager who proposed cannot also approve."""
        w, loan_id = _world_with_loan()
        with w.uow() as uow:
            prop = propose_restructure(uow, w.risk, loan_id, EXTEND_6, reason="r", now=w.now)
            uow.commit()
        with w.uow() as uow, pytest.raises(FourEyesViolation):
            approvals.approve(uow, w.risk, prop.request.request_id, now=w.now)

    def test_a_collector_or_an_officer_cannot_approve(self) -> None:
        """Approving a restructuring is a risk manager's right only."""
        w, loan_id = _world_with_loan()
        with w.uow() as uow:
            prop = propose_restructure(uow, w.risk, loan_id, EXTEND_6, reason="r", now=w.now)
            uow.commit()
        for user in (COLLECTOR, w.officer, w.ops):
            with w.uow() as uow, pytest.raises(AccessDeniedError):
                approvals.approve(uow, user, prop.request.request_id, now=w.now)

    def test_an_applicant_cannot_propose(self) -> None:
        """The borrower asks its bank; it does not file the proposal."""
        w, loan_id = _world_with_loan()
        with w.uow() as uow, pytest.raises(AccessDeniedError):
            propose_restructure(uow, w.firm, loan_id, EXTEND_6, reason="r", now=w.now)

    def test_a_written_off_loan_is_refused_when_asked(self) -> None:
        """The proposal is tried on the loan at once."""
        w, loan_id = _world_with_loan()
        with w.uow() as uow:
            loan = uow.loans.get(loan_id)
            assert loan is not None
            loan.write_off(w.today)
            uow.loans.save(loan)
            uow.commit()
        with w.uow() as uow, pytest.raises(LoanStateError):
            propose_restructure(uow, COLLECTOR, loan_id, EXTEND_6, reason="r", now=w.now)
