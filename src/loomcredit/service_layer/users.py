"""People, roles and what each role may do (DESIGN.md §5).

Roles: applicant (an enterprise, sees only itself), officer 客户经理, reviewer 审批人,
risk_manager 风险经理, operations 运营 (放款审核, 代扣, 对账, 日终), collector 催收, auditor 审计
(read-only), admin (users and roles; no business rights).

A money move is requested under one action and approved under another (:data:`APPROVAL_RIGHTS`);
the approver is never the requester (four eyes, ``domain/approval.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from loomcredit.domain.errors import LoomError
from loomcredit.domain.identity import mask_resident_id, parse_uscc
from loomcredit.domain.money import Money
from loomcredit.service_layer.errors import InvalidRequestError


class Role(StrEnum):
    """A user's role."""

    APPLICANT = "applicant"
    OFFICER = "officer"
    REVIEWER = "reviewer"
    RISK_MANAGER = "risk_manager"
    OPERATIONS = "operations"
    COLLECTOR = "collector"
    AUDITOR = "auditor"
    ADMIN = "admin"

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return {
            "applicant": "借款企业",
            "officer": "客户经理",
            "reviewer": "审批人",
            "risk_manager": "风险经理",
            "operations": "运营",
            "collector": "催收",
            "auditor": "审计",
            "admin": "系统管理员",
        }[self.value]


class Action(StrEnum):
    """Things a user can ask the service to do."""

    APPLY = "apply"
    READ_APPLICATION = "read_application"
    REVIEW = "review"
    DECIDE_OTHER_DATE = "decide_other_date"
    ACCEPT_CONTRACT = "accept_contract"
    REQUEST_DRAWDOWN = "request_drawdown"
    APPROVE_DISBURSEMENT = "approve_disbursement"
    REQUEST_PREPAYMENT = "request_prepayment"
    READ_LOAN = "read_loan"
    READ_BOOK = "read_book"
    MANAGE_LINE = "manage_line"
    REQUEST_LINE_REDUCTION = "request_line_reduction"
    RUN_LIMIT_REVIEW = "run_limit_review"
    REQUEST_CALL_IN = "request_call_in"
    PROPOSE_RESTRUCTURE = "propose_restructure"
    APPROVE_RESTRUCTURE = "approve_restructure"
    SUBMIT_DATA = "submit_data"
    RUN_EOD = "run_eod"
    RUN_AUTO_DEBIT = "run_auto_debit"
    IMPORT_STATEMENT = "import_statement"
    RESOLVE_PAYMENT = "resolve_payment"
    REQUEST_WRITE_OFF = "request_write_off"
    APPROVE_WRITE_OFF = "approve_write_off"
    REQUEST_REVERSAL = "request_reversal"
    APPROVE_REVERSAL = "approve_reversal"
    REQUEST_BACK_VALUE = "request_back_value"
    APPROVE_BACK_VALUE = "approve_back_value"
    READ_AUDIT = "read_audit"
    MANAGE_USERS = "manage_users"
    READ_OUTBOX = "read_outbox"
    RUN_MONITOR = "run_monitor"
    READ_ALERTS = "read_alerts"
    WORK_ALERT = "work_alert"
    MANAGE_CONTACTS = "manage_contacts"  # register / retire a borrower's contacts
    READ_CONTACTS = "read_contacts"
    SEND_NOTICES = "send_notices"  # run the notice outbox's delivery
    READ_COLLECTIONS = "read_collections"  # cases, activities, promises, figures
    WORK_COLLECTIONS = "work_collections"  # record contacts and promises on a case
    ASSIGN_COLLECTIONS = "assign_collections"  # move a case to another collector
    REQUEST_LEGAL_ACTION = "request_legal_action"
    APPROVE_LEGAL_ACTION = "approve_legal_action"
    RESOLVE_DISPUTE = "resolve_dispute"  # a borrower's dispute of a collection case


