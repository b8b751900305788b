"""Roles, maker-checker, approval authority, PII masking and tokens (pure code and fakes)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from loomcredit.adapters.security import (
    BadTokenError,
    hash_password,
    issue_token,
    read_token,
    verify_password,
)
from loomcredit.domain.errors import LoanStateError
from loomcredit.domain.money import Money
from loomcredit.service_layer import origination
from loomcredit.service_layer.audit import GENESIS, AuditRecord, record_hash, verify_chain
from loomcredit.service_layer.unit_of_work import UnitOfWork
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
# The expected matrix, written from DESIGN.md §5 and the issue, independently of PERMISSIONS.
MAY = {
    Role.APPLICANT: {A.APPLY, A.READ_APPLICATION, A.ACCEPT_CONTRACT, A.REPAY, A.READ_LOAN},
    Role.OFFICER: {A.APPLY, A.READ_APPLICATION, A.DISBURSE, A.REPAY, A.READ_LOAN, A.READ_BOOK},
    Role.REVIEWER: {A.READ_APPLICATION, A.REVIEW, A.READ_LOAN},
    Role.RISK_MANAGER: {A.READ_APPLICATION, A.REVIEW, A.READ_LOAN, A.READ_BOOK, A.WRITE_OFF},
    Role.COLLECTOR: {A.READ_LOAN, A.READ_BOOK, A.READ_OUTBOX},
    Role.AUDITOR: {A.READ_APPLICATION, A.READ_LOAN, A.READ_BOOK, A.READ_AUDIT, A.READ_OUTBOX},
    Role.ADMIN: {A.RUN_EOD, A.MANAGE_USERS, A.READ_AUDIT, A.READ_BOOK},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_role_matrix(role: Role, action: Action) -> None:
    """Each role may do exactly what the matrix allows and nothing else."""
    user = User("u", role, "91330603MA2B00000X" if role is Role.APPLICANT else None)
    if action in MAY[role]:
        require(user, action)
    else:
        with pytest.raises(AccessDeniedError):
            require(user, action)


def test_auditor_is_read_only() -> None:
    """The auditor role holds only read permissions."""
    assert all(a.value.startswith("read_") for a in PERMISSIONS[Role.AUDITOR])


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


class FakeUow(UnitOfWork):
    """In-memory applications and audit only; everything else is unused here."""

    def __init__(self) -> None:
        self.apps: dict[int, dict[str, Any]] = {}
        self.log: list[tuple[str, str]] = []

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def add_application(self, row: dict[str, Any]) -> int:
        self.apps[len(self.apps) + 1] = {**row, "id": len(self.apps) + 1}
        return len(self.apps)

    def get_application(self, app_id: int, *, lock: bool = False) -> dict[str, Any] | None:
        return dict(self.apps[app_id]) if app_id in self.apps else None

    def update_application(self, app_id: int, **fields: Any) -> None:
        self.apps[app_id].update(fields)

    def audit(
        self, actor: str, action: str, subject: str, detail: dict[str, Any], at: datetime
    ) -> None:
        self.log.append((actor, action))

    def __getattr__(self, name: str) -> Any:
        raise NotImplementedError(name)


for _name in list(UnitOfWork.__abstractmethods__):
    if _name not in FakeUow.__dict__:
        setattr(FakeUow, _name, lambda *a, **k: NotImplemented)
FakeUow.__abstractmethods__ = frozenset()


def review_decider(uscc: str, amount: Money, term: int, method: str, as_of: date) -> dict[str, Any]:
    """Every application goes to review."""
    return {
        "band": "review",
        "annual_rate": "0.05",
        "limit": amount.minor,
        "pd": "0.03",
        "reasons": ["R1"],
    }


def _apply(uow: FakeUow, maker: User, amount: str = "500000") -> int:
    row = origination.create_application(
        uow,
        review_decider,
        maker,
        uscc=_uscc(),
        amount=Money.parse(amount),
        term=12,
        method="annuity",
        as_of=date(2026, 1, 5),
        now=NOW,
    )
    return int(row["id"])


def _uscc() -> str:
    import random

    from loomcredit.domain.identity import generate_uscc

    return generate_uscc("330603", random.Random(1))


def test_maker_cannot_check() -> None:
    """The officer who created an application cannot approve it even holding a reviewer's name."""
    uow = FakeUow()
    app_id = _apply(uow, User("alice", Role.OFFICER))
    with pytest.raises(AccessDeniedError):
        origination.review(
            uow, User("alice", Role.REVIEWER), app_id, "approve", comment="", now=NOW
        )
    out = origination.review(
        uow, User("bob", Role.REVIEWER), app_id, "approve", comment="ok", now=NOW
    )
    assert out["status"] == "approved"
    assert ("bob", "review.approve") in uow.log


def test_reviewer_cannot_approve_above_authority() -> None:
    """An amount above the reviewer's authority needs a risk manager."""
    uow = FakeUow()
    app_id = _apply(uow, User("alice", Role.OFFICER), "2000000")
    with pytest.raises(AccessDeniedError):
        origination.review(uow, User("bob", Role.REVIEWER), app_id, "approve", comment="", now=NOW)
    out = origination.review(
        uow, User("carol", Role.RISK_MANAGER), app_id, "approve", comment="", now=NOW
    )
    assert out["status"] == "approved"


