"""Write-off and reversal through four eyes; role grants through four eyes; disabled users."""

from __future__ import annotations

from datetime import date

import pytest
from tests.world import World

from loomcredit.domain.approval import ReversalOrder, RoleGrantOrder, WriteOffOrder
from loomcredit.domain.errors import FourEyesViolation
from loomcredit.domain.ledger import Account
from loomcredit.domain.loan import LoanStatus
from loomcredit.domain.money import Money
from loomcredit.service_layer import approvals, user_admin
from loomcredit.service_layer.errors import InvalidRequestError
from loomcredit.service_layer.users import AccessDeniedError, Role, UnauthenticatedError, User

M = Money.parse


def _overdue(days: int = 100) -> tuple[World, int]:
    w = World()
    loan_id = w.draw(w.open_line("300000"), "120000")
    w.close_days_until(date(2026, 4, 2))
    w.auto_debit(failing=frozenset({"6222000011112222"}))
    w.close_days_until(date.fromordinal(date(2026, 4, 2).toordinal() + days))
    return w, loan_id


class TestWriteOff:
    def test_a_write_off_needs_a_second_risk_manager_and_takes_everything_off(self) -> None:
        """核销: requested by a collector, approved by a risk manager; principal and the
        receivables leave the books in one entry, booked on the business date."""
        w, loan_id = _overdue(40)
        collector = User("col", Role.COLLECTOR)
        before = w.loan(loan_id)
        owed = (
            before.outstanding
            + before.accrual.interest_receivable
            + before.accrual.penalty_receivable
        )
        assert before.accrual.penalty_receivable.is_positive()
        with w.uow() as uow:
            req = approvals.request_approval(
                uow, collector, WriteOffOrder(loan_id), reason="M2, owner gone", now=w.now
            )
            with pytest.raises(AccessDeniedError):
                approvals.approve(uow, collector, req.request_id, now=w.now)
            out = approvals.approve(uow, w.risk, req.request_id, now=w.now)
            uow.commit()
        assert w.loan(loan_id).status is LoanStatus.WRITTEN_OFF
        with w.uow() as uow:
            balances = uow.ledger.loan_balances(loan_id)
            entry = uow.ledger.entry(out.result)
        zero = Money.zero()
        assert balances[Account.LOAN_PRINCIPAL] == zero
        assert balances[Account.INTEREST_RECEIVABLE] == zero
        assert balances[Account.PENALTY_RECEIVABLE] == zero
        assert balances[Account.WRITE_OFF] == owed
        assert entry is not None
        assert entry.booked_on == w.today

    def test_the_requester_cannot_approve_their_own_write_off(self) -> None:
        w, loan_id = _overdue(10)
        with w.uow() as uow:
            req = approvals.request_approval(
                uow, w.risk, WriteOffOrder(loan_id), reason="x", now=w.now
            )
            with pytest.raises(FourEyesViolation):
                approvals.approve(uow, w.risk, req.request_id, now=w.now)

    def test_a_second_request_for_the_same_loan_waits_for_the_first(self) -> None:
        w, loan_id = _overdue(10)
        with w.uow() as uow:
            approvals.request_approval(uow, w.risk, WriteOffOrder(loan_id), reason="x", now=w.now)
            with pytest.raises(InvalidRequestError, match="already waiting"):
                approvals.request_approval(
                    uow, w.risk2, WriteOffOrder(loan_id), reason="y", now=w.now
                )

    def test_a_reversal_restores_the_loan_exactly(self) -> None:
        """冲正 of a write-off, four eyes again: the books are as before the write-off."""
        w, loan_id = _overdue(10)
        with w.uow() as uow:
            before = uow.ledger.loan_balances(loan_id)
            req = approvals.request_approval(
                uow, w.risk, WriteOffOrder(loan_id), reason="x", now=w.now
            )
            entry_id = approvals.approve(uow, w.risk2, req.request_id, now=w.now).result
            rev = approvals.request_approval(
                uow,
                w.ops,
                ReversalOrder(loan_id, entry_id),
                reason="written off in error",
                now=w.now,
            )
            approvals.approve(uow, w.risk, rev.request_id, now=w.now)
            after = uow.ledger.loan_balances(loan_id)
            uow.commit()
        nonzero = lambda d: {k: v for k, v in d.items() if not v.is_zero()}  # noqa: E731
        assert nonzero(after) == nonzero(before)
        assert w.loan(loan_id).status is LoanStatus.ACTIVE