_A = Action
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.APPLICANT: frozenset(
        {
            _A.APPLY,
            _A.READ_APPLICATION,
            _A.ACCEPT_CONTRACT,
            _A.REQUEST_DRAWDOWN,
            _A.REQUEST_PREPAYMENT,
            _A.READ_LOAN,
        }
    ),
    Role.OFFICER: frozenset(
        {
            _A.APPLY,
            _A.READ_APPLICATION,
            _A.REQUEST_DRAWDOWN,
            _A.REQUEST_PREPAYMENT,
            _A.READ_LOAN,
            _A.READ_BOOK,
            _A.READ_ALERTS,
            _A.WORK_ALERT,
            _A.REQUEST_LINE_REDUCTION,
            _A.REQUEST_CALL_IN,
            _A.MANAGE_CONTACTS,
            _A.READ_CONTACTS,
            _A.READ_COLLECTIONS,
            _A.PROPOSE_RESTRUCTURE,
        }
    ),
    Role.REVIEWER: frozenset({_A.READ_APPLICATION, _A.REVIEW, _A.READ_LOAN}),
    Role.RISK_MANAGER: frozenset(
        {
            _A.READ_APPLICATION,
            _A.REVIEW,
            _A.DECIDE_OTHER_DATE,
            _A.READ_LOAN,
            _A.READ_BOOK,
            _A.MANAGE_LINE,
            _A.REQUEST_WRITE_OFF,
            _A.APPROVE_WRITE_OFF,
            _A.REQUEST_REVERSAL,
            _A.APPROVE_REVERSAL,
            _A.REQUEST_BACK_VALUE,
            _A.APPROVE_BACK_VALUE,
            _A.RUN_MONITOR,
            _A.READ_ALERTS,
            _A.WORK_ALERT,
            _A.REQUEST_LINE_REDUCTION,
            _A.RUN_LIMIT_REVIEW,
            _A.REQUEST_CALL_IN,
            _A.MANAGE_CONTACTS,
            _A.READ_CONTACTS,
            _A.READ_COLLECTIONS,
            _A.WORK_COLLECTIONS,
            _A.ASSIGN_COLLECTIONS,
            _A.REQUEST_LEGAL_ACTION,
            _A.APPROVE_LEGAL_ACTION,
            _A.PROPOSE_RESTRUCTURE,
            _A.APPROVE_RESTRUCTURE,
            _A.RESOLVE_DISPUTE,
        }
    ),
    Role.OPERATIONS: frozenset(
        {
            _A.READ_APPLICATION,
            _A.READ_LOAN,
            _A.READ_BOOK,
            _A.APPROVE_DISBURSEMENT,
            _A.RUN_EOD,
            _A.RUN_AUTO_DEBIT,
            _A.IMPORT_STATEMENT,
            _A.RESOLVE_PAYMENT,
            _A.REQUEST_REVERSAL,
            _A.READ_OUTBOX,
            _A.RUN_MONITOR,
            _A.SUBMIT_DATA,
            _A.RUN_LIMIT_REVIEW,
            _A.SEND_NOTICES,
            _A.READ_CONTACTS,
        }
    ),
    Role.COLLECTOR: frozenset(
        {
            _A.READ_LOAN,
            _A.READ_BOOK,
            _A.READ_OUTBOX,
            _A.REQUEST_WRITE_OFF,
            _A.READ_ALERTS,
            _A.READ_CONTACTS,
            _A.READ_COLLECTIONS,
            _A.WORK_COLLECTIONS,
            _A.REQUEST_LEGAL_ACTION,
            _A.PROPOSE_RESTRUCTURE,
        }
    ),
    Role.AUDITOR: frozenset(
        {
            _A.READ_APPLICATION,
            _A.READ_LOAN,
            _A.READ_BOOK,
            _A.READ_AUDIT,
            _A.READ_OUTBOX,
            _A.READ_ALERTS,
            _A.READ_COLLECTIONS,
        }
    ),
    Role.ADMIN: frozenset({_A.MANAGE_USERS, _A.READ_AUDIT}),
}