def test_decision_record_is_stored_as_returned() -> None:
    """The decision engine's record is stored with the application."""
    uow = FakeUow()
    app_id = _apply(uow, User("alice", Role.OFFICER))
    assert json.loads(uow.apps[app_id]["decision_json"])["reasons"] == ["R1"]


def test_passwords_and_token_expiry() -> None:
    """argon2 hashes verify only the right password; a token is refused after its expiry."""
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse")
    assert not verify_password(stored, "wrong horse!")
    tok = issue_token("bob", "reviewer", "k" * 32, now=NOW, ttl=timedelta(minutes=5))
    assert read_token(tok, "k" * 32, now=NOW + timedelta(minutes=4))["role"] == "reviewer"
    with pytest.raises(BadTokenError):
        read_token(tok, "k" * 32, now=NOW + timedelta(minutes=5))
    with pytest.raises(BadTokenError):
        read_token(tok, "x" * 32, now=NOW)


def _chain(n: int) -> list[AuditRecord]:
    recs, prev = [], GENESIS
    for i in range(1, n + 1):
        h = record_hash(i, NOW, "a", "act", "s", "{}", prev)
        recs.append(AuditRecord(i, NOW, "a", "act", "s", "{}", prev, h))
        prev = h
    return recs


def test_audit_chain_detects_edit_deletion_and_reorder() -> None:
    """An intact chain verifies; an edited, removed or swapped record is found."""
    recs = _chain(5)
    assert verify_chain(recs).ok
    edited = [
        *recs[:2],
        AuditRecord(3, NOW, "a", "act", "s", '{"x":1}', recs[2].prev_hash, recs[2].hash),
        *recs[3:],
    ]
    assert verify_chain(edited).first_bad == 3
    assert not verify_chain(recs[:2] + recs[3:]).ok
    assert not verify_chain([recs[1], recs[0], *recs[2:]]).ok


def test_applicant_request_for_human_review_lands_in_queue() -> None:
    """A declined applicant asks for a person; the application is back in the review queue."""

    def decline(uscc: str, amount: Money, term: int, method: str, as_of: date) -> dict[str, Any]:
        return {
            "band": "decline",
            "annual_rate": "0.05",
            "limit": 0,
            "pd": "0.3",
            "reasons": ["R9"],
        }

    uow = FakeUow()
    firm = User("firm", Role.APPLICANT, _uscc())
    row = origination.create_application(
        uow,
        decline,
        firm,
        uscc=_uscc(),
        amount=Money.parse("100000"),
        term=12,
        method="annuity",
        as_of=date(2026, 1, 5),
        now=NOW,
    )
    assert row["status"] == "declined"
    assert (
        origination.request_review(uow, firm, row["id"], now=NOW, reason="新订单")["status"]
        == "in_review"
    )
    assert ("firm", "review.requested") in uow.log
    with pytest.raises(AccessDeniedError):
        origination.request_review(
            uow, User("x", Role.APPLICANT, "91330603MA2B00000X"), row["id"], now=NOW
        )


def limited_decider(limit_yuan: str) -> Any:
    """Every application goes to review with the engine's limit below what is asked."""

    def decide(uscc: str, amount: Money, term: int, method: str, as_of: date) -> dict[str, Any]:
        return {
            "band": "review",
            "annual_rate": "0.05",
            "limit": Money.parse(limit_yuan).minor,
            "pd": "0.03",
            "reasons": ["R-LIMIT"],
        }

    return decide


def _apply_limited(uow: FakeUow, asked: str, limit: str) -> int:
    row = origination.create_application(
        uow,
        limited_decider(limit),
        User("alice", Role.OFFICER),
        uscc=_uscc(),
        amount=Money.parse(asked),
        term=12,
        method="annuity",
        as_of=date(2026, 1, 5),
        now=NOW,
    )
    return int(row["id"])


def test_reviewer_cannot_approve_above_the_engine_limit() -> None:
    """Asked ¥800,000, limit ¥300,000: approving the amount asked is refused, naming the limit."""
    uow = FakeUow()
    app_id = _apply_limited(uow, "800000", "300000")
    with pytest.raises(origination.InvalidRequestError, match=r"300,000\.00"):
        origination.review(uow, User("bob", Role.REVIEWER), app_id, "approve", comment="", now=NOW)
    assert uow.apps[app_id]["status"] == "in_review"


def test_reviewer_approves_a_lower_amount_and_the_contract_uses_it() -> None:
    """An approval at the limit is stored apart from the amount asked; the contract lends it."""
    uow = FakeUow()
    app_id = _apply_limited(uow, "800000", "300000")
    origination.review(
        uow,
        User("bob", Role.REVIEWER),
        app_id,
        "approve",
        comment="at the limit",
        now=NOW,
        approved=Money.parse("300000"),
    )
    row = uow.apps[app_id]
    assert (row["status"], row["approved_fen"], row["amount_fen"]) == (
        "approved",
        30_000_000,
        80_000_000,
    )
    assert origination.approved_amount(row) == Money.parse("300000")


