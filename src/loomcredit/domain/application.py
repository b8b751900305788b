"""The credit application aggregate (授信申请): from the decision through review to the contract.

An :class:`Application` holds what was asked, the engine's :class:`CreditDecision`, the date it
was decided as of, and the workflow state (:class:`ApplicationStatus`) with the transitions the
workflow allows. Maker-checker is a domain rule here: whoever created or last changed an
application cannot review it. Accepting the contract (签约) opens a credit line on it; after that
the application is done (drawdowns happen on the line).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from loomcredit.domain.decision.bands import Band
from loomcredit.domain.decision.outcome import CreditDecision
from loomcredit.domain.errors import FourEyesViolation, InvalidAmount, LoanStateError
from loomcredit.domain.money import Money

__all__ = ["TRANSITIONS", "Application", "ApplicationStatus", "Verdict"]


class ApplicationStatus(StrEnum):
    """Workflow state of an application."""

    IN_REVIEW = "in_review"
    APPROVED = "approved"
    DECLINED = "declined"
    RETURNED = "returned"
    ACCEPTED = "accepted"

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return {
            "in_review": "待审批",
            "approved": "已批准",
            "declined": "已拒绝",
            "returned": "已退回",
            "accepted": "已签约",
        }[self.value]


class Verdict(StrEnum):
    """A reviewer's verdict."""

    APPROVE = "approve"
    DECLINE = "decline"
    RETURN = "return"


_S = ApplicationStatus
TRANSITIONS: dict[ApplicationStatus, frozenset[ApplicationStatus]] = {
    _S.IN_REVIEW: frozenset({_S.APPROVED, _S.DECLINED, _S.RETURNED}),
    _S.APPROVED: frozenset({_S.ACCEPTED, _S.IN_REVIEW}),  # the applicant may ask for a person
    _S.DECLINED: frozenset({_S.IN_REVIEW}),
    _S.RETURNED: frozenset({_S.IN_REVIEW, _S.APPROVED, _S.DECLINED}),  # resubmitted, decided again
    _S.ACCEPTED: frozenset(),
}
_BAND_STATUS = {
    Band.AUTO_APPROVE: _S.APPROVED,
    Band.REVIEW: _S.IN_REVIEW,
    Band.DECLINE: _S.DECLINED,
}


