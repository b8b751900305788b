"""Roles, maker-checker, approval authority, PII masking and tokens (pure code and fakes)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from tests.fakes import FakeDecider
from tests.world import USCC, World

from loomcredit.adapters.security import (
    BadTokenError,
    hash_password,
    issue_token,
    read_token,
    verify_password,
)
from loomcredit.domain.decision.bands import Band
from loomcredit.domain.errors import FourEyesViolation, LoanStateError
from loomcredit.domain.money import Money
from loomcredit.service_layer import origination
from loomcredit.service_layer.users import (
    PERMISSIONS,
    AccessDeniedError,
    Action,
    Role,
    User,
    can_approve,
    require,
    show_resident_id,
)

NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)
A = Action
# The expected matrix, written from DESIGN.md §5 and issue 11, independently of PERMISSIONS.
MAY = {
    Role.APPLICANT: {
        A.APPLY,
        A.READ_APPLICATION,
        A.ACCEPT_CONTRACT,
        A.REQUEST_DRAWDOWN,
        A.REQUEST_PREPAYMENT,
        A.READ_LOAN,
    },
    Role.OFFICER: {
        A.APPLY,
        A.READ_APPLICATION,
        A.REQUEST_DRAWDOWN,
        A.REQUEST_PREPAYMENT,
        A.READ_LOAN,
        A.READ_BOOK,
    },
    Role.REVIEWER: {A.READ_APPLICATION, A.REVIEW, A.READ_LOAN},
    Role.RISK_MANAGER: {
        A.READ_APPLICATION,
        A.REVIEW,
        A.DECIDE_OTHER_DATE,
        A.READ_LOAN,
        A.READ_BOOK,
        A.MANAGE_LINE,
        A.REQUEST_WRITE_OFF,
        A.APPROVE_WRITE_OFF,
        A.REQUEST_REVERSAL,
        A.APPROVE_REVERSAL,
        A.REQUEST_BACK_VALUE,
        A.APPROVE_BACK_VALUE,
    },
    Role.OPERATIONS: {
        A.READ_APPLICATION,
        A.READ_LOAN,
        A.READ_BOOK,
        A.APPROVE_DISBURSEMENT,
        A.RUN_EOD,
        A.RUN_AUTO_DEBIT,
        A.IMPORT_STATEMENT,
        A.RESOLVE_PAYMENT,
        A.REQUEST_REVERSAL,
        A.READ_OUTBOX,
    },
    Role.COLLECTOR: {A.READ_LOAN, A.READ_BOOK, A.READ_OUTBOX, A.REQUEST_WRITE_OFF},
    Role.AUDITOR: {A.READ_APPLICATION, A.READ_LOAN, A.READ_BOOK, A.READ_AUDIT, A.READ_OUTBOX},
    Role.ADMIN: {A.MANAGE_USERS, A.READ_AUDIT},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_role_matrix(role: Role, action: Action) -> None:
    """Each role may do exactly what the matrix allows and nothing else."""
    user = User("u", role, USCC if role is Role.APPLICANT else None)
    if action in MAY[role]:
        require(user, action)
    else:
        with pytest.raises(AccessDeniedError):
            require(user, action)


def test_auditor_is_read_only() -> None:
    """The auditor role holds only read permissions."""
    assert all(a.value.startswith("read_") for a in PERMISSIONS[Role.AUDITOR])


def test_admin_has_no_business_rights() -> None:
    """An admin manages users and reads the audit; it cannot lend, approve money or run days."""
    assert PERMISSIONS[Role.ADMIN] == {A.MANAGE_USERS, A.READ_AUDIT}


def test_approval_authority_by_amount() -> None:
    """A reviewer approves up to ¥1,000,000; a risk manager above; an officer never."""
    assert can_approve(User("r", Role.REVIEWER), Money.parse("1000000.00"))
    assert not can_approve(User("r", Role.REVIEWER), Money.parse("1000000.01"))
    assert can_approve(User("m", Role.RISK_MANAGER), Money.parse("50000000"))
    assert not can_approve(User("o", Role.OFFICER), Money.parse("1"))


def test_pii_masked_for_roles_without_pii_rights() -> None:
    """A reviewer sees the resident ID masked (first 3, last 4); an officer sees it in full."""
    rid = "330621198001011234"
    assert show_resident_id(User("r", Role.REVIEWER), rid) == ("330***********1234", False)
    assert show_resident_id(User("o", Role.OFFICER), rid) == (rid, True)


def _apply(w: World, amount: str = "800000", *, by: User | None = None) -> int:
    with w.uow() as uow:
        view = origination.create_application(
            uow,
            w.decider,
            by or w.officer,
            uscc=USCC,
            amount=Money.parse(amount),
            term=12,
            method="annuity",
            now=w.now,
        )
        uow.commit()
    return view.app.app_id


def test_maker_cannot_check() -> None:
    """The officer who created an application cannot approve it even holding a reviewer's role."""
    w = World()
    app_id = _apply(w)
    with w.uow() as uow:
        with pytest.raises(FourEyesViolation):
            origination.review(
                uow, User("off", Role.REVIEWER), app_id, "approve", comment="", now=w.now
            )
        out = origination.review(uow, w.reviewer, app_id, "approve", comment="ok", now=w.now)
        actions = [(r.actor, r.action) for r in uow.audit.records()]
    assert out.app.status.value == "approved"
    assert ("rev", "review.approve") in actions