def test_approval_cannot_exceed_the_amount_asked() -> None:
    """A reviewer cannot approve more than the applicant asked for."""
    uow = FakeUow()
    app_id = _apply_limited(uow, "200000", "900000")
    with pytest.raises(origination.InvalidRequestError, match="no larger than"):
        origination.review(
            uow,
            User("bob", Role.REVIEWER),
            app_id,
            "approve",
            comment="",
            now=NOW,
            approved=Money.parse("200000.01"),
        )


def test_risk_manager_exception_above_the_limit_needs_a_comment() -> None:
    """Only a risk manager approves above the limit, and only with a comment; it is audited."""
    uow = FakeUow()
    app_id = _apply_limited(uow, "800000", "300000")
    risk = User("carol", Role.RISK_MANAGER)
    with pytest.raises(origination.InvalidRequestError):
        origination.review(uow, risk, app_id, "approve", comment="  ", now=NOW)
    out = origination.review(uow, risk, app_id, "approve", comment="新订单已核实", now=NOW)
    assert out["status"] == "approved"
    assert origination.approved_amount(uow.apps[app_id]) == Money.parse("800000")


def test_applicant_who_asks_for_review_is_the_last_modifier() -> None:
    """Asking for a person records the applicant as the last modifier (maker-checker)."""

    def auto(uscc: str, amount: Money, term: int, method: str, as_of: date) -> dict[str, Any]:
        return {"band": "auto_approve", "annual_rate": "0.05", "limit": amount.minor}

    uow, uscc = FakeUow(), _uscc()
    firm = User("firm", Role.APPLICANT, uscc)
    row = origination.create_application(
        uow,
        auto,
        User("alice", Role.OFFICER),
        uscc=uscc,
        amount=Money.parse("100000"),
        term=12,
        method="annuity",
        as_of=date(2026, 1, 5),
        now=NOW,
    )
    assert uow.apps[row["id"]]["approved_fen"] == 10_000_000
    origination.request_review(uow, firm, row["id"], now=NOW)
    assert uow.apps[row["id"]]["updated_by"] == "firm"
    assert uow.apps[row["id"]]["approved_fen"] is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("legal_rep_id", "123456789012345678", "legal_rep_id 123"),
        ("legal_rep_id", "11010519491231002Y", "not a valid resident ID"),
        ("as_of", date(2026, 1, 6), "after today"),
    ],
)
def test_bad_application_fields_say_what_to_fix(field: str, value: Any, message: str) -> None:
    """A resident ID failing its check (shown masked) or a future as_of is refused, nothing kept."""
    uow = FakeUow()
    kwargs: dict[str, Any] = {"as_of": date(2026, 1, 5), field: value}
    with pytest.raises(origination.InvalidRequestError, match=message) as err:
        origination.create_application(
            uow,
            review_decider,
            User("alice", Role.OFFICER),
            uscc=_uscc(),
            amount=Money.parse("100000"),
            term=12,
            method="annuity",
            now=NOW,
            **kwargs,
        )
    assert "123456789012345678" not in str(err.value)
    assert uow.apps == {}


def test_returned_application_is_resubmitted_and_decided_again() -> None:
    """A returned application is changed by the officer, decided again and back in the queue;
    the officer is its last modifier, and a reviewer other than them can then approve it."""
    uow = FakeUow()
    app_id = _apply(uow, User("alice", Role.OFFICER), "900000")
    bob = User("bob", Role.REVIEWER)
    origination.review(uow, bob, app_id, "return", comment="请补充流水", now=NOW)
    with pytest.raises(LoanStateError):
        origination.review(uow, bob, app_id, "approve", comment="", now=NOW)
    out = origination.resubmit(
        uow,
        review_decider,
        User("dave", Role.OFFICER),
        app_id,
        amount=Money.parse("600000"),
        term=None,
        as_of=date(2026, 1, 5),
        now=NOW,
    )
    assert (out["status"], out["amount_fen"], out["updated_by"]) == (
        "in_review",
        60_000_000,
        "dave",
    )
    assert ("dave", "application.resubmitted") in uow.log
    with pytest.raises(AccessDeniedError):
        origination.review(uow, User("dave", Role.REVIEWER), app_id, "approve", comment="", now=NOW)
    assert origination.review(uow, bob, app_id, "approve", comment="ok", now=NOW)["status"] == (
        "approved"
    )


def test_only_a_returned_application_can_be_resubmitted() -> None:
    """Resubmitting one that is still in review is a state conflict."""
    uow = FakeUow()
    app_id = _apply(uow, User("alice", Role.OFFICER))
    with pytest.raises(LoanStateError):
        origination.resubmit(
            uow,
            review_decider,
            User("alice", Role.OFFICER),
            app_id,
            amount=None,
            term=6,
            as_of=date(2026, 1, 5),
            now=NOW,
        )
