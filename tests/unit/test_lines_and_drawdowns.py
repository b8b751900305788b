"""Credit lines and drawdowns on the fakes: a line opens on signing, drawdowns reserve then draw,
four eyes on the disbursement, freeze and reduce, revolving availability restored by repayment."""

from __future__ import annotations

from datetime import date

import pytest
from tests.world import ACCOUNT, USCC, World

from loomcredit.domain.approval import ApprovalStatus
from loomcredit.domain.credit_line import LineKind, LineStatus
from loomcredit.domain.decision.policy import ProductKind
from loomcredit.domain.errors import FourEyesViolation, LimitExceeded, LineNotAvailable
from loomcredit.domain.ledger import Account
from loomcredit.domain.money import Money
from loomcredit.service_layer import approvals, lines, origination
from loomcredit.service_layer.errors import IdempotencyConflictError
from loomcredit.service_layer.users import AccessDeniedError, Role, User

M = Money.parse


class TestOpeningALine:
    def test_signing_opens_a_one_off_line_for_the_approved_amount(self) -> None:
        """Accepting an approved application opens a line: limit = approved, expiry = term."""
        w = World()
        line_id = w.open_line("300000", term=12)
        with w.uow() as uow:
            line = uow.lines.get(line_id)
        assert line is not None
        assert line.limit == M("300000")
        assert line.terms.kind is LineKind.ONE_OFF
        assert line.terms.settlement_account == ACCOUNT
        assert (line.terms.opened_on, line.terms.expires_on) == (w.today, date(2027, 3, 2))
        assert line.available(w.today) == M("300000")

    def test_a_revolving_product_opens_a_revolving_line(self) -> None:
        """The decision's product kind decides the line's kind."""
        w = World()
        w.decider.product_kind = ProductKind.REVOLVING
        line_id = w.open_line()
        with w.uow() as uow:
            line = uow.lines.get(line_id)
        assert line is not None
        assert line.terms.kind is LineKind.REVOLVING

    def test_a_bad_settlement_account_is_refused(self) -> None:
        """The account debits are taken from must be a bank account number."""
        from loomcredit.service_layer.errors import InvalidRequestError

        w = World()
        with w.uow() as uow:
            view = origination.create_application(
                uow,
                w.decider,
                w.officer,
                uscc=USCC,
                amount=M("100000"),
                term=12,
                method="annuity",
                now=w.now,
            )
            with pytest.raises(InvalidRequestError, match="8-32 digits"):
                origination.accept_contract(
                    uow, w.firm, view.app.app_id, settlement_account="abc", now=w.now
                )


class TestDrawdown:
    def test_drawing_twice_books_two_loans_within_the_limit(self) -> None:
        """Two drawdowns on one line: two loans, the line utilised by both, money paid out."""
        w = World()
        line_id = w.open_line("300000")
        first, second = w.draw(line_id, "100000"), w.draw(line_id, "150000")
        with w.uow() as uow:
            line = uow.lines.get(line_id)
            tb = uow.ledger.trial_balance()
        assert line is not None
        assert line.utilised == M("250000")
        assert line.available(w.today) == M("50000")
        assert tb[Account.LOAN_PRINCIPAL] == M("250000")
        assert tb[Account.SETTLEMENT] == -M("250000")
        assert w.loan(first).ref.line_id == w.loan(second).ref.line_id == line_id
        assert w.loan(second).terms.start_date == w.today

    def test_a_drawdown_beyond_what_is_available_is_refused(self) -> None:
        """What is reserved by a pending request counts against the limit."""
        w = World()
        line_id = w.open_line("300000")
        with w.uow() as uow:
            lines.request_drawdown(uow, w.firm, line_id, M("200000"), key="a", now=w.now)
            with pytest.raises(LimitExceeded, match=r"100,000\.00 available"):
                lines.request_drawdown(uow, w.firm, line_id, M("100000.01"), key="b", now=w.now)

    def test_the_requester_cannot_approve_and_nothing_moves_before_approval(self) -> None:
        """A pending drawdown books no loan; its requester may not approve it."""
        w = World()
        line_id = w.open_line()
        ops_firm = User("firm", Role.OPERATIONS)  # the same person with the approving role
        with w.uow() as uow:
            req = lines.request_drawdown(uow, w.firm, line_id, M("50000"), key="a", now=w.now)
            assert uow.loans.find() == []
            with pytest.raises(FourEyesViolation):
                approvals.approve(uow, ops_firm, req.request_id, now=w.now)

    def test_whoever_made_the_application_cannot_approve_its_money(self) -> None:
        """An officer who created the application and later holds the operations role is
        still refused: makers, modifiers and reviewers of the case are excluded."""
        w = World()
        line_id = w.open_line()
        maker_now_ops = User(w.officer.name, Role.OPERATIONS)
        with w.uow() as uow:
            req = lines.request_drawdown(uow, w.firm, line_id, M("50000"), key="a", now=w.now)
            with pytest.raises(FourEyesViolation, match="made or changed"):
                approvals.approve(uow, maker_now_ops, req.request_id, now=w.now)

    def test_a_role_without_the_right_cannot_approve(self) -> None:
        """A reviewer does not approve disbursements."""
        w = World()
        line_id = w.open_line()
        with w.uow() as uow:
            req = lines.request_drawdown(uow, w.firm, line_id, M("50000"), key="a", now=w.now)
            with pytest.raises(AccessDeniedError):
                approvals.approve(uow, User("r9", Role.REVIEWER), req.request_id, now=w.now)

    def test_rejecting_gives_the_reservation_back(self) -> None:
        """A rejected drawdown frees its amount."""
        w = World()
        line_id = w.open_line("300000")
        with w.uow() as uow:
            req = lines.request_drawdown(uow, w.firm, line_id, M("250000"), key="a", now=w.now)
            out = approvals.reject(uow, w.ops, req.request_id, now=w.now, comment="no invoices")
            line = uow.lines.get(line_id)
        assert out.request.status is ApprovalStatus.REJECTED
        assert line is not None
        assert line.available(w.today) == M("300000")

    def test_the_same_key_returns_the_same_request(self) -> None:
        """A retried drawdown request is one request; the key for another amount conflicts."""
        w = World()
        line_id = w.open_line()
        with w.uow() as uow:
            a = lines.request_drawdown(uow, w.firm, line_id, M("50000"), key="same", now=w.now)
            b = lines.request_drawdown(uow, w.firm, line_id, M("50000"), key="same", now=w.now)
            assert a.request_id == b.request_id
            assert uow.lines.get(line_id).reserved == M("50000")  # type: ignore[union-attr]
            with pytest.raises(IdempotencyConflictError):
                lines.request_drawdown(uow, w.firm, line_id, M("60000"), key="same", now=w.now)

    def test_another_enterprise_cannot_draw(self) -> None:
        """An applicant draws only on its own line."""
        w = World()
        line_id = w.open_line()
        other = User("other", Role.APPLICANT, "91330603MA2B00000X")
        with w.uow() as uow, pytest.raises(AccessDeniedError):
            lines.request_drawdown(uow, other, line_id, M("1000"), key="x", now=w.now)

    def test_the_loan_is_booked_on_the_business_date_not_a_date_asked(self) -> None:
        """Disbursement happens on the business date."""
        w = World()
        line_id = w.open_line()
        w.close_days_until(date(2026, 3, 5))
        loan = w.loan(w.draw(line_id, "10000"))
        assert loan.terms.start_date == date(2026, 3, 5)