def test_reviewer_cannot_approve_above_authority() -> None:
    """An amount above the reviewer's authority needs a risk manager."""
    w = World()
    app_id = _apply(w, "2000000")
    with w.uow() as uow:
        with pytest.raises(AccessDeniedError):
            origination.review(uow, w.reviewer, app_id, "approve", comment="", now=w.now)
        out = origination.review(uow, w.risk, app_id, "approve", comment="", now=w.now)
    assert out.app.status.value == "approved"


def test_the_decision_is_kept_with_the_application() -> None:
    """What the decider returned is what the application holds."""
    w = World()
    app_id = _apply(w)
    with w.uow() as uow:
        app = uow.applications.get(app_id)
    assert app is not None
    assert app.decision.reasons == ("R1: fake",)
    assert app.decision.band is Band.REVIEW


def test_passwords_and_token_expiry() -> None:
    """argon2 hashes verify only the right password; a token is refused after its expiry and
    carries its epoch."""
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse")
    assert not verify_password(stored, "wrong horse!")
    tok = issue_token("bob", "reviewer", "k" * 32, now=NOW, ttl=timedelta(minutes=5), epoch=3)
    claims = read_token(tok, "k" * 32, now=NOW + timedelta(minutes=4))
    assert (claims["role"], claims["epoch"]) == ("reviewer", "3")
    with pytest.raises(BadTokenError):
        read_token(tok, "k" * 32, now=NOW + timedelta(minutes=5))
    with pytest.raises(BadTokenError):
        read_token(tok, "x" * 32, now=NOW)


def test_applicant_request_for_human_review_lands_in_queue() -> None:
    """A declined applicant asks for a person; the application is back in the review queue."""
    w = World(decider=FakeDecider(auto_max=Money.parse("1"), review_max=Money.parse("1")))
    app_id = _apply(w, "100000", by=w.firm)
    with w.uow() as uow:
        assert uow.applications.get(app_id).status.value == "declined"  # type: ignore[union-attr]
        view = origination.request_review(uow, w.firm, app_id, now=w.now, reason="新订单")
        assert view.app.status.value == "in_review"
        assert [a.app_id for a in origination.review_queue(uow, w.reviewer)] == [app_id]
        with pytest.raises(LoanStateError):
            origination.request_review(uow, w.firm, app_id, now=w.now)


def test_another_applicant_cannot_read_or_accept() -> None:
    """An applicant touches only its own enterprise's applications."""
    w = World()
    app_id = _apply(w, "100000")
    other = replace(w.firm, name="other", enterprise_uscc="91330603MA2B00000A")
    with w.uow() as uow:
        with pytest.raises(AccessDeniedError):
            origination.get_application(uow, other, app_id, now=w.now)
        with pytest.raises(AccessDeniedError):
            origination.accept_contract(
                uow, other, app_id, settlement_account="6222000011112222", now=w.now
            )


def test_decision_date_is_the_business_date_unless_a_risk_manager_asks() -> None:
    """A risk manager may decide as of an earlier date; never a date after today."""
    w = World()
    with w.uow() as uow:
        view = origination.create_application(
            uow,
            w.decider,
            w.officer,
            uscc=USCC,
            amount=Money.parse("100000"),
            term=12,
            method="annuity",
            now=w.now,
        )
        assert view.app.as_of == w.today
        on = origination.decision_date(uow, w.risk, date(2026, 1, 31), w.now)
        assert on == date(2026, 1, 31)
        from loomcredit.service_layer.errors import InvalidRequestError

        with pytest.raises(InvalidRequestError, match="after today"):
            origination.decision_date(uow, w.risk, date(2026, 3, 3), w.now)