#: Approval authority (审批权限): the largest amount each role may approve, in fen; None = no cap.
APPROVAL_LIMIT_FEN: dict[Role, int | None] = {Role.REVIEWER: 100_000_000, Role.RISK_MANAGER: None}

#: Roles that see a full resident ID (each full read is audited); the rest see it masked.
PII_ROLES = frozenset({Role.OFFICER, Role.RISK_MANAGER, Role.APPLICANT})

#: Who may approve what another asked for (four eyes): the approval kind's right.
APPROVAL_RIGHTS: dict[str, Action] = {
    "disbursement": Action.APPROVE_DISBURSEMENT,
    "write_off": Action.APPROVE_WRITE_OFF,
    "reversal": Action.APPROVE_REVERSAL,
    "back_value": Action.APPROVE_BACK_VALUE,
    "role_grant": Action.MANAGE_USERS,
    "line_reduction": Action.MANAGE_LINE,
    "limit_review": Action.MANAGE_LINE,
    "call_in": Action.MANAGE_LINE,
    "legal_action": Action.APPROVE_LEGAL_ACTION,
    "restructure": Action.APPROVE_RESTRUCTURE,
}


class AccessDeniedError(LoomError, PermissionError):
    """The user's role does not allow the action, or the record belongs to someone else.

    ``user`` and ``action`` say who was refused what (the refusal is audited at the edge)."""

    def __init__(self, message: str, *, user: str = "", action: str = "") -> None:
        super().__init__(message)
        self.user = user
        self.action = action


class UnauthenticatedError(LoomError):
    """No valid credentials were presented."""


@dataclass(frozen=True, slots=True)
class User:
    """An authenticated user."""

    name: str
    role: Role
    enterprise_uscc: str | None = None


@dataclass(slots=True)
class UserAccount:
    """A stored user: role, enterprise (applicants), password hash, when created, whether
    disabled, and the token epoch (raised to make every token issued before stop working)."""

    name: str
    role: Role
    enterprise_uscc: str | None
    password_hash: str
    created_at: datetime
    disabled_at: datetime | None = None
    token_epoch: int = 0

    @property
    def user(self) -> User:
        """The user as the use cases see it."""
        return User(self.name, self.role, self.enterprise_uscc)

    @property
    def is_enabled(self) -> bool:
        """Not disabled."""
        return self.disabled_at is None


def parse_role(text: str) -> Role:
    """A role from its name; unknown names raise ``ValueError`` listing the valid ones."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise InvalidRequestError(
            f"unknown role {text!r}; use one of {', '.join(r.value for r in Role)}"
        ) from None


def validate_new_user(name: str, role: Role, enterprise_uscc: str | None) -> str | None:
    """Check a new user; an applicant names a valid USCC. Returns the normalised USCC."""
    if (
        not name
        or len(name) > 64
        or not name.replace("_", "").replace("-", "").replace(".", "").isalnum()
    ):
        raise InvalidRequestError("a user name is 1-64 letters, digits, '_', '-' or '.'")
    if role is Role.APPLICANT:
        if not enterprise_uscc:
            raise InvalidRequestError("an applicant user needs --enterprise USCC")
        return parse_uscc(enterprise_uscc).code
    return enterprise_uscc


def may(user: User, action: Action) -> bool:
    """Whether the user's role allows the action."""
    return action in PERMISSIONS[user.role]


def require(user: User, action: Action) -> None:
    """Raise :class:`AccessDeniedError` unless the user's role allows the action."""
    if action not in PERMISSIONS[user.role]:
        raise AccessDeniedError(
            f"role {user.role.value} may not {action.value}", user=user.name, action=action.value
        )


def require_enterprise(user: User, uscc: str) -> None:
    """An applicant may only touch its own enterprise's records."""
    if user.role is Role.APPLICANT and user.enterprise_uscc != uscc:
        raise AccessDeniedError(
            "an applicant may only see its own enterprise", user=user.name, action="read_other"
        )


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