class TestLineActions:
    def test_a_frozen_line_refuses_drawdowns_and_pending_disbursements(self) -> None:
        """冻结: no new request, and a request made before the freeze cannot be disbursed."""
        w = World()
        line_id = w.open_line()
        with w.uow() as uow:
            req = lines.request_drawdown(uow, w.firm, line_id, M("50000"), key="a", now=w.now)
            lines.freeze_line(uow, w.risk, line_id, reason="新增被执行人 enforcement", now=w.now)
            uow.commit()
        with w.uow() as uow:
            with pytest.raises(LineNotAvailable, match="frozen"):
                lines.request_drawdown(uow, w.firm, line_id, M("1000"), key="b", now=w.now)
            with pytest.raises(LineNotAvailable):
                approvals.approve(uow, w.ops, req.request_id, now=w.now)
            line = uow.lines.get(line_id)
        assert line is not None
        assert line.status is LineStatus.FROZEN
        assert line.reason == "新增被执行人 enforcement"

    def test_only_a_risk_manager_freezes(self) -> None:
        """Line actions need the right."""
        w = World()
        line_id = w.open_line()
        with w.uow() as uow, pytest.raises(AccessDeniedError):
            lines.freeze_line(uow, w.officer, line_id, reason="x", now=w.now)

    def test_a_reduction_below_what_is_drawn_leaves_nothing_available(self) -> None:
        """压降 to less than utilised: the loans run on, nothing more can be drawn."""
        w = World()
        line_id = w.open_line("300000")
        w.draw(line_id, "200000")
        with w.uow() as uow:
            line = lines.reduce_line(
                uow, w.risk, line_id, M("150000"), reason="sales down 40% YoY", now=w.now
            )
        assert line.available(w.today) == Money.zero()
        assert line.limit == M("150000")


class TestRevolving:
    def test_repaying_a_revolving_line_restores_availability(self) -> None:
        """Principal repaid on a revolving line can be drawn again; on a one-off line not."""
        for kind, back in ((ProductKind.REVOLVING, True), (ProductKind.TERM, False)):
            w = World()
            w.decider.product_kind = kind
            line_id = w.open_line("300000")
            loan_id = w.draw(line_id, "300000")
            w.close_days_until(date(2026, 4, 2))
            paid = w.auto_debit()
            principal = paid.paid[0].principal
            with w.uow() as uow:
                line = uow.lines.get(line_id)
            assert line is not None
            assert principal.is_positive()
            assert line.available(w.today) == (principal if back else Money.zero()), kind
            assert w.loan(loan_id).outstanding == M("300000") - principal
