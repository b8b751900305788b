"""Roles, maker-checker, approval authority, PII masking and tokens (pure code and fakes)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

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
from loomcredit.domain.decision.outcome import CreditDecision
from loomcredit.domain.errors import FourEyesViolation, LoanStateError
from loomcredit.domain.identity import generate_resident_id
from loomcredit.domain.money import Money
from loomcredit.service_layer import origination
from loomcredit.service_layer.decisioning import DecisionRequest
from loomcredit.service_layer.errors import InvalidRequestError
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
        A.READ_ALERTS,  # issue 12: the alerts of their borrowers
        A.WORK_ALERT,
        A.REQUEST_LINE_REDUCTION,
        A.REQUEST_CALL_IN,  # call a borrower's loans in early, for a risk manager to approve
        A.MANAGE_CONTACTS,  # issue 13: registers the contacts the borrower gave in the contract
        A.READ_CONTACTS,
        A.READ_COLLECTIONS,  # sees the cases of their borrowers
        A.PROPOSE_RESTRUCTURE,  # issue 13: a risk manager approves
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
        A.RUN_MONITOR,
        A.READ_ALERTS,
        A.WORK_ALERT,
        A.REQUEST_LINE_REDUCTION,
        A.RUN_LIMIT_REVIEW,  # the monthly limit review; another risk manager approves
        A.REQUEST_CALL_IN,
        A.MANAGE_CONTACTS,
        A.READ_CONTACTS,
        A.READ_COLLECTIONS,
        A.WORK_COLLECTIONS,
        A.ASSIGN_COLLECTIONS,  # moves cases between collectors
        A.REQUEST_LEGAL_ACTION,
        A.APPROVE_LEGAL_ACTION,  # four eyes: never the requester
        A.PROPOSE_RESTRUCTURE,
        A.APPROVE_RESTRUCTURE,  # issue 13: only a risk manager approves a restructuring
        A.RESOLVE_DISPUTE,  # a borrower's dispute of a collection case
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
        A.RUN_MONITOR,
        A.SUBMIT_DATA,
        A.RUN_LIMIT_REVIEW,  # as a month-end batch job
        A.SEND_NOTICES,  # the delivery run of the notice outbox
        A.READ_CONTACTS,
    },
    Role.COLLECTOR: {
        A.READ_LOAN,
        A.READ_BOOK,
        A.READ_OUTBOX,
        A.REQUEST_WRITE_OFF,
        A.READ_ALERTS,
        A.READ_CONTACTS,  # reads, never adds: contact no one the borrower did not register
        A.READ_COLLECTIONS,
        A.WORK_COLLECTIONS,
        A.REQUEST_LEGAL_ACTION,
        A.PROPOSE_RESTRUCTURE,  # issue 13: proposes, never approves
    },
    Role.AUDITOR: {
        A.READ_APPLICATION,
        A.READ_LOAN,
        A.READ_BOOK,
        A.READ_AUDIT,
        A.READ_OUTBOX,
        A.READ_ALERTS,
        A.READ_COLLECTIONS,
    },
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
    """argon2 checks only the right password; a token carries its epoch and ends at expiry."""
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
        with pytest.raises(InvalidRequestError, match="after today"):
            origination.decision_date(uow, w.risk, date(2026, 3, 3), w.now)


def test_a_full_resident_id_read_is_audited_and_a_masked_one_is_not() -> None:
    """A full resident-ID read (officer) is audited; a masked one (reviewer) is not."""
    w = World()
    rid = generate_resident_id("330621", date(1980, 1, 1), random.Random(1))
    with w.uow() as uow:
        app_id = origination.create_application(
            uow,
            w.decider,
            w.officer,
            uscc=USCC,
            amount=Money.parse("100000"),
            term=12,
            method="annuity",
            now=w.now,
            legal_rep_id=rid,
        ).app.app_id
        uow.commit()
    with w.uow() as uow:
        masked = origination.get_application(uow, w.reviewer, app_id, now=w.now)
        full = origination.get_application(uow, w.officer, app_id, now=w.now)
        reads = [r.actor for r in uow.audit.records() if r.action == "pii.read"]
    assert masked.legal_rep_shown == rid[:3] + "*" * 11 + rid[-4:]
    assert full.legal_rep_shown == rid
    assert reads == ["off"]


@dataclass
class CappedDecider(FakeDecider):
    """Sends every application to review with the engine's limit at ``cap``."""

    cap: Money = field(default_factory=lambda: Money.parse("300000"))

    def decide(self, request: DecisionRequest, as_of: date) -> CreditDecision:
        out = super().decide(request, as_of)
        return replace(out, band=Band.REVIEW, limit=self.cap)


def _capped(asked: str, cap: str = "300000") -> tuple[World, int]:
    w = World(decider=CappedDecider(cap=Money.parse(cap)))
    return w, _apply(w, asked)


def test_a_reviewer_cannot_approve_above_the_engine_limit() -> None:
    """Approving more than the engine's limit is refused naming it; the case stays in review."""
    w, app_id = _capped("800000")
    with w.uow() as uow:
        with pytest.raises(InvalidRequestError, match=r"300,000\.00"):
            origination.review(uow, w.reviewer, app_id, "approve", comment="", now=w.now)
        assert uow.applications.get(app_id).status.value == "in_review"  # type: ignore[union-attr]