class TestUsers:
    def _admins(self, w: World) -> tuple[User, User]:
        with w.uow() as uow:
            for name in ("adm1", "adm2"):
                user_admin.create_user(
                    uow,
                    actor="cli:root",
                    name=name,
                    role="admin",
                    password_hash="h",
                    enterprise=None,
                    now=w.now,
                )
            uow.commit()
        return User("adm1", Role.ADMIN), User("adm2", Role.ADMIN)

    def test_one_admin_cannot_grant_a_role_alone(self) -> None:
        """A new officer exists only once a second admin approves."""
        w = World()
        a1, a2 = self._admins(w)
        order = RoleGrantOrder("newbie", "officer", password_hash="$argon2id$x")
        with w.uow() as uow:
            req = approvals.request_approval(
                uow, a1, order, reason="joined Keqiao branch", now=w.now
            )
            assert uow.users.get("newbie") is None
            with pytest.raises(FourEyesViolation):
                approvals.approve(uow, a1, req.request_id, now=w.now)
            approvals.approve(uow, a2, req.request_id, now=w.now)
            account = uow.users.get("newbie")
            records = list(uow.audit.records())
        assert account is not None
        assert account.role is Role.OFFICER
        assert records[-2].action == "user.added"
        assert "adm2" in records[-2].actor

    def test_a_role_change_ends_the_old_tokens(self) -> None:
        """Changing a role raises the token epoch: tokens of the old role stop."""
        w = World()
        a1, a2 = self._admins(w)
        with w.uow() as uow:
            user_admin.create_user(
                uow,
                actor="cli:root",
                name="bo",
                role="officer",
                password_hash="h",
                enterprise=None,
                now=w.now,
            )
            req = approvals.request_approval(
                uow, a1, RoleGrantOrder("bo", "risk_manager"), reason="promoted", now=w.now
            )
            approvals.approve(uow, a2, req.request_id, now=w.now)
            with pytest.raises(UnauthenticatedError, match="revoked"):
                user_admin.token_user(uow, "bo", 0)
            assert user_admin.token_user(uow, "bo", 1).role is Role.RISK_MANAGER

    def test_a_disabled_user_is_refused_at_once(self) -> None:
        """Disabling: its token stops working and it cannot sign in."""
        w = World()
        a1, _ = self._admins(w)
        with w.uow() as uow:
            user_admin.create_user(
                uow,
                actor="cli:root",
                name="eve",
                role="officer",
                password_hash="h",
                enterprise=None,
                now=w.now,
            )
            assert user_admin.token_user(uow, "eve", 0).name == "eve"
            user_admin.disable_user(uow, a1, "eve", reason="left the bank", now=w.now)
            with pytest.raises(UnauthenticatedError, match="disabled"):
                user_admin.token_user(uow, "eve", 1)
            with pytest.raises(UnauthenticatedError):
                user_admin.sign_in(uow, "eve", "pw", lambda h, p: True, now=w.now)
            actions = [r.action for r in uow.audit.records()]
        assert actions[-1] == "auth.failed"

    def test_sign_ins_and_failures_are_audited(self) -> None:
        w = World()
        with w.uow() as uow:
            user_admin.create_user(
                uow,
                actor="cli:root",
                name="ann",
                role="reviewer",
                password_hash="h",
                enterprise=None,
                now=w.now,
            )
            with pytest.raises(UnauthenticatedError):
                user_admin.sign_in(uow, "ann", "bad", lambda h, p: False, now=w.now)
            user_admin.sign_in(uow, "ann", "good", lambda h, p: True, now=w.now)
            actions = [(r.actor, r.action) for r in uow.audit.records()][-2:]
        assert actions == [("ann", "auth.failed"), ("ann", "auth.signed_in")]
