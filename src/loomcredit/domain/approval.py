"""Four eyes on every money move (双人复核): a request one person makes and another approves.

An :class:`ApprovalRequest` is made for a disbursement (放款), a write-off (核销), a reversal
(冲正), a back-valued receipt (倒起息), a role grant (授权), a credit line's reduction (压降) or
a restructuring (展期/重组).
It carries a typed order (what will be done when approved), who asked and why, and who may *not*
approve it: the requester and everyone who made or changed the case (an application's maker,
modifier and reviewer). A request is decided once: approved (and then carried out), rejected, or
cancelled.

>>> r = ApprovalRequest.make(WriteOffOrder(7), requested_by="rm1", reason="M7, no recovery",
...                          at=datetime(2026, 3, 1, tzinfo=UTC))
>>> r.approve(by="rm1", at=r.requested_at)
Traceback (most recent call last):
...
loomcredit.domain.errors.FourEyesViolation: approval 0: rm1 asked for it and cannot also approve it
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from loomcredit.domain.errors import ApprovalStateError, FourEyesViolation
from loomcredit.domain.money import Money
from loomcredit.domain.restructuring import RestructurePlan

__all__ = [
    "ApprovalKind",
    "ApprovalRequest",
    "ApprovalStatus",
    "BackValuedReceiptOrder",
    "DrawdownOrder",
    "LegalActionOrder",
    "LineReductionOrder",
    "Order",
    "RestructureOrder",
    "ReversalOrder",
    "RoleGrantOrder",
    "WriteOffOrder",
]


class ApprovalKind(StrEnum):
    """What is to be approved."""

    DISBURSEMENT = "disbursement"
    WRITE_OFF = "write_off"
    REVERSAL = "reversal"
    BACK_VALUE = "back_value"
    ROLE_GRANT = "role_grant"
    LINE_REDUCTION = "line_reduction"
    LIMIT_REVIEW = "limit_review"
    CALL_IN = "call_in"
    LEGAL_ACTION = "legal_action"
    RESTRUCTURE = "restructure"

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return {
            "disbursement": "放款审核",
            "write_off": "核销审批",
            "reversal": "冲正审批",
            "back_value": "倒起息审批",
            "role_grant": "权限授予",
            "line_reduction": "额度压降审批",
            "limit_review": "额度动态调整审批",
            "call_in": "提前到期审批",
            "legal_action": "诉讼审批",
            "restructure": "展期/重组审批",
        }[self.value]


class ApprovalStatus(StrEnum):
    """A request's state: waiting, or decided one way."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class DrawdownOrder:
    """Disburse ``amount`` under credit line ``line_id`` (用信放款), once per ``key``."""

    line_id: int
    amount: Money
    key: str

    kind = ApprovalKind.DISBURSEMENT

    @property
    def subject(self) -> str:
        """What the request is about."""
        return f"line:{self.line_id}"


@dataclass(frozen=True, slots=True)
class WriteOffOrder:
    """Write off loan ``loan_id`` (proposed from collection case ``case_id``; 0: not from one)."""

    loan_id: int
    case_id: int = 0

    kind = ApprovalKind.WRITE_OFF

    @property
    def subject(self) -> str:
        """What the request is about."""
        return f"loan:{self.loan_id}"


@dataclass(frozen=True, slots=True)
class ReversalOrder:
    """Reverse entry ``entry_id`` (a write-off) of loan ``loan_id``."""

    loan_id: int
    entry_id: str

    kind = ApprovalKind.REVERSAL

    @property
    def subject(self) -> str:
        """What the request is about."""
        return f"loan:{self.loan_id}"


@dataclass(frozen=True, slots=True)
class BackValuedReceiptOrder:
    """Book a receipt on loan ``loan_id`` with a value date before the business date: booked
    today with its value date, the loan recomputed from it (倒起息). ``statement_line_id`` names
    the statement line it comes from (0: a receipt the bank confirmed outside a statement)."""

    loan_id: int
    amount: Money
    value_date: date
    bank_ref: str
    statement_line_id: int = 0

    kind = ApprovalKind.BACK_VALUE

    @property
    def subject(self) -> str:
        """What the request is about."""
        return f"loan:{self.loan_id}"


@dataclass(frozen=True, slots=True)
class RoleGrantOrder:
    """Give user ``user_name`` the role ``role`` (creating the user when ``password_hash`` is
    set; an applicant also names its enterprise)."""

    user_name: str
    role: str
    enterprise_uscc: str | None = None
    password_hash: str | None = None

    kind = ApprovalKind.ROLE_GRANT

    @property
    def subject(self) -> str:
        """What the request is about."""
        return f"user:{self.user_name}"


@dataclass(frozen=True, slots=True)
class LineReductionOrder:
    """Lower credit line ``line_id``'s limit to ``new_limit`` (压降), as the action on early-warning
    alert ``alert_id`` (0: not for an alert)."""

    line_id: int
    new_limit: Money
    alert_id: int = 0

    kind = ApprovalKind.LINE_REDUCTION

    @property
    def subject(self) -> str:
        """What the request is about."""
        return f"line:{self.line_id}"


