"""Use case: people, roles and what each role may do (DESIGN.md §5).

Roles: applicant (an enterprise, sees only itself), officer 客户经理, reviewer 审批人,
risk_manager 风险经理, collector 催收, auditor 审计 (read-only), admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from loomcredit.domain.errors import LoomError
from loomcredit.domain.identity import mask_resident_id, parse_uscc
from loomcredit.domain.money import Money


class Role(StrEnum):
    """A user's role."""

    APPLICANT = "applicant"
    OFFICER = "officer"
    REVIEWER = "reviewer"
    RISK_MANAGER = "risk_manager"
    COLLECTOR = "collector"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Action(StrEnum):
    """Things a user can ask the service to do."""

    APPLY = "apply"
    READ_APPLICATION = "read_application"
    REVIEW = "review"
    ACCEPT_CONTRACT = "accept_contract"
    DISBURSE = "disburse"
    REPAY = "repay"
    READ_LOAN = "read_loan"
    READ_BOOK = "read_book"
    RUN_EOD = "run_eod"
    WRITE_OFF = "write_off"
    READ_AUDIT = "read_audit"
    MANAGE_USERS = "manage_users"
    READ_OUTBOX = "read_outbox"


PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.APPLICANT: frozenset(
        {
            Action.APPLY,
            Action.READ_APPLICATION,
            Action.ACCEPT_CONTRACT,
            Action.REPAY,
            Action.READ_LOAN,
        }
    ),
    Role.OFFICER: frozenset(
        {
            Action.APPLY,
            Action.READ_APPLICATION,
            Action.DISBURSE,
            Action.REPAY,
            Action.READ_LOAN,
            Action.READ_BOOK,
        }
    ),
    Role.REVIEWER: frozenset({Action.READ_APPLICATION, Action.REVIEW, Action.READ_LOAN}),
    Role.RISK_MANAGER: frozenset(
        {
            Action.READ_APPLICATION,
            Action.REVIEW,
            Action.READ_LOAN,
            Action.READ_BOOK,
            Action.WRITE_OFF,
        }
    ),
    Role.COLLECTOR: frozenset({Action.READ_LOAN, Action.READ_BOOK, Action.READ_OUTBOX}),
    Role.AUDITOR: frozenset(
        {
            Action.READ_APPLICATION,
            Action.READ_LOAN,
            Action.READ_BOOK,
            Action.READ_AUDIT,
            Action.READ_OUTBOX,
        }
    ),
    Role.ADMIN: frozenset(
        {Action.RUN_EOD, Action.MANAGE_USERS, Action.READ_AUDIT, Action.READ_BOOK}
    ),
}

#: Approval authority (审批权限): the largest amount each role may approve, in fen; None = no cap.
APPROVAL_LIMIT_FEN: dict[Role, int | None] = {Role.REVIEWER: 100_000_000, Role.RISK_MANAGER: None}

#: Roles that see a full resident ID (each full read is audited); the rest see it masked.
PII_ROLES = frozenset({Role.OFFICER, Role.RISK_MANAGER, Role.APPLICANT})


class AccessDeniedError(LoomError, PermissionError):
    """The user's role does not allow the action, or the record belongs to someone else."""


class UnauthenticatedError(LoomError):
    """No valid credentials were presented."""


@dataclass(frozen=True, slots=True)
class User:
    """An authenticated user."""

    name: str
    role: Role
    enterprise_uscc: str | None = None


def parse_role(text: str) -> Role:
    """A role from its name; unknown names raise ``ValueError`` listing the valid ones."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise ValueError(
            f"unknown role {text!r}; use one of {', '.join(r.value for r in Role)}"
        ) from None


def validate_new_user(name: str, role: Role, enterprise_uscc: str | None) -> str | None:
    """Check a new user; an applicant names a valid USCC. Returns the normalised USCC."""
    if (
        not name
        or len(name) > 64
        or not name.replace("_", "").replace("-", "").replace(".", "").isalnum()
    ):
        raise ValueError("a user name is 1-64 letters, digits, '_', '-' or '.'")
    if role is Role.APPLICANT:
        if not enterprise_uscc:
            raise ValueError("an applicant user needs --enterprise USCC")
        return parse_uscc(enterprise_uscc).code
    return enterprise_uscc


def require(user: User, action: Action) -> None:
    """Raise :class:`AccessDeniedError` unless the user's role allows the action."""
    if action not in PERMISSIONS[user.role]:
        raise AccessDeniedError(f"role {user.role.value} may not {action.value}")


def require_enterprise(user: User, uscc: str) -> None:
    """An applicant may only touch its own enterprise's records."""
    if user.role is Role.APPLICANT and user.enterprise_uscc != uscc:
        raise AccessDeniedError("an applicant may only see its own enterprise")


def can_approve(user: User, amount: Money) -> bool:
    """Whether the user's approval authority covers the amount."""
    if user.role not in APPROVAL_LIMIT_FEN:
        return False
    cap = APPROVAL_LIMIT_FEN[user.role]
    return cap is None or amount.minor <= cap


def show_resident_id(user: User, number: str | None) -> tuple[str | None, bool]:
    """The resident ID as this user may see it, and whether a full (audited) read happened."""
    if number is None:
        return None, False
    if user.role in PII_ROLES:
        return number, True
    return mask_resident_id(number), False