def test_an_approval_at_the_limit_is_kept_apart_from_the_ask_and_the_contract_lends_it() -> None:
    """The approved amount is kept apart from the amount asked, and the contract lends it."""
    w, app_id = _capped("800000")
    with w.uow() as uow:
        origination.review(
            uow,
            w.reviewer,
            app_id,
            "approve",
            comment="at the limit",
            now=w.now,
            approved=Money.parse("300000"),
        )
        uow.commit()
    with w.uow() as uow:
        offer = origination.contract(uow, w.firm, app_id, now=w.now)
    assert (offer.app.amount, offer.app.approved) == (Money.parse("800000"), Money.parse("300000"))
    lent = sum((i.principal for i in offer.plan.schedule.installments), Money.zero())
    assert lent == Money.parse("300000")


def test_an_approval_cannot_exceed_the_amount_asked() -> None:
    """Even under a higher limit, a reviewer cannot approve more than the applicant asked for."""
    w, app_id = _capped("200000", cap="900000")
    with w.uow() as uow, pytest.raises(InvalidRequestError, match="no larger than"):
        origination.review(
            uow,
            w.reviewer,
            app_id,
            "approve",
            comment="",
            now=w.now,
            approved=Money.parse("200000.01"),
        )


def test_a_risk_managers_exception_above_the_limit_needs_a_comment_and_is_audited() -> None:
    """Above the limit only a risk manager approves, with a comment, audited as an exception."""
    w, app_id = _capped("800000")
    with w.uow() as uow:
        with pytest.raises(InvalidRequestError):
            origination.review(uow, w.risk, app_id, "approve", comment="  ", now=w.now)
        out = origination.review(uow, w.risk, app_id, "approve", comment="新订单已核实", now=w.now)
        [record] = [r for r in uow.audit.records() if r.action == "review.approve"]
    assert (out.app.status.value, out.app.approved) == ("approved", Money.parse("800000"))
    assert record.actor == "rm"
    assert json.loads(record.detail)["exception"] is True


def test_an_applicant_who_asks_for_review_is_the_last_modifier() -> None:
    """Asking for a person clears the automatic approval and makes the applicant a maker."""
    w = World()
    app_id = _apply(w, "100000")
    with w.uow() as uow:
        assert uow.applications.get(app_id).approved == Money.parse("100000")  # type: ignore[union-attr]
        view = origination.request_review(uow, w.firm, app_id, now=w.now)
    assert (view.app.updated_by, view.app.approved) == ("firm", None)
    assert "firm" in view.app.makers


@pytest.mark.parametrize(
    ("field_name", "value", "message"),
    [
        ("legal_rep_id", "123456789012345678", "legal_rep_id 123"),
        ("legal_rep_id", "11010519491231002Y", "not a valid resident ID"),
        ("as_of", date(2026, 3, 3), "after today"),
    ],
)
def test_bad_application_fields_say_what_to_fix(field_name: str, value: Any, message: str) -> None:
    """A bad resident ID (shown masked) or a future as_of is refused before anything is decided."""
    w = World()
    with w.uow() as uow:
        with pytest.raises(InvalidRequestError, match=message) as err:
            origination.create_application(
                uow,
                w.decider,
                w.officer,
                uscc=USCC,
                amount=Money.parse("100000"),
                term=12,
                method="annuity",
                now=w.now,
                **{field_name: value},
            )
        assert uow.applications.find() == []
    assert "123456789012345678" not in str(err.value)
    assert w.decider.asked == []


def test_a_returned_application_is_resubmitted_and_decided_again() -> None:
    """A resubmitted application is decided again, and its changer cannot check it."""
    w = World()
    app_id = _apply(w, "900000")
    dave = User("dave", Role.OFFICER)
    with w.uow() as uow:
        origination.review(uow, w.reviewer, app_id, "return", comment="请补充流水", now=w.now)
        with pytest.raises(LoanStateError):
            origination.review(uow, w.reviewer, app_id, "approve", comment="", now=w.now)
        out = origination.resubmit(
            uow, w.decider, dave, app_id, amount=Money.parse("600000"), term=None, now=w.now
        )
        assert (out.app.status.value, out.app.amount, out.app.updated_by) == (
            "in_review",
            Money.parse("600000"),
            "dave",
        )
        with pytest.raises(FourEyesViolation):
            origination.review(
                uow, User("dave", Role.REVIEWER), app_id, "approve", comment="", now=w.now
            )
        done = origination.review(uow, w.reviewer, app_id, "approve", comment="ok", now=w.now)
        actions = [(r.actor, r.action) for r in uow.audit.records()]
    assert done.app.status.value == "approved"
    assert ("dave", "application.resubmitted") in actions
    assert [req.amount for req, _ in w.decider.asked] == [
        Money.parse("900000"),
        Money.parse("600000"),
    ]


def test_only_a_returned_application_can_be_resubmitted() -> None:
    """Resubmitting one that is still in review is a state conflict."""
    w = World()
    app_id = _apply(w)
    with w.uow() as uow, pytest.raises(LoanStateError):
        origination.resubmit(uow, w.decider, w.officer, app_id, amount=None, term=6, now=w.now)
