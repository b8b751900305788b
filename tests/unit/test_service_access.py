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