@dataclass(frozen=True, slots=True)
class LimitReviewOrder:
    """Set credit line ``line_id``'s limit to ``new_limit`` (额度动态调整), as proposed by the
    monthly limit review ``review_id`` (its build-up is on the review)."""

    line_id: int
    new_limit: Money
    review_id: int

    kind = ApprovalKind.LIMIT_REVIEW

    @property
    def subject(self) -> str:
        """What the request is about."""
        return f"line:{self.line_id}"


@dataclass(frozen=True, slots=True)
class CallInOrder:
    """Call every active loan of credit line ``line_id`` in early under the contract (宣布提前到期)
    and freeze the line, as the action on early-warning alert ``alert_id`` (0: not for one)."""

    line_id: int
    alert_id: int = 0

    kind = ApprovalKind.CALL_IN

    @property
    def subject(self) -> str:
        """What the request is about."""
        return f"line:{self.line_id}"


@dataclass(frozen=True, slots=True)
class LegalActionOrder:
    """Hand collection case ``case_id`` of borrower ``uscc`` to legal action (诉讼): the case
    closes as handed to legal."""

    case_id: int
    uscc: str

    kind = ApprovalKind.LEGAL_ACTION

    @property
    def subject(self) -> str:
        """What the request is about."""
        return f"case:{self.case_id}"


@dataclass(frozen=True, slots=True)
class RestructureOrder:
    """Restructure loan ``loan_id`` (展期 / 调整还款计划) by ``plan`` on the business date of the
    approval (``domain/restructuring.py``)."""

    loan_id: int
    plan: RestructurePlan

    kind = ApprovalKind.RESTRUCTURE

    @property
    def subject(self) -> str:
        """What the request is about."""
        return f"loan:{self.loan_id}"


Order = (
    DrawdownOrder
    | WriteOffOrder
    | ReversalOrder
    | BackValuedReceiptOrder
    | RoleGrantOrder
    | LineReductionOrder
    | LimitReviewOrder
    | CallInOrder
    | RestructureOrder
    | LegalActionOrder
)


@dataclass(slots=True)
class ApprovalRequest:
    """A request for a second person's approval.

    Attributes:
        request_id: stored id (0 until stored).
        order: what is done when approved.
        requested_by: who asked (may not approve).
        requested_at: when.
        reason: why (required).
        excluded: others who may not approve (makers, modifiers and reviewers of the case).
        status: pending until decided.
        decided_by: who approved or rejected it.
        decided_at: when.
        comment: the decider's comment.
        key: the requester's idempotency key, if any.
    """

    request_id: int
    order: Order
    requested_by: str
    requested_at: datetime
    reason: str
    excluded: frozenset[str] = frozenset()
    status: ApprovalStatus = ApprovalStatus.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    comment: str = ""
    key: str | None = None

    @classmethod
    def make(
        cls,
        order: Order,
        *,
        requested_by: str,
        reason: str,
        at: datetime,
        excluded: frozenset[str] = frozenset(),
        key: str | None = None,
    ) -> ApprovalRequest:
        """A new pending request."""
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        return cls(0, order, requested_by, at, reason.strip(), frozenset(excluded), key=key)

    @property
    def kind(self) -> ApprovalKind:
        """The kind of order."""
        return self.order.kind

    @property
    def subject(self) -> str:
        """What it is about (``loan:7``, ``line:3``, ``user:bob``)."""
        return self.order.subject

    def may_approve(self, user: str) -> bool:
        """Whether ``user`` is neither the requester nor a maker of the case."""
        return user != self.requested_by and user not in self.excluded

    def _decide(self, status: ApprovalStatus, by: str, at: datetime, comment: str) -> None:
        if self.status is not ApprovalStatus.PENDING:
            raise ApprovalStateError(
                f"approval {self.request_id} is already {self.status.value} (by {self.decided_by})"
            )
        self.status, self.decided_by, self.decided_at, self.comment = status, by, at, comment

    def approve(self, *, by: str, at: datetime, comment: str = "") -> None:
        """Approve (four eyes): never the requester, never a maker of the case."""
        if by == self.requested_by:
            raise FourEyesViolation(
                f"approval {self.request_id}: {by} asked for it and cannot also approve it"
            )
        if by in self.excluded:
            raise FourEyesViolation(
                f"approval {self.request_id}: {by} made or changed the case and cannot approve it"
            )
        self._decide(ApprovalStatus.APPROVED, by, at, comment)

    def reject(self, *, by: str, at: datetime, comment: str) -> None:
        """Reject with a comment (anyone who could approve may reject)."""
        if not self.may_approve(by):
            raise FourEyesViolation(
                f"approval {self.request_id}: {by} is party to it and cannot decide it"
            )
        self._decide(ApprovalStatus.REJECTED, by, at, comment)

    def cancel(self, *, by: str, at: datetime, comment: str = "") -> None:
        """The requester withdraws it."""
        if by != self.requested_by:
            raise FourEyesViolation(
                f"approval {self.request_id}: only {self.requested_by} may cancel"
            )
        self._decide(ApprovalStatus.CANCELLED, by, at, comment)