@dataclass(slots=True)
class Application:
    """A credit application and where it is in the workflow.

    Attributes:
        app_id: stored id (0 until stored).
        uscc: the enterprise.
        amount: amount asked.
        term_months: term asked.
        method: repayment method asked.
        decision: the engine's decision (or a referral).
        as_of: the business date the decision was made as of.
        status: workflow state.
        approved: the amount approved (by the engine or a reviewer), None until approved.
        penalty_uplift: the contract's penalty uplift (0.5 is +50 %).
        created_by: the maker.
        updated_by: who last changed it (a resubmission makes the changer a maker too).
        reviewed_by: the reviewer, once reviewed.
        review_comment: the reviewer's comment.
        created_at: when it was made.
        updated_at: when it last changed.
        legal_rep_id: the legal representative's resident ID (plain here; stored encrypted).
        settlement_account: the borrower's settlement account (结算账户), named at signing.
    """

    app_id: int
    uscc: str
    amount: Money
    term_months: int
    method: str
    decision: CreditDecision
    as_of: date
    status: ApplicationStatus
    approved: Money | None
    penalty_uplift: Decimal
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime
    reviewed_by: str | None = None
    review_comment: str | None = None
    legal_rep_id: str | None = None
    settlement_account: str | None = None

    @classmethod
    def submit(
        cls,
        *,
        uscc: str,
        amount: Money,
        term_months: int,
        method: str,
        decision: CreditDecision,
        as_of: date,
        penalty_uplift: Decimal,
        by: str,
        at: datetime,
        legal_rep_id: str | None = None,
    ) -> Application:
        """A new application, already decided: its status follows the band."""
        if not amount.is_positive():
            raise InvalidAmount("an application asks for a positive amount")
        return cls(
            app_id=0,
            uscc=uscc,
            amount=amount,
            term_months=term_months,
            method=method,
            decision=decision,
            as_of=as_of,
            status=_BAND_STATUS[decision.band],
            approved=amount if decision.band is Band.AUTO_APPROVE else None,
            penalty_uplift=penalty_uplift,
            created_by=by,
            updated_by=by,
            created_at=at,
            updated_at=at,
            legal_rep_id=legal_rep_id,
        )

    @property
    def makers(self) -> frozenset[str]:
        """Everyone who made, changed or reviewed it: none of them may approve its money."""
        names = {self.created_by, self.updated_by}
        if self.reviewed_by:
            names.add(self.reviewed_by)
        return frozenset(names)

    @property
    def approved_amount(self) -> Money:
        """The amount approved (the amount asked if none was set, for older records)."""
        return self.approved if self.approved is not None else self.amount

    def _move(self, to: ApplicationStatus, what: str) -> None:
        if to not in TRANSITIONS[self.status]:
            raise LoanStateError(f"application {self.app_id} is {self.status.value}; {what}")
        self.status = to

    def request_person(self, by: str, at: datetime) -> None:
        """The applicant asks for a human review of an automated decision (PIPL Art. 24)."""
        if self.status not in (_S.APPROVED, _S.DECLINED):
            raise LoanStateError(
                f"application {self.app_id} is {self.status.value}; only a decided one can be "
                "reviewed"
            )
        self._move(_S.IN_REVIEW, "it cannot go to review")
        self.approved, self.updated_by, self.updated_at = None, by, at

    def review(
        self, verdict: Verdict, *, by: str, at: datetime, comment: str, approved: Money | None
    ) -> None:
        """A reviewer's verdict; the maker and the last modifier cannot review (maker-checker)."""
        if self.status is not _S.IN_REVIEW:
            raise LoanStateError(f"application {self.app_id} is {self.status.value}, not in review")
        if by in (self.created_by, self.updated_by):
            raise FourEyesViolation(
                "maker-checker: the creator or last modifier cannot review this application"
            )
        target = {Verdict.APPROVE: _S.APPROVED, Verdict.DECLINE: _S.DECLINED}.get(
            verdict, _S.RETURNED
        )
        self._move(target, "it cannot be reviewed")
        if verdict is Verdict.APPROVE:
            self.approved = approved if approved is not None else self.amount
        self.reviewed_by, self.review_comment, self.updated_at = by, comment, at

    def resubmit(
        self,
        *,
        amount: Money,
        term_months: int,
        decision: CreditDecision,
        as_of: date,
        by: str,
        at: datetime,
    ) -> None:
        """A returned application changed and decided again; the changer becomes a maker."""
        if self.status is not _S.RETURNED:
            raise LoanStateError(
                f"application {self.app_id} is {self.status.value}; only a returned one can be "
                "resubmitted"
            )
        self._move(_BAND_STATUS[decision.band], "it cannot be resubmitted")
        self.amount, self.term_months, self.decision, self.as_of = (
            amount,
            term_months,
            decision,
            as_of,
        )
        self.approved = amount if decision.band is Band.AUTO_APPROVE else None
        self.updated_by, self.updated_at = by, at

    def redecide(self, *, decision: CreditDecision, as_of: date, by: str, at: datetime) -> None:
        """A risk manager decides an application in review again as of another date (e.g. a
        month end whose data was complete). The new decision only advises: the application stays
        in review for a person, and the one who re-ran it becomes a maker who cannot review it."""
        if self.status is not _S.IN_REVIEW:
            raise LoanStateError(
                f"application {self.app_id} is {self.status.value}; only one in review can be "
                "decided again as of another date"
            )
        self.decision, self.as_of, self.approved = decision, as_of, None
        self.updated_by, self.updated_at = by, at

    def accept(self, *, settlement_account: str, by: str, at: datetime) -> None:
        """签约 The applicant accepts the contract of an approved application."""
        if self.status is not _S.APPROVED:
            raise LoanStateError(
                f"application {self.app_id} is {self.status.value}; only an approved one can be "
                "accepted"
            )
        self._move(_S.ACCEPTED, "it cannot be accepted")
        self.settlement_account, self.updated_by, self.updated_at = settlement_account, by, at
